/* llmsbx-dbus-errors.c: the D-Bus names of the errors of sessions and services.
 *
 * Every LLMSBX_ERROR and LLMSBX_SERVICE_ERROR code travels as
 * org.llmsbx.Sandbox1.Error.<Name>, so a client tells a timeout from a
 * refused policy by name, and a GLib client that registers the same table
 * gets the GError back in its own domain. */
#include <llmsbx.h>

#include "llmsbx-dbus-errors.h"
#include "llmsbx-service-error.h"

#define E(code, name) { code, LLMSBX_DBUS_ERROR_PREFIX name }

static const GDBusErrorEntry session_errors[] = {
  E (LLMSBX_ERROR_FAILED, "Failed"),
  E (LLMSBX_ERROR_INVALID_ARGUMENT, "InvalidArgument"),
  E (LLMSBX_ERROR_TIMEOUT, "Timeout"),
  E (LLMSBX_ERROR_SECURITY_VIOLATION, "SecurityViolation"),
  E (LLMSBX_ERROR_LIBRARY_INSTALLATION_NOT_SUPPORTED, "LibraryInstallationNotSupported"),
  E (LLMSBX_ERROR_BACKEND_UNAVAILABLE, "BackendUnavailable"),
  E (LLMSBX_ERROR_BACKEND_NOT_SUPPORTED, "BackendNotSupported"),
  E (LLMSBX_ERROR_IMAGE_NOT_FOUND, "ImageNotFound"),
  E (LLMSBX_ERROR_IMAGE_BUILD_FAILED, "ImageBuildFailed"),
  E (LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED, "LanguageNotSupported"),
  E (LLMSBX_ERROR_NOT_OPEN, "NotOpen"),
  E (LLMSBX_ERROR_CONTAINER_FAILED, "ContainerFailed"),
  E (LLMSBX_ERROR_COMMAND_EMPTY, "CommandEmpty"),
  E (LLMSBX_ERROR_PATH_TRAVERSAL, "PathTraversal"),
  E (LLMSBX_ERROR_FILE_NOT_FOUND, "FileNotFound"),
  E (LLMSBX_ERROR_PLUGIN, "Plugin"),
  E (LLMSBX_ERROR_PROTOCOL, "Protocol"),
  E (LLMSBX_ERROR_SESSION_EXPIRED, "SessionExpired"),
  E (LLMSBX_ERROR_LIBRARY_INSTALLATION_FAILED, "LibraryInstallationFailed"),
  E (LLMSBX_ERROR_COMMAND_NOT_STARTED, "CommandNotStarted"),
  E (LLMSBX_ERROR_LIMIT_EXCEEDED, "LimitExceeded"),
};

static const GDBusErrorEntry service_errors[] = {
  E (LLMSBX_SERVICE_ERROR_NO_SUCH_SESSION, "NoSuchSession"),
  E (LLMSBX_SERVICE_ERROR_ACCESS_DENIED, "AccessDenied"),
  E (LLMSBX_SERVICE_ERROR_LIMIT_REACHED, "LimitReached"),
  E (LLMSBX_SERVICE_ERROR_SHUTTING_DOWN, "ShuttingDown"),
};

/**
 * llmsbx_dbus_errors_register:
 *
 * Registers the names of %LLMSBX_ERROR and %LLMSBX_SERVICE_ERROR with GDBus,
 * once; the daemon and its GLib clients call it.
 */
void
llmsbx_dbus_errors_register (void)
{
  static gsize session_quark = 0;
  static gsize service_quark = 0;

  /* The quark names of the domains, so the registrations are theirs. */
  g_dbus_error_register_error_domain (g_quark_to_string (LLMSBX_ERROR), &session_quark,
                                      session_errors, G_N_ELEMENTS (session_errors));
  g_dbus_error_register_error_domain (g_quark_to_string (LLMSBX_SERVICE_ERROR), &service_quark,
                                      service_errors, G_N_ELEMENTS (service_errors));
}
