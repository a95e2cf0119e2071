/* llmsbx-comments.c: removing comments from source code without touching string
 * literals. The security scanner reads the result, so a mistake that turns code
 * into a "comment" would hide it: when in doubt this scanner keeps text. */
#include "config.h"

#include <string.h>

#include "llmsbx-comments.h"

typedef struct {
  const char *text;
  gsize len;
} Marker;

static inline gboolean
marker_at (const char   *p,
           const Marker *marker)
{
  /* strncmp stops at the NUL ending @p, so this never reads past the code. */
  return marker->len > 0 && strncmp (p, marker->text, marker->len) == 0;
}

static inline gboolean
at_line_start (const char *code,
               const char *p)
{
  return p == code || p[-1] == '\n';
}

/* Copies a string literal opened at @p (a quote character) to @out and returns
 * the position after it, or the end of the code when it is not terminated. */
static const char *
copy_string (const char                *p,
             const LlmsbxCommentSyntax *syntax,
             GString                   *out)
{
  const char *start = p;
  char quote = *p;
  gboolean triple = syntax->triple_quoted_strings &&
                    (quote == '"' || quote == '\'') &&
                    p[1] == quote && p[2] == quote;

  p += triple ? 3 : 1;
  while (*p != '\0')
    {
      if (syntax->backslash_escapes && *p == '\\')
        {
          p += p[1] != '\0' ? 2 : 1;
          continue;
        }
      if (*p == quote)
        {
          if (!triple)
            {
              p++;
              break;
            }
          if (p[1] == quote && p[2] == quote)
            {
              p += 3;
              break;
            }
        }
      p++;
    }

  g_string_append_len (out, start, p - start);
  return p;
}

/* Skips a block comment whose opening marker ends at @p and returns the position
 * after its closing marker (or the end of the code). Newlines are kept so line
 * numbers do not move; a comment within one line becomes a space, as in C, so
 * the words on either side cannot merge into one and slip past a pattern. */
static const char *
skip_block_comment (const char   *code,
                    const char   *p,
                    const Marker *end,
                    gboolean      line_anchored,
                    GString      *out)
{
  gboolean newline = FALSE;

  while (*p != '\0')
    {
      if ((!line_anchored || at_line_start (code, p)) && marker_at (p, end))
        {
          p += end->len;
          /* `=end` closes the comment for the whole line, as in Ruby. */
          if (line_anchored)
            while (*p != '\0' && *p != '\n')
              p++;
          break;
        }
      if (*p == '\n')
        {
          g_string_append_c (out, '\n');
          newline = TRUE;
        }
      p++;
    }

  if (!newline)
    g_string_append_c (out, ' ');
  return p;
}

/**
 * llmsbx_strip_comments:
 * @code: source code, a NUL-terminated string of any bytes (it need not be UTF-8)
 * @syntax: how comments and string literals look in the language
 *
 * Removes the comments from @code and keeps everything else byte for byte, string
 * literals included: `print("a#b")` stays as it is, and `x = 1 # c` becomes `x = 1 `.
 *
 * Line comments are removed up to, not including, the end of the line. A block
 * comment is replaced by its newlines, so line numbers stay the same, or by one
 * space when it has none, so the tokens around it stay apart. A block marker
 * beginning with `=` (Ruby's `=begin` and `=end`) only counts at the start of a
 * line, and its closing line is removed whole.
 *
 * Unterminated strings run to the end of the code and are kept; an unterminated
 * block comment runs to the end and is removed. The scan is one pass, in time
 * linear in the length of @code.
 *
 * Returns: (transfer full): @code without its comments
 *
 * Since: 0.1
 */
char *
llmsbx_strip_comments (const char                *code,
                       const LlmsbxCommentSyntax *syntax)
{
  g_autofree Marker *line_markers = NULL;
  guint n_line_markers = 0;
  Marker block_start = { NULL, 0 };
  Marker block_end = { NULL, 0 };
  gboolean block_anchored = FALSE;
  const char *quotes;
  const char *p;
  GString *out;

  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (syntax != NULL, NULL);
  g_return_val_if_fail ((syntax->block_start == NULL) == (syntax->block_end == NULL), NULL);

  if (syntax->line_comments != NULL)
    n_line_markers = g_strv_length ((char **) syntax->line_comments);
  line_markers = g_new0 (Marker, n_line_markers + 1);
  for (guint i = 0; i < n_line_markers; i++)
    line_markers[i] = (Marker) { syntax->line_comments[i], strlen (syntax->line_comments[i]) };

  if (syntax->block_start != NULL && syntax->block_start[0] != '\0' &&
      syntax->block_end[0] != '\0')
    {
      block_start = (Marker) { syntax->block_start, strlen (syntax->block_start) };
      block_end = (Marker) { syntax->block_end, strlen (syntax->block_end) };
      block_anchored = syntax->block_start[0] == '=';
    }

  quotes = syntax->string_quotes != NULL ? syntax->string_quotes : "";
  out = g_string_sized_new (strlen (code) + 1);
  p = code;

  while (*p != '\0')
    {
      gboolean line_comment = FALSE;

      /* Block markers first: Lua's `--[[` must win over its line marker `--`. */
      if ((!block_anchored || at_line_start (code, p)) && marker_at (p, &block_start))
        {
          p = skip_block_comment (code, p + block_start.len, &block_end, block_anchored, out);
          continue;
        }

      for (guint i = 0; i < n_line_markers && !line_comment; i++)
        line_comment = marker_at (p, &line_markers[i]);
      if (line_comment)
        {
          while (*p != '\0' && *p != '\n')
            p++;
          continue;
        }

      if (strchr (quotes, *p) != NULL)
        {
          p = copy_string (p, syntax, out);
          continue;
        }

      g_string_append_c (out, *p);
      p++;
    }

  return g_string_free (out, FALSE);
}
