/* llmsbx-execution-result.h: what a run or a command produced. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib-object.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_TYPE_EXECUTION_RESULT (llmsbx_execution_result_get_type ())
LLMSBX_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (LlmsbxExecutionResult, llmsbx_execution_result, LLMSBX, EXECUTION_RESULT, GObject)

LLMSBX_AVAILABLE_IN_ALL
LlmsbxExecutionResult *llmsbx_execution_result_new (int      exit_code,
                                                    GBytes  *stdout_bytes,
                                                    GBytes  *stderr_bytes,
                                                    gboolean truncated,
                                                    double   duration);

LLMSBX_AVAILABLE_IN_ALL
int          llmsbx_execution_result_get_exit_code    (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean     llmsbx_execution_result_get_success      (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
const char  *llmsbx_execution_result_get_stdout       (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
const char  *llmsbx_execution_result_get_stderr       (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
GBytes      *llmsbx_execution_result_get_stdout_bytes (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
GBytes      *llmsbx_execution_result_get_stderr_bytes (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean     llmsbx_execution_result_get_truncated    (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean     llmsbx_execution_result_get_oom_killed   (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
double       llmsbx_execution_result_get_duration     (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray   *llmsbx_execution_result_get_plots        (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean     llmsbx_execution_result_get_plots_dropped (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
GPtrArray   *llmsbx_execution_result_get_files        (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
gboolean     llmsbx_execution_result_get_files_dropped (LlmsbxExecutionResult *self);
LLMSBX_AVAILABLE_IN_ALL
char        *llmsbx_execution_result_to_json          (LlmsbxExecutionResult *self);

G_END_DECLS
