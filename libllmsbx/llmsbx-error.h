/* llmsbx-error.h: the LLMSBX_ERROR domain. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

#define LLMSBX_ERROR (llmsbx_error_quark ())

/**
 * LlmsbxError:
 * @LLMSBX_ERROR_FAILED: a failure with no more specific code.
 * @LLMSBX_ERROR_INVALID_ARGUMENT: a parameter or configuration value is not valid.
 * @LLMSBX_ERROR_TIMEOUT: an execution or the session's lifetime ran out.
 * @LLMSBX_ERROR_SECURITY_VIOLATION: the security policy refused code or a library.
 * @LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED: libraries cannot be installed in this session
 *   (environment setup skipped, or the language has no package manager).
 * @LLMSBX_ERROR_BACKEND_UNAVAILABLE: the container engine or cluster cannot be reached.
 * @LLMSBX_ERROR_BACKEND_NOT_SUPPORTED: no backend plugin of that name is installed.
 * @LLMSBX_ERROR_IMAGE_NOT_FOUND: the image is not present and could not be pulled.
 * @LLMSBX_ERROR_IMAGE_BUILD_FAILED: building an image from a Dockerfile failed.
 * @LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED: no language handler of that name is registered.
 * @LLMSBX_ERROR_NOT_OPEN: the session is not open.
 * @LLMSBX_ERROR_CONTAINER_FAILED: the engine refused or failed an operation on the sandbox.
 * @LLMSBX_ERROR_COMMAND_EMPTY: an empty command was given.
 * @LLMSBX_ERROR_PATH_TRAVERSAL: a path tried to escape its directory.
 * @LLMSBX_ERROR_FILE_NOT_FOUND: a file to copy does not exist.
 * @LLMSBX_ERROR_PLUGIN: a plugin could not be loaded (wrong ABI, missing entry point, failed init).
 * @LLMSBX_ERROR_PROTOCOL: the engine answered something this library cannot understand.
 * @LLMSBX_ERROR_SESSION_EXPIRED: the session outlived its session-timeout and was closed.
 * @LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED: the package manager failed to install a library.
 * @LLMSBX_ERROR_COMMAND_NOT_STARTED: the engine could not start a command in a running
 *   sandbox: its program or working directory is missing or not executable, or no
 *   process could be started (the sandbox is at its `pids_limit`).
 * @LLMSBX_ERROR_LIMIT_EXCEEDED: a copy is larger than the session's copy-limit.
 *
 * Error codes of the %LLMSBX_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum {
  LLMSBX_ERROR_FAILED,
  LLMSBX_ERROR_INVALID_ARGUMENT,
  LLMSBX_ERROR_TIMEOUT,
  LLMSBX_ERROR_SECURITY_VIOLATION,
  LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED,
  LLMSBX_ERROR_BACKEND_UNAVAILABLE,
  LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
  LLMSBX_ERROR_IMAGE_NOT_FOUND,
  LLMSBX_ERROR_IMAGE_BUILD_FAILED,
  LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
  LLMSBX_ERROR_NOT_OPEN,
  LLMSBX_ERROR_CONTAINER_FAILED,
  LLMSBX_ERROR_COMMAND_EMPTY,
  LLMSBX_ERROR_PATH_TRAVERSAL,
  LLMSBX_ERROR_FILE_NOT_FOUND,
  LLMSBX_ERROR_PLUGIN,
  LLMSBX_ERROR_PROTOCOL,
  LLMSBX_ERROR_SESSION_EXPIRED,
  LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED,
  LLMSBX_ERROR_COMMAND_NOT_STARTED,
  LLMSBX_ERROR_LIMIT_EXCEEDED,
} LlmsbxError;

LLMSBX_AVAILABLE_IN_ALL
GQuark llmsbx_error_quark (void);

G_END_DECLS
