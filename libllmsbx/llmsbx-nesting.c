/* llmsbx-nesting.c: untrusted JSON and GVariant values checked before anything recurses through them.
 *
 * The JSON check runs before json-glib sees the text, so it reads the text
 * the way json-glib 1.6's scanner (json-scanner.c) does wherever a bracket
 * can hide: in "strings", where a backslash takes the next character, and
 * `\u` followed by a hex digit takes up to four hex digits plus the
 * character that ends them (and, for a surrogate, a second such escape); in
 * 'strings', which have no escapes; and in comments, which run from a `/` to
 * the next `/`. A NUL byte ends the text for json-glib, and here. Wherever
 * else json-glib could read a character differently (a number swallowing a
 * quote) it stops with a parse error, so its parser never nests deeper than
 * the depth counted here. */
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
 * character ends it and is consumed with it. *@cut says whether that was
 * the first byte of a longer UTF-8 sequence, whose rest is then left alone. */
static gunichar
next_unichar (Text     *text,
              gboolean *cut)
{
  gunichar value = 0;

  *cut = FALSE;
  for (int i = 0; i < 4; i++)
    {
      guchar c = next_char (text);

      if (!is_hex (c))
        {
          *cut = c >= 0x80;
          break;
        }
      value += (gunichar) g_ascii_xdigit_value (c) << ((3 - i) * 4);
    }
  return value;
}

typedef enum {
  STRING_CLOSED,
  STRING_UNTERMINATED,  /* json-glib's scanner fails: it goes no further */
  STRING_BAD_ESCAPE,    /* an escape json-glib turns into something that is not text */
} StringEnd;

/* Skips a double-quoted string after its opening quote. Escapes are read as
 * json-glib reads them, and those that would put a NUL, an unpaired UTF-16
 * surrogate or a byte that is not UTF-8 into the string (json-glib does not
 * check) are reported with *@reason: `\u4e` followed by `é` takes é's first
 * byte as the end of its digits and leaves the second alone. */
static StringEnd
skip_dq_string (Text        *text,
                const char **reason)
{
  guchar c;

  while ((c = next_char (text)) != 0)
    {
      gunichar high, low;
      gboolean cut;

      if (c == '"')
        return STRING_CLOSED;
      if (c != '\\')
        continue;

      c = next_char (text);
      if (c >= '0' && c <= '7')
        {
          /* Up to three octal digits, kept as one byte. */
          guint value = c - '0';

          for (int i = 0; i < 2 && peek_char (text) >= '0' && peek_char (text) <= '7'; i++)
            value = value * 8 + (next_char (text) - '0');
          value &= 0xff;
          if (value == 0 || value >= 0x80)
            {
              *reason = value == 0 ? "a NUL character" : "a byte that is not UTF-8";
              return STRING_BAD_ESCAPE;
            }
          continue;
        }
      if (c != 'u' || !is_hex (peek_char (text)))
        continue;

      high = next_unichar (text, &cut);
      if (cut)
        {
          *reason = "part of a character (a \\u escape ends inside it)";
          return STRING_BAD_ESCAPE;
        }
      if (high == 0)
        {
          *reason = "a NUL character";
          return STRING_BAD_ESCAPE;
        }
      if (high < 0xd800 || high > 0xdfff)
        continue;
      if (next_char (text) != '\\' || next_char (text) != 'u')
        {
          *reason = "an unpaired UTF-16 surrogate";
          return STRING_BAD_ESCAPE;
        }
      low = next_unichar (text, &cut);
      if (cut || high > 0xdbff || low < 0xdc00 || low > 0xdfff)
        {
          *reason = "an unpaired UTF-16 surrogate";
          return STRING_BAD_ESCAPE;
        }
    }
  return STRING_UNTERMINATED;
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

static gboolean
is_json_space (guchar c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/**
 * llmsbx_json_check:
 * @text: (array length=length): JSON text, not necessarily valid
 * @length: its length, or -1 when it is NUL-terminated
 * @what: what the text is, for the message ("Runtime configs")
 * @error: return location for a #GError
 *
 * Checks, before json-glib parses @text, that arrays and objects in it nest
 * at most %LLMSBX_MAX_JSON_DEPTH levels deep, that it holds one value, and
 * that no string escapes something that is not text. json-glib 1.6 accepts
 * `{"mem_limit": "64m"} {}`, ignoring (and leaking) everything after the first
 * array or object; it turns `\u0000` and `\0` into a NUL that ends the string
 * early for C, and an unpaired surrogate or `\377` into invalid UTF-8 (and
 * leaks the string of a malformed surrogate pair). Other text that is not JSON
 * passes: the parser reports it.
 *
 * Returns: %FALSE with %LLMSBX_ERROR_INVALID_ARGUMENT saying which
 */
gboolean
llmsbx_json_check (const char  *text,
                   gssize       length,
                   const char  *what,
                   GError     **error)
{
  Text t = { text, text + (length < 0 ? strlen (text) : (gsize) length) };
  gboolean seen_value = FALSE;  /* a top-level value began */
  gboolean in_word = FALSE;     /* inside a bare number or word */
  guint depth = 0;
  guchar c;

  while ((c = next_char (&t)) != 0)
    {
      gboolean word_char = g_ascii_isalnum (c) || (c != '\0' && strchr ("_.+-$", c) != NULL);

      if (depth == 0 && !is_json_space (c) && c != '/' && c != ']' && c != '}' && !(in_word && word_char))
        {
          if (seen_value)
            {
              g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                           "%s: the text holds more than one JSON value "
                           "(another one starts at byte %" G_GSIZE_FORMAT ")",
                           what, (gsize) (t.p - 1 - text));
              return FALSE;
            }
          seen_value = TRUE;
        }
      in_word = word_char;

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
          {
            const char *string_start = t.p - 1;
            const char *reason = NULL;

            switch (skip_dq_string (&t, &reason))
              {
              case STRING_CLOSED:
                break;
              case STRING_UNTERMINATED:
                return TRUE;
              case STRING_BAD_ESCAPE:
                g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                             "%s: the string at byte %" G_GSIZE_FORMAT " escapes %s",
                             what, (gsize) (string_start - text), reason);
                return FALSE;
              }
          }
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
