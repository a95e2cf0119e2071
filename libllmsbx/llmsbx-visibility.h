/* llmsbx-visibility.h: the export macro. The library is built with
 * -fvisibility=hidden, so only declarations marked here are exported. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#if defined(LLMSBX_COMPILATION) && defined(__GNUC__)
# define LLMSBX_AVAILABLE_IN_ALL __attribute__((visibility("default"))) extern
#else
# define LLMSBX_AVAILABLE_IN_ALL extern
#endif
