/* handler-test.h: what the language handler tests share. Handlers come from
 * the built libllmsbx-languages.so, loaded into a registry of their own and
 * used through the LlmsbxLanguageHandler interface, as the session and the
 * security scanner use them. */
#pragma once

#include <llmsbx.h>
#include <string.h>

G_BEGIN_DECLS

typedef struct {
  const char *module;
  const char *code;
} ImportCase;

typedef struct {
  const char *code;
  const char *kept;     /* must survive */
  const char *removed;  /* must be gone */
} StripCase;

/* The handler of @name from the built languages plugin. */
LlmsbxLanguageHandler *handler_test_load    (const char            *name);

/* Expands @template_ like the session does, with a workdir holding a space,
 * and joins the words with '|'. */
char    *handler_test_expand                (const char            *template_,
                                             const char            *file,
                                             const char            *library);

/* The handler's templates for a context (freed), each expanded and joined
 * with '|', one per line. */
char    *handler_test_commands              (char                 **templates,
                                             const char            *file,
                                             const char            *library);

void     handler_test_assert_description    (LlmsbxLanguageHandler *handler,
                                             const char            *name,
                                             const char            *extension,
                                             const char            *image);

/* Whether the import pattern for @module matches @code, checking that PCRE
 * answers (a match limit reached would be an error, and a way around the
 * scanner). */
gboolean handler_test_matches               (LlmsbxLanguageHandler *handler,
                                             const char            *module,
                                             const char            *code);

/* What the security scanner does: strip the comments, then match. */
gboolean handler_test_scans                 (LlmsbxLanguageHandler *handler,
                                             const char            *module,
                                             const char            *code);

void     handler_test_assert_imports        (LlmsbxLanguageHandler *handler,
                                             const ImportCase      *imports,
                                             gsize                  n_imports,
                                             const ImportCase      *not_imports,
                                             gsize                  n_not_imports);

void     handler_test_assert_strips         (LlmsbxLanguageHandler *handler,
                                             const StripCase       *cases,
                                             gsize                  n_cases);

/* Code built to make a careless pattern backtrack: @unit repeated to 256 KiB.
 * The pattern must still give an answer (handler_test_matches() fails on a
 * PCRE error such as the match limit), and the answer must be @expected. */
void     handler_test_assert_hostile        (LlmsbxLanguageHandler *handler,
                                             const char            *module,
                                             const char            *unit,
                                             gboolean               expected);

G_END_DECLS
