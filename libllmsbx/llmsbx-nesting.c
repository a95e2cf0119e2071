/* llmsbx-nesting.c: how deeply untrusted JSON text and GVariant values may nest.
 *
 * The JSON check runs before json-glib sees the text, so it reads the text
 * the way json-glib 1.6's scanner (json-scanner.c) does wherever a bracket
 * can hide: in "strings", where a backslash takes the next character, and
 * `\u` followed by a hex digit takes up to four hex digits plus the
 * character that ends them (and, for a surrogate, a second such escape); in
 * 'strings', which have no escapes; and in comments, which run from a `/` to
 * the next `/`. A NUL byte ends the text for json-glib, and here. Wherever
 * else json-glib could read a character differently (a number swallowing a
 * quote, a bad surrogate pair) it stops with a parse error, so its parser
 * never nests deeper than the depth counted here. */
#include <string.h>
#include <llmsbx.h>

#include "llmsbx-nesting-private.h"

typedef struct
{
  const char *p;
  const char *end;
} Text;

/* json_scanner_get_char(): the next byte, or 0 at the end (not consumed). */
static guchar
next_char (Text *text)
{
  if (text->p >= text->end || *text->p == '\0')
    return 0;
  return (guchar) *text->p++;
}

static guchar
peek_char (Text *text)
{
  return text->p < text->end ? (guchar) *text->p : 0;
}

static gboolean
is_hex (guchar c)
{
  return g_ascii_isxdigit (c);
}

/* json_scanner_get_unichar(): up to four hex digits; the first other
 * character ends it and is consumed with it. */
static gunichar
next_unichar (Text *text)
{
  gunichar value = 0;

  for (int i = 0; i < 4; i++)
    {
      guchar c = next_char (text);

      if (!is_hex (c))
        break;
      value += (gunichar) g_ascii_xdigit_value (c) << ((3 - i) * 4);
    }
  return value;
}

/* Skips a double-quoted string after its opening quote. FALSE where
 * json-glib's scanner fails inside it (it goes no further then). */
static gboolean
skip_dq_string (Text *text)
{
  guchar c;

  while ((c = next_char (text)) != 0)
    {
      gunichar high, low;

      if (c == '"')
        return TRUE;
      if (c != '\\')
        continue;

      c = next_char (text);
      if (c != 'u' || !is_hex (peek_char (text)))
        continue;  /* octal digits after a backslash are neither quotes nor brackets */

      high = next_unichar (text);
      if (high < 0xd800 || high > 0xdfff)
        continue;
      if (next_char (text) != '\\' || next_char (text) != 'u')
        continue;
      low = next_unichar (text);
      if (high > 0xdbff || low < 0xdc00 || low > 0xdfff)
        return FALSE;  /* a malformed surrogate pair is a scanner error */
    }
  return FALSE;
}

/* Skips up to and including @terminator; FALSE when the text ends first. */
static gboolean
skip_to (Text  *text,
         guchar terminator)
{
  guchar c;

  while ((c = next_char (text)) != 0)
    if (c == terminator)
      return TRUE;
  return FALSE;
}

/**
 * llmsbx_json_check_depth:
 * @text: (array length=length): JSON text, not necessarily valid
 * @length: its length, or -1 when it is NUL-terminated
 * @what: what the text is, for the message ("Runtime configs")
 * @error: return location for a #GError
 *
 * Checks that arrays and objects in @text nest at most
 * %LLMSBX_MAX_JSON_DEPTH levels deep, before json-glib parses it. Text that
 * is not JSON passes when it does not nest too deep: the parser reports it.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_INVALID_ARGUMENT naming the bound
 */
gboolean
llmsbx_json_check_depth (const char  *text,
                         gssize       length,
                         const char  *what,
                         GError     **error)
{
  Text t = { text, text + (length < 0 ? strlen (text) : (gsize) length) };
  guint depth = 0;
  guchar c;

  while ((c = next_char (&t)) != 0)
    {
      switch (c)
        {
        case '[':
        case '{':
          if (++depth > LLMSBX_MAX_JSON_DEPTH)
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "%s: JSON arrays and objects nest deeper than %d levels "
                           "(at byte %" G_GSIZE_FORMAT "), the most accepted",
                           what, LLMSBX_MAX_JSON_DEPTH, (gsize) (t.p - 1 - text));
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        case '"':
          if (!skip_dq_string (&t))
            return TRUE;
          break;
        case '\'':
          if (!skip_to (&t, '\''))
            return TRUE;
          break;
        case '/':
          if (!skip_to (&t, '/'))
            return TRUE;
          break;
        default:
          break;
        }
    }
  return TRUE;
}

/* Bounded recursion: it stops one level past the bound. */
static gboolean
variant_depth_ok (GVariant *value,
                  guint     depth)
{
  const GVariantType *type = g_variant_get_type (value);
  gsize n;

  if (!g_variant_type_is_container (type))
    return TRUE;
  if (!g_variant_type_is_dict_entry (type) && ++depth > LLMSBX_MAX_VARIANT_DEPTH)
    return FALSE;
  /* Arrays of numbers or strings (a byte string, say) hold no containers. */
  if (g_variant_type_is_array (type) && g_variant_type_is_basic (g_variant_type_element (type)))
    return TRUE;

  n = g_variant_n_children (value);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (!variant_depth_ok (child, depth))
        return FALSE;
    }
  return TRUE;
}

/**
 * llmsbx_variant_check_depth:
 * @value: a value
 * @what: what it is, for the message ("Runtime configs")
 * @error: return location for a #GError
 *
 * Checks that containers in @value nest at most %LLMSBX_MAX_VARIANT_DEPTH
 * levels deep, counting arrays, dictionaries, tuples, variant boxes and
 * maybes but not dictionary entries.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_INVALID_ARGUMENT naming the bound
 */
gboolean
llmsbx_variant_check_depth (GVariant    *value,
                            const char  *what,
                            GError     **error)
{
  if (variant_depth_ok (value, 0))
    return TRUE;

  g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
               "%s: values nest deeper than %d containers (%d levels of JSON objects), "
               "the most accepted",
               what, LLMSBX_MAX_VARIANT_DEPTH, LLMSBX_MAX_JSON_DEPTH);
  return FALSE;
}
