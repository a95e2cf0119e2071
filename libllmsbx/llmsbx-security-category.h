/* llmsbx-security-category.h: what a dangerous pattern or module gives code access to. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

/**
 * LlmsbxSecurityCategory:
 * @LLMSBX_SECURITY_CATEGORY_COMMAND_EXECUTION: running programs or shell commands;
 *   for modules, processes and the operating system
 * @LLMSBX_SECURITY_CATEGORY_NATIVE_CODE: native code, raw system calls, unsafe memory
 * @LLMSBX_SECURITY_CATEGORY_DYNAMIC_CODE: evaluating code made at run time (`eval`)
 * @LLMSBX_SECURITY_CATEGORY_DYNAMIC_IMPORT: loading modules or classes by computed
 *   names, reflection
 * @LLMSBX_SECURITY_CATEGORY_FILE_DELETION: deleting files
 * @LLMSBX_SECURITY_CATEGORY_FILE_WRITE: writing files
 * @LLMSBX_SECURITY_CATEGORY_NETWORK_SOCKET: network sockets
 * @LLMSBX_SECURITY_CATEGORY_NETWORK_HTTP: HTTP and URL access
 * @LLMSBX_SECURITY_CATEGORY_FILE_SYSTEM: modules that manipulate the file system
 * @LLMSBX_SECURITY_CATEGORY_DESERIALIZATION: unsafe deserialisation
 *
 * What a language's dangerous pattern or module gives code access to. A language
 * handler lists its patterns and restricted modules by category
 * (llmsbx_language_handler_get_security_catalogue()), and each security preset
 * says which categories it blocks and how severely, so the presets work for
 * every language that has a handler, including one an application registers.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_SECURITY_CATEGORY_COMMAND_EXECUTION,
  LLMSBX_SECURITY_CATEGORY_NATIVE_CODE,
  LLMSBX_SECURITY_CATEGORY_DYNAMIC_CODE,
  LLMSBX_SECURITY_CATEGORY_DYNAMIC_IMPORT,
  LLMSBX_SECURITY_CATEGORY_FILE_DELETION,
  LLMSBX_SECURITY_CATEGORY_FILE_WRITE,
  LLMSBX_SECURITY_CATEGORY_NETWORK_SOCKET,
  LLMSBX_SECURITY_CATEGORY_NETWORK_HTTP,
  LLMSBX_SECURITY_CATEGORY_FILE_SYSTEM,
  LLMSBX_SECURITY_CATEGORY_DESERIALIZATION,
} LlmsbxSecurityCategory;

/**
 * LLMSBX_SECURITY_N_CATEGORIES:
 *
 * The number of values of #LlmsbxSecurityCategory.
 *
 * Since: 0.1
 */
#define LLMSBX_SECURITY_N_CATEGORIES (LLMSBX_SECURITY_CATEGORY_DESERIALIZATION + 1)

G_END_DECLS
