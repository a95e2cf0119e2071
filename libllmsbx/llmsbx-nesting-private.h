/* llmsbx-nesting-private.h: untrusted JSON and GVariant values checked before anything recurses through them.
 *
 * json-glib 1.6's parser, json_gvariant_deserialize(), json_node_unref(),
 * g_variant_print() and g_variant_unref() all recurse once per level, so
 * nesting in the tens of thousands overflows the stack and kills the
 * process. Every entry point that takes JSON or a GVariant of unknown origin
 * checks it here first. The JSON check also refuses what json-glib 1.6
 * gets wrong quietly: a second top-level value, which it ignores (and
 * leaks), and escapes that put a NUL or invalid UTF-8 into a string. Not
 * public API; compiled into the core and into the engine plugins' static
 * library. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The deepest JSON accepted: arrays and objects 64 levels deep. Real
 * runtime configs, policies and engine answers nest fewer than 10. */
#define LLMSBX_MAX_JSON_DEPTH 64

/* The deepest GVariant accepted, counting every array, dictionary, tuple,
 * variant box and maybe (not dictionary entries): a JSON object becomes a
 * dictionary of boxed values, two levels per JSON level. */
#define LLMSBX_MAX_VARIANT_DEPTH (2 * LLMSBX_MAX_JSON_DEPTH)

gboolean llmsbx_json_check          (const char  *text,
                                     gssize       length,
                                     const char  *what,
                                     GError     **error);

gboolean llmsbx_variant_check_depth (GVariant    *value,
                                     const char  *what,
                                     GError     **error);

G_END_DECLS
