/* llmsbx-java-handler.c: the Java language handler.
 *
 * Code runs with the JDK's source launcher (`java File.java`, JDK 11 and
 * later): one file, compiled in memory, its first class run whatever the file
 * is called; a compile error ends the run with javac's messages. There is no
 * library installation: Maven and Gradle need a repository and a project, so
 * the handler has no package manager and install() says it is not supported.
 * Jars copied into the sandbox can be used from execute_command(). */
#include "llmsbx-language-handlers.h"

LLMSBX_DEFINE_LANGUAGE_HANDLER (LlmsbxJavaHandler, llmsbx_java_handler, JAVA_HANDLER)

static const LlmsbxCatalogueEntry java_patterns[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\.\\s*exec\\s*\\(", "System command execution (Runtime.exec)"),
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "\\bProcessBuilder\\b", "Process creation (ProcessBuilder)"),
  CATALOGUE_ENTRY (NATIVE_CODE, "\\bSystem" DOT "(?:loadLibrary|load)\\s*\\(", "Native library loading"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\bScriptEngineManager\\b", "Dynamic script evaluation"),
  CATALOGUE_ENTRY (DYNAMIC_CODE, "\\bgetSystemJavaCompiler\\s*\\(", "Compilation at run time"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\bClass" DOT "forName\\s*\\(", "Class loaded by a computed name"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "\\.\\s*setAccessible\\s*\\(", "Reflection access override"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\bFiles" DOT "(?:delete|deleteIfExists)\\s*\\(", "File deletion"),
  CATALOGUE_ENTRY (FILE_DELETION, "\\.\\s*delete(?:OnExit)?\\s*\\(\\s*\\)", "File deletion"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\bnew\\s+(?:FileWriter|FileOutputStream|PrintWriter|RandomAccessFile)\\s*\\(", "File write operation"),
  CATALOGUE_ENTRY (FILE_WRITE, "\\bFiles" DOT "(?:write|writeString|newBufferedWriter|newOutputStream|copy|move)\\s*\\(",
    "File write operation"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "\\bnew\\s+(?:Socket|ServerSocket|DatagramSocket)\\s*\\(", "Network socket"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "\\bHttpClient\\b|\\bnew\\s+URL\\s*\\(|\\.\\s*openConnection\\s*\\(", "HTTP request"),
};

static const LlmsbxCatalogueEntry java_modules[] = {
  CATALOGUE_ENTRY (COMMAND_EXECUTION, "java.lang.ProcessBuilder", "Process creation"),
  CATALOGUE_ENTRY (NATIVE_CODE, "sun.misc", "Unsafe memory access"),
  CATALOGUE_ENTRY (NATIVE_CODE, "jdk.internal", "JDK internals"),
  CATALOGUE_ENTRY (NATIVE_CODE, "java.lang.foreign", "Native code access"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "java.lang.reflect", "Reflection"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "java.lang.invoke", "Dynamic invocation"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "javax.script", "Dynamic script evaluation"),
  CATALOGUE_ENTRY (DYNAMIC_IMPORT, "javax.tools", "Compilation at run time"),
  CATALOGUE_ENTRY (NETWORK_SOCKET, "java.net", "Network access"),
  CATALOGUE_ENTRY (NETWORK_HTTP, "java.net.http", "HTTP requests"),
  CATALOGUE_ENTRY (FILE_SYSTEM, "java.nio.file", "File-system access"),
  CATALOGUE_ENTRY (DESERIALIZATION, "java.io.ObjectInputStream", "Unsafe deserialisation"),
};

LLMSBX_DEFINE_LANGUAGE_CATALOGUE (llmsbx_java_handler, java_patterns, java_modules)

/* Matches the package or class M wherever its name appears, whole, in the
 * code: in `import M.*;`, `import M.Cls;`, `import static M.Cls.f;`, and in a
 * fully qualified use such as `new M.Cls()` or Class.forName("M.Cls"), which
 * Java allows without any import. `import java.utility.X;`, `com.M.X` and
 * `import M.ClsX;` for the class M.Cls do not match. Java allows spaces around
 * the dots of a name, so the pattern does too. */
static char *
llmsbx_java_handler_get_import_pattern (LlmsbxLanguageHandler *handler,
                                        const char            *module)
{
  g_auto(GStrv) parts = g_strsplit (module, ".", -1);
  GString *pattern = g_string_new ("(?<![\\w$.])");

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *escaped = g_regex_escape_string (parts[i], -1);

      if (i > 0)
        g_string_append (pattern, "\\s*\\.\\s*");
      g_string_append (pattern, escaped);
    }
  g_string_append (pattern, "(?![\\w$])");

  return g_string_free (pattern, FALSE);
}

static char *
llmsbx_java_handler_strip_comments (LlmsbxLanguageHandler *handler,
                                    const char            *code)
{
  static const char * const line_comments[] = { "//", NULL };
  /* Triple quotes open Java's text blocks. */
  static const LlmsbxCommentSyntax syntax = {
    .line_comments = line_comments,
    .block_start = "/*",
    .block_end = "*/",
    .string_quotes = "\"'",
    .triple_quoted_strings = TRUE,
    .backslash_escapes = TRUE,
  };

  return llmsbx_strip_comments (code, &syntax);
}

static void
llmsbx_java_handler_iface_init (LlmsbxLanguageHandlerInterface *iface)
{
  iface->get_import_pattern = llmsbx_java_handler_get_import_pattern;
  iface->strip_comments = llmsbx_java_handler_strip_comments;
  iface->get_security_catalogue = llmsbx_java_handler_get_security_catalogue;
}

/**
 * llmsbx_java_handler_new:
 *
 * Returns: (transfer full): the handler registered as `java`
 */
LlmsbxLanguageHandler *
llmsbx_java_handler_new (void)
{
  static const char * const execution_commands[] = { "java {file}", NULL };

  return g_object_new (llmsbx_java_handler_get_type (),
                       "name", "java",
                       "file-extension", "java",
                       "default-image", "llmsbx/java:bookworm",
                       "execution-commands", execution_commands,
                       NULL);
}
