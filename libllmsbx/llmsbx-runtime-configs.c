/* llmsbx-runtime-configs.c: reading the values of docker-py style runtime
 * configs, for the backends that map them.
 *
 * Runtime configs come from every binding as a GVariant dictionary whose
 * values may be boxed (`v`), maybe-typed (Python's None), numbers of any
 * width, or numbers written as text: docker-py accepts `mem_limit=512` and
 * `"512m"` alike. Each backend maps the keys it supports; these read the
 * values the same way for all of them, so that a value means the same on
 * every backend. Moved from the engine plugins' mapping, which bubblewrap's
 * copied. */
#include "config.h"

#include <string.h>

#include "llmsbx-runtime-configs.h"

/**
 * llmsbx_runtime_config_unbox:
 * @value: a value of a runtime config
 *
 * Strips `v` boxes and `m` maybes around @value.
 *
 * Returns: (transfer full) (nullable): the value inside, or %NULL for a null
 *   (Nothing) value
 *
 * Since: 0.1
 */
GVariant *
llmsbx_runtime_config_unbox (GVariant *value)
{
  g_autoptr(GVariant) v = g_variant_ref (value);

  for (;;)
    {
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT))
        {
          GVariant *inner = g_variant_get_variant (v);
          g_variant_unref (v);
          v = inner;
        }
      else if (g_variant_is_of_type (v, G_VARIANT_TYPE_MAYBE))
        {
          GVariant *inner = g_variant_get_maybe (v);
          if (inner == NULL)
            return NULL;
          g_variant_unref (v);
          v = inner;
        }
      else
        return g_steal_pointer (&v);
    }
}

/**
 * llmsbx_runtime_config_is_string:
 * @v: an unboxed value
 *
 * Tells whether a runtime-config value is text.
 *
 * Returns: whether @v is text (a string, an object path or a signature)
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_config_is_string (GVariant *v)
{
  return g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ||
         g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH) ||
         g_variant_is_of_type (v, G_VARIANT_TYPE_SIGNATURE);
}

/**
 * llmsbx_runtime_config_is_dict:
 * @v: an unboxed value
 *
 * Tells whether a runtime-config value is a dictionary.
 *
 * Returns: whether @v is a dictionary with string keys
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_config_is_dict (GVariant *v)
{
  const GVariantType *t = g_variant_get_type (v);

  return g_variant_type_is_array (t) &&
         g_variant_type_is_dict_entry (g_variant_type_element (t)) &&
         g_variant_type_equal (g_variant_type_key (g_variant_type_element (t)), G_VARIANT_TYPE_STRING);
}

/**
 * llmsbx_runtime_config_is_list:
 * @v: an unboxed value
 *
 * Tells whether a runtime-config value is a list.
 *
 * Returns: whether @v is a list: an array or tuple that is no dictionary
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_config_is_list (GVariant *v)
{
  return (g_variant_is_container (v) && !llmsbx_runtime_config_is_dict (v) &&
          !g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT) &&
          !g_variant_is_of_type (v, G_VARIANT_TYPE_MAYBE));
}

/**
 * llmsbx_runtime_config_get_int64:
 * @v: an unboxed value
 * @out: (out): the number
 *
 * Reads a whole number: an integer of any width, a double without a
 * fraction, or decimal text.
 *
 * Returns: whether @v is one
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_config_get_int64 (GVariant *v,
                                 gint64   *out)
{
  const GVariantType *t = g_variant_get_type (v);

  if (g_variant_type_equal (t, G_VARIANT_TYPE_BYTE))
    *out = g_variant_get_byte (v);
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_INT16))
    *out = g_variant_get_int16 (v);
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_UINT16))
    *out = g_variant_get_uint16 (v);
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (v);
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (v);
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (v);
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_UINT64))
    {
      guint64 u = g_variant_get_uint64 (v);
      if (u > G_MAXINT64)
        return FALSE;
      *out = (gint64) u;
    }
  else if (g_variant_type_equal (t, G_VARIANT_TYPE_DOUBLE))
    {
      double d = g_variant_get_double (v);
      /* Whole numbers only; the bounds keep the cast defined. */
      if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double) (gint64) d)
        return FALSE;
      *out = (gint64) d;
    }
  else if (llmsbx_runtime_config_is_string (v))
    {
      const char *s = g_variant_get_string (v, NULL);
      return g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, out, NULL);
    }
  else
    return FALSE;

  return TRUE;
}

/**
 * llmsbx_runtime_config_get_boolean:
 * @v: an unboxed value
 * @out: (out): the flag
 *
 * Reads a flag: a boolean, 0 or 1, or `true`/`yes`/`on`/`1` and
 * `false`/`no`/`off`/`0` as text in any case.
 *
 * Returns: whether @v is one
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_config_get_boolean (GVariant *v,
                                   gboolean *out)
{
  gint64 n;

  if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    {
      *out = g_variant_get_boolean (v);
      return TRUE;
    }
  if (llmsbx_runtime_config_is_string (v))
    {
      const char *s = g_variant_get_string (v, NULL);

      if (g_ascii_strcasecmp (s, "true") == 0 || g_ascii_strcasecmp (s, "yes") == 0 ||
          g_ascii_strcasecmp (s, "on") == 0 || strcmp (s, "1") == 0)
        *out = TRUE;
      else if (g_ascii_strcasecmp (s, "false") == 0 || g_ascii_strcasecmp (s, "no") == 0 ||
               g_ascii_strcasecmp (s, "off") == 0 || strcmp (s, "0") == 0)
        *out = FALSE;
      else
        return FALSE;
      return TRUE;
    }
  if (llmsbx_runtime_config_get_int64 (v, &n) && (n == 0 || n == 1))
    {
      *out = n == 1;
      return TRUE;
    }
  return FALSE;
}

/**
 * llmsbx_runtime_config_dup_string:
 * @v: an unboxed value
 *
 * Reads text: strings, and booleans and numbers written as docker-py
 * writes them (a user id, a port, an environment value).
 *
 * Returns: (transfer full) (nullable): the text, or %NULL when @v is none of these
 *
 * Since: 0.1
 */
char *
llmsbx_runtime_config_dup_string (GVariant *v)
{
  gint64 n;

  if (llmsbx_runtime_config_is_string (v))
    return g_variant_dup_string (v, NULL);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (v) ? "true" : "false");
  if (llmsbx_runtime_config_get_int64 (v, &n))
    return g_strdup_printf ("%" G_GINT64_FORMAT, n);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_dtostr (buf, sizeof buf, g_variant_get_double (v)));
    }
  return NULL;
}

/**
 * llmsbx_runtime_config_parse_bytes:
 * @text: a size like `512m`, `1g`, `1.5g`, `100k`, `1024` or `2gb`
 * @bytes: (out): the size in bytes
 *
 * Parses a size the way docker-py does (units b, k, m, g, powers of 1024,
 * case-insensitive, an optional trailing `b`), plus `t`.
 *
 * Returns: whether @text is a valid size
 *
 * Since: 0.1
 */
gboolean
llmsbx_runtime_config_parse_bytes (const char *text,
                                   gint64     *bytes)
{
  g_autofree char *digits = NULL;
  gsize len = strlen (text);
  guint64 unit = 1;
  gboolean seen_dot = FALSE;
  double value;

  if (len >= 2 && g_ascii_isalpha (text[len - 2]) && g_ascii_tolower (text[len - 1]) == 'b')
    len--;
  if (len == 0)
    return FALSE;

  if (!g_ascii_isdigit (text[len - 1]))
    {
      switch (g_ascii_tolower (text[len - 1]))
        {
        case 'b': unit = 1; break;
        case 'k': unit = 1024; break;
        case 'm': unit = 1024 * 1024; break;
        case 'g': unit = 1024 * 1024 * 1024; break;
        case 't': unit = G_GUINT64_CONSTANT (1024) * 1024 * 1024 * 1024; break;
        default: return FALSE;
        }
      len--;
    }

  digits = g_strndup (text, len);
  if (digits[0] == '\0' || digits[0] == '.')
    return FALSE;
  for (const char *p = digits; *p != '\0'; p++)
    {
      if (*p == '.' && !seen_dot)
        seen_dot = TRUE;
      else if (!g_ascii_isdigit (*p))
        return FALSE;
    }

  value = g_ascii_strtod (digits, NULL) * (double) unit;
  if (!(value < 9.2e18))
    return FALSE;
  *bytes = (gint64) value;
  return TRUE;
}

