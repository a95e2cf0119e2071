/* llmsbx-comments.h: removing comments from source code without touching string literals. */
#pragma once

#if !defined(LLMSBX_INSIDE) && !defined(LLMSBX_COMPILATION)
#error "Only <llmsbx.h> can be included directly."
#endif

#include <glib.h>
#include "llmsbx-visibility.h"

G_BEGIN_DECLS

/**
 * LlmsbxCommentSyntax:
 * @line_comments: (array zero-terminated=1) (nullable): markers that start a comment
 *   running to the end of the line (`#`, `//`)
 * @block_start: (nullable): marker opening a block comment (`/ *`, `=begin`)
 * @block_end: (nullable): marker closing it
 * @string_quotes: (nullable): characters that open and close string literals (`"'`)
 * @triple_quoted_strings: whether `'''` and `"""` open multi-line strings (Python)
 * @backslash_escapes: whether a backslash escapes the next character inside strings
 *
 * How comments and strings look in a language.
 *
 * Since: 0.1
 */
typedef struct {
  const char * const *line_comments;
  const char         *block_start;
  const char         *block_end;
  const char         *string_quotes;
  gboolean            triple_quoted_strings;
  gboolean            backslash_escapes;
} LlmsbxCommentSyntax;

LLMSBX_AVAILABLE_IN_ALL
char *llmsbx_strip_comments (const char                *code,
                             const LlmsbxCommentSyntax *syntax);

G_END_DECLS
