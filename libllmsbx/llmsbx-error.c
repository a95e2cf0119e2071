/* llmsbx-error.c: the LLMSBX_ERROR domain. */
#include "config.h"

#include "llmsbx-error.h"

/**
 * llmsbx_error_quark:
 *
 * Returns: the quark of the %LLMSBX_ERROR domain.
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (llmsbx-error-quark, llmsbx_error)
