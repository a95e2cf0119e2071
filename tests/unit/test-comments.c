/* test-comments.c: llmsbx_strip_comments(), the scanner the security policy
 * reads code through. */
#include <string.h>

#include <llmsbx.h>

static const char * const hash[] = { "#", NULL };
static const char * const slashes[] = { "//", NULL };
static const char * const dashes[] = { "--", NULL };

static const LlmsbxCommentSyntax python = {
  .line_comments = hash,
  .string_quotes = "\"'",
  .triple_quoted_strings = TRUE,
  .backslash_escapes = TRUE,
};

static const LlmsbxCommentSyntax javascript = {
  .line_comments = slashes,
  .block_start = "/*",
  .block_end = "*/",
  .string_quotes = "\"'`",
  .backslash_escapes = TRUE,
};

static const LlmsbxCommentSyntax ruby = {
  .line_comments = hash,
  .block_start = "=begin",
  .block_end = "=end",
  .string_quotes = "\"'",
  .backslash_escapes = TRUE,
};

static const LlmsbxCommentSyntax lua = {
  .line_comments = dashes,
  .block_start = "--[[",
  .block_end = "]]",
  .string_quotes = "\"'",
  .backslash_escapes = TRUE,
};

static void
assert_stripped (const LlmsbxCommentSyntax *syntax,
                 const char                *code,
                 const char                *expected)
{
  g_autofree char *stripped = llmsbx_strip_comments (code, syntax);

  g_assert_cmpstr (stripped, ==, expected);
}

static void
test_line_comments (void)
{
  assert_stripped (&python, "x = 1 # c", "x = 1 ");
  assert_stripped (&python, "# only a comment", "");
  assert_stripped (&python, "a = 1  # one\nb = 2  # two\n", "a = 1  \nb = 2  \n");
  assert_stripped (&python, "#\n#\n", "\n\n");
  assert_stripped (&python, "x = 1 # c\r\ny = 2", "x = 1 \ny = 2");
  assert_stripped (&javascript, "let x = 1; // c\nlet y;", "let x = 1; \nlet y;");
  /* A division is not a comment. */
  assert_stripped (&javascript, "a / b / c", "a / b / c");
}

static void
test_strings_kept (void)
{
  assert_stripped (&python, "print(\"a#b\")", "print(\"a#b\")");
  assert_stripped (&python, "print('a#b')  # c", "print('a#b')  ");
  assert_stripped (&python, "s = \"it's # not\" # yes", "s = \"it's # not\" ");
  assert_stripped (&javascript, "fetch(\"http://x\")", "fetch(\"http://x\")");
  assert_stripped (&javascript, "u = 'http://x/*y*/' // c", "u = 'http://x/*y*/' ");
  assert_stripped (&javascript, "t = `a\n// b\n/* c */`;", "t = `a\n// b\n/* c */`;");
  assert_stripped (&python, "s = ''  # empty", "s = ''  ");
}

static void
test_escaped_quotes (void)
{
  assert_stripped (&python, "s = \"a\\\"#b\" # c", "s = \"a\\\"#b\" ");
  assert_stripped (&python, "s = 'a\\'#b' # c", "s = 'a\\'#b' ");
  /* An escaped backslash does not escape the quote after it. */
  assert_stripped (&python, "s = 'a\\\\' # c", "s = 'a\\\\' ");
  assert_stripped (&javascript, "s = \"\\\\\" // c", "s = \"\\\\\" ");
}

static void
test_without_escapes (void)
{
  static const LlmsbxCommentSyntax sql = {
    .line_comments = dashes,
    .string_quotes = "'",
  };

  /* Without backslash escapes, `\` is text and the quote after it closes. */
  assert_stripped (&sql, "SELECT 'a\\' -- c", "SELECT 'a\\' ");
}

static void
test_triple_quotes (void)
{
  assert_stripped (&python, "s = \"\"\"a \" # b\"\"\" # c", "s = \"\"\"a \" # b\"\"\" ");
  assert_stripped (&python, "s = '''line\n# not a comment\n''' # c\n", "s = '''line\n# not a comment\n''' \n");
  assert_stripped (&python, "s = \"\"\"a\\\"\"\"\" # c", "s = \"\"\"a\\\"\"\"\" ");
  /* Without the option `"""` is an empty string and an opening quote. */
  assert_stripped (&javascript, "s = \"\"\"a // b\"", "s = \"\"\"a // b\"");
}

static void
test_block_comments (void)
{
  assert_stripped (&javascript, "/* a */", " ");
  assert_stripped (&javascript, "x/* a */y", "x y");
  assert_stripped (&javascript, "a\n/* one\ntwo\nthree */b", "a\n\n\nb");
  assert_stripped (&javascript, "/* // */ x", "  x");
  assert_stripped (&javascript, "// /* \nx", "\nx");
  assert_stripped (&javascript, "/* \"a */ b \"", "  b \"");
  assert_stripped (&javascript, "/**/x/***/y", " x y");
}

static void
test_line_anchored_blocks (void)
{
  assert_stripped (&ruby, "a\n=begin\nsecret\n=end trailing\nb", "a\n\n\n\nb");
  /* Inside a line, `=begin` is code. */
  assert_stripped (&ruby, "x =begin_value # c", "x =begin_value ");
  assert_stripped (&ruby, "=begin\nx =end\n=end\ny", "\n\n\ny");
}

static void
test_longer_block_marker_wins (void)
{
  assert_stripped (&lua, "a --[[ b\nc ]] d -- e", "a \n d ");
}

static void
test_unterminated (void)
{
  assert_stripped (&python, "s = \"abc # d", "s = \"abc # d");
  assert_stripped (&python, "s = '''abc\n# d", "s = '''abc\n# d");
  assert_stripped (&python, "s = \"abc\\", "s = \"abc\\");
  assert_stripped (&python, "s = \"", "s = \"");
  assert_stripped (&python, "s = \"\"\"", "s = \"\"\"");
  assert_stripped (&python, "s = \"\"\"\"\"", "s = \"\"\"\"\"");
  assert_stripped (&javascript, "x /* never\nclosed", "x \n");
  assert_stripped (&javascript, "x /* never closed *", "x  ");
  assert_stripped (&javascript, "x /", "x /");
  assert_stripped (&ruby, "a\n=begin\nb", "a\n\n");
  assert_stripped (&python, "", "");
}

static void
test_any_bytes (void)
{
  assert_stripped (&python, "\xff\xfe = 1 # \xc3\x28", "\xff\xfe = 1 ");
  assert_stripped (&python, "s = '\xff#\x80' # \xfe", "s = '\xff#\x80' ");
}

static void
test_no_syntax (void)
{
  static const LlmsbxCommentSyntax nothing = { 0 };
  static const char * const empty_marker[] = { "", NULL };
  static const LlmsbxCommentSyntax empty = { .line_comments = empty_marker,
                                             .block_start = "", .block_end = "" };

  assert_stripped (&nothing, "a # b /* c */ 'd", "a # b /* c */ 'd");
  /* Empty markers would match everywhere; they match nowhere. */
  assert_stripped (&empty, "a # b", "a # b");
}

static void
test_huge_input (void)
{
  const gsize size = 32 * 1024 * 1024;
  g_autofree char *code = g_malloc (size + 1);
  g_autofree char *stripped = NULL;

  /* A line of code and its comment, repeated, then an unterminated string: the
   * scan must stay linear and the output exact. */
  for (gsize i = 0; i < size; i += 8)
    memcpy (code + i, "x=1 #c\n\n", 8);
  code[size - 1] = '"';
  code[size] = '\0';

  stripped = llmsbx_strip_comments (code, &python);
  g_assert_cmpuint (strlen (stripped), ==, size / 8 * 6);
  g_assert_true (g_str_has_prefix (stripped, "x=1 \n\nx=1 \n\n"));
  g_assert_true (g_str_has_suffix (stripped, "x=1 \n\""));

  /* One comment as long as the whole input. */
  memset (code, 'a', size);
  memcpy (code, "/*", 2);
  g_clear_pointer (&stripped, g_free);
  stripped = llmsbx_strip_comments (code, &javascript);
  g_assert_cmpstr (stripped, ==, " ");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/comments/line", test_line_comments);
  g_test_add_func ("/comments/strings-kept", test_strings_kept);
  g_test_add_func ("/comments/escaped-quotes", test_escaped_quotes);
  g_test_add_func ("/comments/without-escapes", test_without_escapes);
  g_test_add_func ("/comments/triple-quotes", test_triple_quotes);
  g_test_add_func ("/comments/block", test_block_comments);
  g_test_add_func ("/comments/line-anchored-blocks", test_line_anchored_blocks);
  g_test_add_func ("/comments/longer-block-marker-wins", test_longer_block_marker_wins);
  g_test_add_func ("/comments/unterminated", test_unterminated);
  g_test_add_func ("/comments/any-bytes", test_any_bytes);
  g_test_add_func ("/comments/no-syntax", test_no_syntax);
  g_test_add_func ("/comments/huge-input", test_huge_input);

  return g_test_run ();
}
