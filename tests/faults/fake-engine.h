/* fake-engine.h: an Engine API server in the test process that answers like
 * a healthy Docker daemon, or fails on purpose where a rule says so.
 *
 * It listens on a unix socket in a directory of its own and serves every
 * connection on a thread of its own; fake_engine_free() stops them all and
 * joins them, so a test can count threads and descriptors around it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  FAKE_FAULT_NONE,
  FAKE_FAULT_SILENT,          /* reads the request and never answers */
  FAKE_FAULT_SLOW,            /* the normal answer, one byte at a time */
  FAKE_FAULT_GARBAGE,         /* bytes that are not HTTP, then closes */
  FAKE_FAULT_ENDLESS_BODY,    /* 200, then a body that never ends */
  FAKE_FAULT_ENDLESS_HEADER,  /* a status line, then header lines that never end */
  FAKE_FAULT_ERROR_JSON,      /* 500 with Docker's {"message": ...} */
  FAKE_FAULT_ERROR_EMPTY,     /* 500 without a body */
  FAKE_FAULT_ERROR_HTML,      /* 502 with a proxy's HTML page */
  FAKE_FAULT_DROP,            /* the normal answer cut after drop_after body bytes */
  FAKE_FAULT_VANISH,          /* 404: no such container (or exec) */
  FAKE_FAULT_DEEP_JSON,       /* 200 with JSON arrays nested 200 000 deep */
  FAKE_FAULT_DEEP_ERROR,      /* 500 with JSON arrays nested 60 000 deep */
  FAKE_FAULT_RUNNING,         /* exec inspect: the command is still running */
  FAKE_FAULT_STORAGE_RACE,    /* Podman 4's storage racing a removal: for a build, 200 and a
                               * "layer not known" error line; else 500 "image not known" */
} FakeFault;

/**
 * FakeRule:
 * @method: (nullable): the request's method, %NULL for any
 * @path: a g_pattern_match_simple() pattern over the path, without the
 *   version prefix and the query, e.g. `/exec/\*\/json`
 * @skip: matching requests answered normally before the fault starts
 * @times: how many requests get the fault; 0 for all that follow
 * @fault: what to do instead of answering normally
 * @drop_after: for %FAKE_FAULT_DROP, the body bytes sent before closing
 * @slow_interval_ms: for %FAKE_FAULT_SLOW, the pause after each byte
 */
typedef struct {
  const char *method;
  const char *path;
  guint       skip;
  guint       times;
  FakeFault   fault;
  gsize       drop_after;
  guint       slow_interval_ms;
} FakeRule;

typedef struct _FakeEngine FakeEngine;

FakeEngine *fake_engine_new              (void);
void        fake_engine_free             (FakeEngine      *self);
const char *fake_engine_get_url          (FakeEngine      *self);
void        fake_engine_add_rule         (FakeEngine      *self,
                                          const FakeRule  *rule);
void        fake_engine_set_exec_output  (FakeEngine      *self,
                                          GBytes          *stream);
guint       fake_engine_count            (FakeEngine      *self,
                                          const char      *method,
                                          const char      *path);

/* Output frames of the engine's multiplexed exec stream. */
GBytes     *fake_engine_frames           (const char      *stdout_text,
                                          const char      *stderr_text);

/* What Podman 4's builder says when a removal races its cache lookup. */
#define FAKE_ENGINE_STORAGE_RACE \
  "checking if cached image exists from a previous build: getting top layer info: layer not known"

#define FAKE_ENGINE_INSPECT_RACE \
  "failed to convert ImageData to ImageInspect 'fake:latest': reading image \\\"0123\\\": " \
  "locating image with ID \\\"0123\\\": image not known"

/* The container id every create answers with. */
#define FAKE_ENGINE_CONTAINER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeEngine, fake_engine_free)

G_END_DECLS
