/* llmsbx-engine-client.h: HTTP/1.1 client of the Docker Engine API (and Podman's
 * compatible API) over libcurl. */
#pragma once

#include <json-glib/json-glib.h>
#include <llmsbx.h>

G_BEGIN_DECLS

/* Errors the engine answered with: the code is the HTTP status, the message
 * the daemon's own. Backends turn them into LLMSBX_ERROR codes. */
#define LLMSBX_ENGINE_ERROR (llmsbx_engine_error_quark ())
GQuark llmsbx_engine_error_quark (void);

/* Whether @message, an engine's failure, is Podman 4's storage losing a race
 * with another client's removal: an image or layer it listed a moment before
 * is gone ("image not known", "layer not known"). What failed so is sound,
 * and is asked again. */
gboolean llmsbx_engine_is_storage_race (const char *message);

/* Newest API version this client speaks, and the oldest it accepts. Docker 29
 * refuses clients older than 1.44; every field this client sends or reads
 * means the same from 1.41 to 1.45. */
#define LLMSBX_ENGINE_API_VERSION_MAX "1.45"
#define LLMSBX_ENGINE_API_VERSION_MIN "1.24"

/**
 * LlmsbxEngineSettings:
 * @url: `unix:///path`, `tcp://host:port`, `http://host:port` or `https://host:port`
 * @tls_ca_file: (nullable): CA that signed the engine's certificate
 * @tls_cert_file: (nullable): client certificate
 * @tls_key_file: (nullable): client key
 * @use_tls: speak TLS to a `tcp://` URL
 * @tls_verify: check the engine's certificate and name
 * @connect_timeout: seconds; 0 for libcurl's default
 * @request_timeout: seconds a request without a body function may go without
 *   anything arriving before it fails; 0 for no bound
 *
 * Where and how to reach the engine.
 */
typedef struct {
  char    *url;
  char    *tls_ca_file;
  char    *tls_cert_file;
  char    *tls_key_file;
  gboolean use_tls;
  gboolean tls_verify;
  double   connect_timeout;
  double   request_timeout;
} LlmsbxEngineSettings;

void llmsbx_engine_settings_clear (LlmsbxEngineSettings *settings);

/**
 * LlmsbxEngineBodyFunc:
 * @data: (array length=length): the next piece of the response body
 * @length: its size
 * @user_data: closure data
 * @error: return location for a #GError; setting it aborts the request
 *
 * Receives the body of a successful streamed response as it arrives.
 *
 * Returns: %FALSE (with @error set) to abort the request
 */
typedef gboolean (*LlmsbxEngineBodyFunc) (const guint8  *data,
                                          gsize          length,
                                          gpointer       user_data,
                                          GError       **error);

/**
 * LlmsbxEngineLineFunc:
 * @line: one JSON value of a JSON-lines response
 * @user_data: closure data
 * @error: return location for a #GError; setting it aborts the request
 *
 * Returns: %FALSE (with @error set) to abort the request
 */
typedef gboolean (*LlmsbxEngineLineFunc) (JsonNode  *line,
                                          gpointer   user_data,
                                          GError   **error);

/**
 * LlmsbxEngineRequest:
 * @method: HTTP method
 * @path: path and query below the version prefix, e.g. `/containers/create?name=x`
 * @content_type: (nullable): type of @body
 * @body: (nullable): request body
 * @body_func: (nullable): receives a successful response's body as it arrives,
 *   instead of it being buffered
 * @body_func_data: data for @body_func
 * @max_response: bound of a buffered response body; 0 for the default (16 MiB)
 * @deadline: monotonic time (µs) at which the request fails with
 *   %LLMSBX_ERROR_TIMEOUT; 0 for none
 *
 * One request to the engine.
 */
typedef struct {
  const char           *method;
  const char           *path;
  const char           *content_type;
  GBytes               *body;
  LlmsbxEngineBodyFunc  body_func;
  gpointer              body_func_data;
  gsize                 max_response;
  gint64                deadline;
} LlmsbxEngineRequest;

typedef struct _LlmsbxEngineClient LlmsbxEngineClient;

/**
 * LlmsbxEngineRequestHook:
 * @user_data: closure data
 *
 * Called once for every request sent to the engine.
 */
typedef void (*LlmsbxEngineRequestHook) (gpointer user_data);

LlmsbxEngineClient *llmsbx_engine_client_new        (const LlmsbxEngineSettings *settings,
                                                     const char                 *engine_name,
                                                     LlmsbxEngineRequestHook     hook,
                                                     gpointer                    hook_data,
                                                     GError                    **error);
LlmsbxEngineClient *llmsbx_engine_client_ref        (LlmsbxEngineClient         *self);
void                llmsbx_engine_client_unref      (LlmsbxEngineClient         *self);

gboolean            llmsbx_engine_client_negotiate  (LlmsbxEngineClient         *self,
                                                     GCancellable               *cancellable,
                                                     GError                    **error);

gboolean            llmsbx_engine_client_send       (LlmsbxEngineClient         *self,
                                                     const LlmsbxEngineRequest  *request,
                                                     guint                      *status,
                                                     GBytes                    **response,
                                                     GCancellable               *cancellable,
                                                     GError                    **error);
JsonNode           *llmsbx_engine_client_json       (LlmsbxEngineClient         *self,
                                                     const char                 *method,
                                                     const char                 *path,
                                                     JsonNode                   *body,
                                                     GCancellable               *cancellable,
                                                     GError                    **error);
gboolean            llmsbx_engine_client_send_upgraded (LlmsbxEngineClient      *self,
                                                        const LlmsbxEngineRequest *request,
                                                        GBytes                  *input,
                                                        GCancellable            *cancellable,
                                                        GError                 **error);
typedef struct _LlmsbxEngineConnection LlmsbxEngineConnection;

LlmsbxEngineConnection *llmsbx_engine_client_open_upgraded (LlmsbxEngineClient        *self,
                                                            const LlmsbxEngineRequest *request,
                                                            GCancellable              *cancellable,
                                                            GError                   **error);
gboolean            llmsbx_engine_connection_send   (LlmsbxEngineConnection     *self,
                                                     const guint8               *data,
                                                     gsize                       length,
                                                     gint64                      deadline,
                                                     GCancellable               *cancellable,
                                                     GError                    **error);
void                llmsbx_engine_connection_close_write (LlmsbxEngineConnection *self);
GBytes             *llmsbx_engine_connection_recv   (LlmsbxEngineConnection     *self,
                                                     gint64                      deadline,
                                                     GCancellable               *cancellable,
                                                     GError                    **error);
void                llmsbx_engine_connection_free   (LlmsbxEngineConnection     *self);
JsonNode           *llmsbx_engine_client_json_before (LlmsbxEngineClient       *self,
                                                      const char               *method,
                                                      const char               *path,
                                                      JsonNode                 *body,
                                                      gint64                    deadline,
                                                      GCancellable             *cancellable,
                                                      GError                  **error);
gboolean            llmsbx_engine_client_json_lines (LlmsbxEngineClient         *self,
                                                     const char                 *method,
                                                     const char                 *path,
                                                     const char                 *content_type,
                                                     GBytes                     *body,
                                                     LlmsbxEngineLineFunc        line_func,
                                                     gpointer                    line_func_data,
                                                     GCancellable               *cancellable,
                                                     GError                    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxEngineClient, llmsbx_engine_client_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LlmsbxEngineConnection, llmsbx_engine_connection_free)

G_END_DECLS
