/* llmsbx-tool.h: what the commands of the llmsbx program share. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses of the program's own making; they follow timeout(1) and
 * docker run, so scripts can tell them from the sandboxed program's status. */
#define LLMSBX_TOOL_EXIT_USAGE   2
#define LLMSBX_TOOL_EXIT_TIMEOUT 124
#define LLMSBX_TOOL_EXIT_FAILURE 125

/* Each command gets argv[0] = "llmsbx COMMAND" followed by its arguments. */
int llmsbx_tool_run       (int argc, char **argv);
int llmsbx_tool_backends  (int argc, char **argv);
int llmsbx_tool_languages (int argc, char **argv);
int llmsbx_tool_images    (int argc, char **argv);
int llmsbx_tool_check     (int argc, char **argv);
int llmsbx_tool_gc        (int argc, char **argv);
#ifdef LLMSBX_TOOL_HAVE_MCP
int llmsbx_tool_mcp       (int argc, char **argv);
#endif

gboolean llmsbx_tool_parse_options (GOptionContext *context,
                                    int            *argc,
                                    char         ***argv);
int      llmsbx_tool_usage_error   (const char     *command,
                                    const char     *format,
                                    ...) G_GNUC_PRINTF (2, 3);
int      llmsbx_tool_fail          (const GError   *error);
char    *llmsbx_tool_read_code     (const char     *inline_code,
                                    const char     *path,
                                    GError        **error);

G_END_DECLS
