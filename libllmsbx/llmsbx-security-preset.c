/* llmsbx-security-preset.c: ready-made security configurations, a policy and
 * the container settings that go with it.
 *
 * Each preset is one row of data (PresetDef) from which the policy, the
 * Docker/Podman runtime config and the Kubernetes pod fragment are all made,
 * so the three cannot disagree. Patterns are data keyed by language: each
 * language lists what it looks for by category, and each preset says which
 * categories it uses and at what severity. */
#include "config.h"

#include "llmsbx-security-preset.h"
#include "llmsbx-error.h"

/**
 * LlmsbxSecurityPreset:
 *
 * A complete security configuration for one language and backend: a
 * #LlmsbxSecurityPolicy for the code and, for Docker and Podman, the
 * runtime config that hardens the container (memory and CPU limits, network,
 * read-only root, user, capabilities, no_new_privs, process limit). For
 * Kubernetes, #LlmsbxSecurityPreset:runtime-config is %NULL and
 * #LlmsbxSecurityPreset:pod-manifest-fragment holds the matching pod
 * securityContext, resources and volumes to merge into your pod manifest.
 *
 * Get one with llmsbx_get_security_preset(); each call makes new objects, so a
 * preset can be customised without affecting others.
 *
 * | Preset      | Threshold | Network | Memory | CPU | Read-only | User           |
 * |-------------|-----------|---------|--------|-----|-----------|----------------|
 * | development | HIGH      | bridge  | 1g     | 2   | no        | root           |
 * | production  | MEDIUM    | none    | 512m   | 1   | yes       | nobody:nogroup |
 * | strict      | LOW       | none    | 128m   | 0.5 | yes       | nobody:nogroup |
 * | educational | MEDIUM    | bridge  | 256m   | 1   | yes       | 1000:1000      |
 *
 * Every preset but development also drops all capabilities, sets
 * `no-new-privileges`, limits the number of processes and mounts the working
 * directory `/sandbox` as a tmpfs owned by the preset's user, because a
 * read-only root leaves nowhere else to write code to. The presets assume
 * the default working directory.
 */
struct _LlmsbxSecurityPreset
{
  GObject parent_instance;

  char *name;
  char *lang;
  char *backend;
  LlmsbxSecurityPolicy *policy;
  GVariant *runtime_config;
  GVariant *pod_manifest_fragment;
};

G_DEFINE_FINAL_TYPE (LlmsbxSecurityPreset, llmsbx_security_preset, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_LANG,
  PROP_BACKEND,
  PROP_SECURITY_POLICY,
  PROP_RUNTIME_CONFIG,
  PROP_POD_MANIFEST_FRAGMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Data ------------------------------------------------------------------- */

/* What a pattern looks for. */
typedef enum {
  P_COMMAND,    /* running programs or shell commands */
  P_NATIVE,     /* native code, raw system calls */
  P_EVAL,       /* evaluating code made at run time */
  P_DYNIMPORT,  /* loading modules or classes by computed names, reflection */
  P_FDELETE,    /* deleting files */
  P_FWRITE,     /* writing files */
  P_SOCKET,     /* network sockets */
  P_HTTP,       /* HTTP and URL access */
  N_PATTERN_CATEGORIES
} PatternCategory;

/* What a restricted module gives access to. */
typedef enum {
  M_SYSTEM,     /* processes and the operating system */
  M_NATIVE,     /* native code */
  M_DYNLOAD,    /* dynamic loading, reflection */
  M_SOCKET,     /* network sockets */
  M_HTTP,       /* HTTP clients */
  M_FILES,      /* file-system manipulation */
  M_SERIAL,     /* unsafe deserialisation */
  N_MODULE_CATEGORIES
} ModuleCategory;

typedef struct {
  PatternCategory category;
  const char *regex;
  const char *description;
} PatternDef;

typedef struct {
  ModuleCategory category;
  const char *name;
  const char *description;
} ModuleDef;

typedef struct {
  const char *name;
  const PatternDef *patterns;
  gsize n_patterns;
  const ModuleDef *modules;
  gsize n_modules;
  /* Variables the language's tools need when only the workdir is writable. */
  const char *environment;
} LanguageDef;

/* Optional spaces around a member access: `os . system` is valid Python. */
#define DOT "\\s*\\.\\s*"

static const PatternDef python_patterns[] = {
  { P_COMMAND, "\\bos" DOT "system\\s*\\(", "System command execution" },
  { P_COMMAND, "\\bos" DOT "(?:popen|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|fork|forkpty)\\s*\\(",
    "Process creation through os" },
  { P_COMMAND, "\\bsubprocess" DOT "(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)\\s*\\(",
    "Subprocess execution" },
  { P_COMMAND, "\\bpty" DOT "spawn\\s*\\(", "Process creation through pty" },
  { P_COMMAND, "\\bposix" DOT "(?:system|popen|exec\\w*|spawn\\w*|posix_spawnp?|fork)\\s*\\(",
    "Process creation through posix" },
  { P_EVAL, "(?<![\\w.])(?:eval|exec)\\s*\\(", "Dynamic code execution (eval/exec)" },
  { P_EVAL, "\\b__(?:subclasses|globals|builtins|code|closure|getattribute)__\\b",
    "Interpreter internals (sandbox escapes)" },
  /* PEP 263: a coding comment on line 1 or 2 makes Python decode the file
   * with another codec (utf-7 hides any code from a scanner). */
  { P_EVAL, "\\A(?:[^\\n]*\\n)?[ \\t\\f]*#[^\\n]*?coding[:=][ \\t]*(?!(?i:utf[-_]?8)(?:-sig)?\\b)[-\\w.]+",
    "Source encoding other than UTF-8 (can hide code from the scanner)" },
  { P_DYNIMPORT, "\\b__import__\\s*\\(", "Dynamic import (__import__)" },
  { P_DYNIMPORT, "\\bimport_module\\s*\\(", "Dynamic import (importlib)" },
  { P_DYNIMPORT, "\\bsys" DOT "modules\\b", "Module table access (sys.modules)" },
  { P_FDELETE, "\\bos" DOT "(?:remove|unlink|rmdir|removedirs)\\s*\\(", "File deletion" },
  { P_FDELETE, "\\bshutil" DOT "rmtree\\s*\\(", "Directory tree deletion" },
  { P_FWRITE, "\\bopen\\s*\\([^)]*,\\s*(?:mode\\s*=\\s*)?['\"][rbt]*[wax+]", "File write operation" },
  { P_FWRITE, "\\.\\s*write_(?:text|bytes)\\s*\\(", "File write operation (pathlib)" },
  { P_SOCKET, "\\bsocket" DOT "(?:socket|create_connection|create_server)\\s*\\(", "Network socket" },
  { P_HTTP, "\\brequests" DOT "(?:get|post|put|patch|delete|head|request)\\s*\\(", "HTTP request" },
  { P_HTTP, "\\burlopen\\s*\\(", "URL access (urllib)" },
};

static const ModuleDef python_modules[] = {
  { M_SYSTEM, "os", "Operating system access" },
  { M_SYSTEM, "subprocess", "Process execution" },
  { M_SYSTEM, "pty", "Pseudo-terminal process execution" },
  { M_SYSTEM, "posix", "Operating system access (posix)" },
  { M_SYSTEM, "_posixsubprocess", "Process execution" },
  { M_NATIVE, "ctypes", "Native code access (ctypes)" },
  { M_NATIVE, "_ctypes", "Native code access (ctypes)" },
  { M_NATIVE, "cffi", "Native code access (cffi)" },
  { M_DYNLOAD, "importlib", "Dynamic imports" },
  { M_SOCKET, "socket", "Network sockets" },
  { M_HTTP, "requests", "HTTP requests" },
  { M_HTTP, "urllib", "URL access" },
  { M_FILES, "shutil", "File-system operations" },
  { M_SERIAL, "pickle", "Unsafe deserialisation (pickle)" },
  { M_SERIAL, "marshal", "Unsafe deserialisation (marshal)" },
};

static const PatternDef javascript_patterns[] = {
  { P_COMMAND, "\\bchild_process\\b", "Child process access" },
  { P_COMMAND, "\\b(?:execSync|execFileSync|spawnSync)\\s*\\(", "Process execution" },
  { P_COMMAND, "\\bprocess" DOT "binding\\s*\\(", "Internal bindings (process.binding)" },
  { P_NATIVE, "\\bprocess" DOT "dlopen\\s*\\(", "Native addon loading" },
  { P_EVAL, "(?<![\\w.$])eval\\s*\\(", "Dynamic code execution (eval)" },
  { P_EVAL, "\\bFunction\\s*\\(", "Dynamic code execution (Function)" },
  { P_EVAL, "\\bvm" DOT "(?:runIn\\w*|compileFunction|Script)\\b", "Dynamic code execution (vm)" },
  { P_DYNIMPORT, "\\b(?:require|import|_load)\\s*\\(\\s*(?!(['\"`])[^'\"`$\\\\]*\\1\\s*[,)])",
    "Module loaded by a computed name" },
  { P_FDELETE, "\\.\\s*(?:unlink|rm|rmdir)(?:Sync)?\\s*\\(", "File deletion" },
  { P_FWRITE, "\\b(?:writeFile|appendFile|writeFileSync|appendFileSync|createWriteStream)\\s*\\(",
    "File write operation" },
  { P_SOCKET, "\\b(?:net|tls|dgram)" DOT "(?:connect|createConnection|createServer|createSocket|Socket)\\b",
    "Network socket" },
  { P_HTTP, "(?<![\\w.$])fetch\\s*\\(", "HTTP request (fetch)" },
  { P_HTTP, "\\bhttps?" DOT "(?:get|request)\\s*\\(", "HTTP request" },
};

static const ModuleDef javascript_modules[] = {
  { M_SYSTEM, "child_process", "Process execution" },
  { M_SYSTEM, "cluster", "Process creation (cluster)" },
  { M_DYNLOAD, "vm", "Dynamic code execution (vm)" },
  { M_DYNLOAD, "module", "Module loader internals" },
  { M_SOCKET, "net", "Network sockets" },
  { M_SOCKET, "dgram", "Network sockets (UDP)" },
  { M_SOCKET, "tls", "Network sockets (TLS)" },
  { M_HTTP, "http", "HTTP requests" },
  { M_HTTP, "https", "HTTP requests" },
  { M_HTTP, "http2", "HTTP requests" },
  { M_FILES, "fs", "File-system access" },
  { M_FILES, "fs/promises", "File-system access" },
};

static const PatternDef java_patterns[] = {
  { P_COMMAND, "\\.\\s*exec\\s*\\(", "System command execution (Runtime.exec)" },
  { P_COMMAND, "\\bProcessBuilder\\b", "Process creation (ProcessBuilder)" },
  { P_NATIVE, "\\bSystem" DOT "(?:loadLibrary|load)\\s*\\(", "Native library loading" },
  { P_EVAL, "\\bScriptEngineManager\\b", "Dynamic script evaluation" },
  { P_EVAL, "\\bgetSystemJavaCompiler\\s*\\(", "Compilation at run time" },
  { P_DYNIMPORT, "\\bClass" DOT "forName\\s*\\(", "Class loaded by a computed name" },
  { P_DYNIMPORT, "\\.\\s*setAccessible\\s*\\(", "Reflection access override" },
  { P_FDELETE, "\\bFiles" DOT "(?:delete|deleteIfExists)\\s*\\(", "File deletion" },
  { P_FDELETE, "\\.\\s*delete(?:OnExit)?\\s*\\(\\s*\\)", "File deletion" },
  { P_FWRITE, "\\bnew\\s+(?:FileWriter|FileOutputStream|PrintWriter|RandomAccessFile)\\s*\\(", "File write operation" },
  { P_FWRITE, "\\bFiles" DOT "(?:write|writeString|newBufferedWriter|newOutputStream|copy|move)\\s*\\(",
    "File write operation" },
  { P_SOCKET, "\\bnew\\s+(?:Socket|ServerSocket|DatagramSocket)\\s*\\(", "Network socket" },
  { P_HTTP, "\\bHttpClient\\b|\\bnew\\s+URL\\s*\\(|\\.\\s*openConnection\\s*\\(", "HTTP request" },
};

static const ModuleDef java_modules[] = {
  { M_SYSTEM, "java.lang.ProcessBuilder", "Process creation" },
  { M_NATIVE, "sun.misc", "Unsafe memory access" },
  { M_NATIVE, "jdk.internal", "JDK internals" },
  { M_NATIVE, "java.lang.foreign", "Native code access" },
  { M_DYNLOAD, "java.lang.reflect", "Reflection" },
  { M_DYNLOAD, "java.lang.invoke", "Dynamic invocation" },
  { M_DYNLOAD, "javax.script", "Dynamic script evaluation" },
  { M_DYNLOAD, "javax.tools", "Compilation at run time" },
  { M_SOCKET, "java.net", "Network access" },
  { M_HTTP, "java.net.http", "HTTP requests" },
  { M_FILES, "java.nio.file", "File-system access" },
  { M_SERIAL, "java.io.ObjectInputStream", "Unsafe deserialisation" },
};

/* A call of a free function: not a member (`x.f(`, `p->f(`) or a qualified name. */
#define CPP_CALL(names) "(?<![\\w.>:])(?:" names ")\\s*\\("

static const PatternDef cpp_patterns[] = {
  { P_COMMAND, "(?:\\bstd\\s*::\\s*|(?<![\\w.>:]))system\\s*\\(", "System command execution (system)" },
  { P_COMMAND, CPP_CALL ("popen"), "Process execution (popen)" },
  { P_COMMAND, CPP_CALL ("exec[lv]p?e?|fexecve|posix_spawnp?"), "Process execution (exec)" },
  { P_COMMAND, CPP_CALL ("v?fork"), "Process creation (fork)" },
  { P_NATIVE, CPP_CALL ("dlopen|dlsym|syscall|ptrace"), "Low-level system access" },
  { P_NATIVE, "\\b(?:asm|__asm__)\\b", "Inline assembly" },
  { P_FDELETE, CPP_CALL ("unlink|rmdir"), "File deletion" },
  { P_FDELETE, CPP_CALL ("remove") "\\s*\"|\\bfilesystem\\s*::\\s*remove(?:_all)?\\s*\\(", "File deletion" },
  { P_FWRITE, "\\bofstream\\b|\\bfopen\\s*\\([^)]*,\\s*\"[rb]*[wa+]", "File write operation" },
  { P_SOCKET, CPP_CALL ("socket") "\\s*(?:AF|PF)_", "Network socket" },
  { P_HTTP, "\\bcurl_easy_\\w+\\s*\\(", "HTTP request (libcurl)" },
};

static const ModuleDef cpp_modules[] = {
  { M_SYSTEM, "unistd.h", "Process and operating system calls" },
  { M_SYSTEM, "sys/wait.h", "Process control" },
  { M_SYSTEM, "spawn.h", "Process creation" },
  { M_NATIVE, "dlfcn.h", "Dynamic library loading" },
  { M_NATIVE, "sys/ptrace.h", "Process tracing" },
  { M_NATIVE, "sys/syscall.h", "Raw system calls" },
  { M_SOCKET, "sys/socket.h", "Network sockets" },
  { M_SOCKET, "netinet/in.h", "Network sockets" },
  { M_SOCKET, "arpa/inet.h", "Network sockets" },
  { M_SOCKET, "netdb.h", "Network name lookups" },
  { M_HTTP, "curl/curl.h", "HTTP requests (libcurl)" },
  { M_FILES, "filesystem", "File-system manipulation" },
};

static const PatternDef go_patterns[] = {
  { P_COMMAND, "\\bexec" DOT "(?:Command|CommandContext)\\s*\\(", "System command execution (os/exec)" },
  { P_COMMAND, "\\b(?:syscall|os)" DOT "(?:Exec|ForkExec|StartProcess)\\s*\\(", "Process execution" },
  { P_NATIVE, "\\bsyscall" DOT "(?:Raw)?Syscall\\w*\\s*\\(", "Raw system calls" },
  { P_NATIVE, "\\bunsafe" DOT "Pointer\\b", "Unsafe memory access" },
  { P_DYNIMPORT, "\\bplugin" DOT "Open\\s*\\(", "Plugin loading" },
  { P_FDELETE, "\\bos" DOT "(?:Remove|RemoveAll)\\s*\\(", "File deletion" },
  { P_FWRITE, "\\b(?:os|ioutil)" DOT "(?:WriteFile|Create|OpenFile)\\s*\\(", "File write operation" },
  { P_SOCKET, "\\bnet" DOT "(?:Dial\\w*|Listen\\w*)\\s*\\(", "Network socket" },
  { P_HTTP, "\\bhttp" DOT "(?:Get|Post|PostForm|Head|NewRequest\\w*)\\s*\\(", "HTTP request" },
};

static const ModuleDef go_modules[] = {
  { M_SYSTEM, "os/exec", "Process execution" },
  { M_SYSTEM, "syscall", "Raw operating system calls" },
  { M_NATIVE, "unsafe", "Unsafe memory access" },
  { M_NATIVE, "C", "Native code (cgo)" },
  { M_DYNLOAD, "plugin", "Plugin loading" },
  { M_SOCKET, "net", "Network access" },
  { M_HTTP, "net/http", "HTTP requests" },
};

/* Not a method call, an instance/global variable or a symbol. */
#define RUBY_WORD "(?<![\\w.:@$])"

static const PatternDef ruby_patterns[] = {
  { P_COMMAND, RUBY_WORD "(?:system|exec|spawn|syscall)(?:\\s*\\(|\\s+['\"%\\w])", "System command execution" },
  { P_COMMAND, "\\b(?:Kernel|Process)" DOT "(?:system|exec|spawn|fork)\\b", "Process execution" },
  { P_COMMAND, "\\bIO" DOT "popen\\b|\\bOpen3\\b|\\bPTY" DOT "spawn\\b", "Process execution" },
  { P_COMMAND, RUBY_WORD "fork\\b", "Process creation (fork)" },
  { P_COMMAND, "`[^`\\n]*`", "Shell command (backticks)" },
  { P_COMMAND, "%x[^\\w\\s'\"]", "Shell command (%x)" },
  { P_NATIVE, "\\b(?:Fiddle|FFI)\\b", "Native code access" },
  { P_EVAL, RUBY_WORD "(?:eval|instance_eval|class_eval|module_eval|instance_exec)\\b", "Dynamic code execution (eval)" },
  { P_EVAL, "\\.\\s*(?:send|public_send|__send__)\\s*\\(", "Dynamic method call (send)" },
  { P_DYNIMPORT, RUBY_WORD "(?:require|require_relative|load)\\s*\\(?\\s*[^'\"\\s(]", "Library loaded by a computed name" },
  { P_FDELETE, "\\b(?:File|Dir|FileUtils)" DOT "(?:delete|unlink|rm|rm_r|rm_rf|rm_f|rmdir|remove\\w*)\\b",
    "File deletion" },
  { P_FWRITE, "\\b(?:File|IO)" DOT "(?:write|binwrite)\\b|\\bFile" DOT "open\\s*\\(?[^)\\n]*,\\s*['\"][rb]*[wa+]",
    "File write operation" },
  { P_SOCKET, "\\b(?:TCPSocket|UDPSocket|UNIXSocket|TCPServer|Socket)" DOT "(?:new|open)\\b", "Network socket" },
  { P_HTTP, "\\bNet\\s*::\\s*HTTP\\b|\\bURI" DOT "open\\b", "HTTP request" },
};

static const ModuleDef ruby_modules[] = {
  { M_SYSTEM, "open3", "Process execution" },
  { M_SYSTEM, "pty", "Pseudo-terminal process execution" },
  { M_NATIVE, "fiddle", "Native code access" },
  { M_NATIVE, "ffi", "Native code access" },
  { M_SOCKET, "socket", "Network sockets" },
  { M_HTTP, "net/http", "HTTP requests" },
  { M_HTTP, "open-uri", "URL access" },
  { M_FILES, "fileutils", "File-system operations" },
};

/* R names may contain dots: `my.system(` is not `system(`. */
#define R_CALL(names) "(?<![\\w.])(?:" names ")\\s*\\("

static const PatternDef r_patterns[] = {
  { P_COMMAND, R_CALL ("system|system2|shell|pipe"), "System command execution" },
  { P_COMMAND, "\\b(?:processx|sys)\\s*::", "Process execution" },
  { P_NATIVE, "(?<!\\w)(?:dyn\\.load|\\.Call|\\.C|\\.External|\\.Fortran)\\s*\\(", "Native code access" },
  { P_EVAL, R_CALL ("evalq?") "\\s*(?:base\\s*::\\s*)?(?:parse|str2lang|str2expression)\\s*\\(",
    "Evaluation of code from text" },
  { P_DYNIMPORT, "\\bcharacter\\.only\\s*=\\s*(?:TRUE|T)\\b", "Package loaded by a computed name" },
  { P_FDELETE, R_CALL ("file\\.remove|unlink"), "File deletion" },
  { P_FWRITE, R_CALL ("write\\.csv|write\\.table|saveRDS|writeBin|writeChar|file\\.create|sink"), "File write operation" },
  { P_FWRITE, "(?<![\\w.])file\\s*\\([^)]*['\"][wa]['\"]|(?<![\\w.])cat\\s*\\([^)]*\\bfile\\s*=", "File write operation" },
  { P_SOCKET, R_CALL ("socketConnection|make\\.socket|serverSocket"), "Network socket" },
  { P_HTTP, R_CALL ("download\\.file|url") "|\\b(?:httr|curl)\\s*::", "HTTP request" },
};

static const ModuleDef r_modules[] = {
  { M_SYSTEM, "processx", "Process execution" },
  { M_SYSTEM, "sys", "Process execution" },
  { M_NATIVE, "Rcpp", "Native code compilation" },
  { M_NATIVE, "inline", "Native code compilation" },
  { M_HTTP, "httr", "HTTP requests" },
  { M_HTTP, "curl", "HTTP requests" },
  { M_HTTP, "RCurl", "HTTP requests" },
  { M_FILES, "fs", "File-system operations" },
};

#define LANGUAGE(lang, env) \
  { #lang, lang##_patterns, G_N_ELEMENTS (lang##_patterns), lang##_modules, G_N_ELEMENTS (lang##_modules), env }

/* HOME in the writable workdir: package managers and build caches live there.
 * `go run` links in GOTMPDIR and runs the result, and /tmp is noexec. */
static const LanguageDef languages[] = {
  LANGUAGE (python, NULL),
  LANGUAGE (javascript, NULL),
  LANGUAGE (java, NULL),
  LANGUAGE (cpp, NULL),
  LANGUAGE (go, "GOTMPDIR=/sandbox"),
  LANGUAGE (ruby, NULL),
  LANGUAGE (r, NULL),
};

/* Severities, or NONE when a preset leaves a category out. */
#define NONE (-1)
#define L LLMSBX_SECURITY_ISSUE_SEVERITY_LOW
#define M LLMSBX_SECURITY_ISSUE_SEVERITY_MEDIUM
#define H LLMSBX_SECURITY_ISSUE_SEVERITY_HIGH

#define WORKDIR "/sandbox"

typedef struct {
  const char *name;
  LlmsbxSecurityIssueSeverity threshold;
  signed char pattern_severity[N_PATTERN_CATEGORIES];
  signed char module_severity[N_MODULE_CATEGORIES];

  /* Container. */
  const char *mem_limit;        /* docker-py size */
  const char *k8s_memory;       /* the same as a Kubernetes quantity */
  gint64 cpu_quota;             /* microseconds per 100000 */
  const char *k8s_cpu;
  const char *network_mode;
  gboolean read_only;
  const char *tmp_options;      /* tmpfs on /tmp, or NULL */
  const char *tmp_size;         /* its size as a Kubernetes quantity */
  const char *workdir_size;     /* tmpfs on the workdir (docker-py size), or NULL */
  const char *workdir_k8s_size;
  const char *user;             /* NULL: the image's user (root) */
  gint64 uid, gid;
  gboolean hardened;            /* no capabilities, no_new_privs, seccomp, no API token */
  gint64 pids_limit;            /* 0: none */
} PresetDef;

/*                                  COMMAND NATIVE EVAL DYNIMPORT FDELETE FWRITE SOCKET HTTP
 *                                  SYSTEM NATIVE DYNLOAD SOCKET HTTP FILES SERIAL */
static const PresetDef presets[] = {
  {
    "development", H,
    { H, H, NONE, NONE, NONE, NONE, NONE, NONE },
    { NONE, H, NONE, NONE, NONE, NONE, NONE },
    "1g", "1Gi", 200000, "2", "bridge", FALSE,
    NULL, NULL, NULL, NULL, NULL, 0, 0, FALSE, 0,
  },
  {
    "production", M,
    { H, H, M, M, NONE, NONE, NONE, NONE },
    { H, H, M, NONE, NONE, NONE, NONE },
    "512m", "512Mi", 100000, "1", "none", TRUE,
    "size=100m,noexec", "100Mi", "256m", "256Mi", "nobody:nogroup", 65534, 65534, TRUE, 256,
  },
  {
    "strict", L,
    { H, H, M, M, M, L, M, L },
    { H, H, M, M, L, L, M },
    "128m", "128Mi", 50000, "500m", "none", TRUE,
    "size=50m,noexec,nosuid,nodev", "50Mi", "64m", "64Mi", "nobody:nogroup", 65534, 65534, TRUE, 128,
  },
  {
    "educational", M,
    { H, H, NONE, NONE, H, NONE, NONE, NONE },
    { H, H, NONE, NONE, NONE, NONE, NONE },
    "256m", "256Mi", 100000, "1", "bridge", TRUE,
    "size=100m", "100Mi", "128m", "128Mi", "1000:1000", 1000, 1000, TRUE, 256,
  },
};

static const char * const backends[] = { "docker", "podman", "kubernetes", NULL };

/* Building --------------------------------------------------------------- */

static LlmsbxSecurityPolicy *
build_policy (const PresetDef   *preset,
              const LanguageDef *language)
{
  LlmsbxSecurityPolicy *policy = llmsbx_security_policy_new (preset->threshold);

  for (gsize i = 0; i < language->n_patterns; i++)
    {
      const PatternDef *def = &language->patterns[i];
      int severity = preset->pattern_severity[def->category];
      g_autoptr(LlmsbxSecurityPattern) pattern = NULL;
      g_autoptr(GError) error = NULL;

      if (severity == NONE)
        continue;
      pattern = llmsbx_security_pattern_new (def->regex, def->description, severity, &error);
      /* The tables are ours; the unit tests compile every entry. */
      g_assert_no_error (error);
      llmsbx_security_policy_add_pattern (policy, pattern);
    }

  for (gsize i = 0; i < language->n_modules; i++)
    {
      const ModuleDef *def = &language->modules[i];
      int severity = preset->module_severity[def->category];
      g_autoptr(LlmsbxRestrictedModule) module = NULL;

      if (severity == NONE)
        continue;
      module = llmsbx_restricted_module_new (def->name, def->description, severity);
      llmsbx_security_policy_add_restricted_module (policy, module);
    }

  return policy;
}

/* The workdir as a tmpfs the preset's user owns: Docker resets a tmpfs's
 * mode to 0755 when it is also the working directory, so `mode=1777` would
 * leave it unwritable; `uid`/`gid` survive. `exec`, because compiled programs
 * run from there (Docker's tmpfs default is noexec). */
static char *
workdir_tmpfs_options (const PresetDef *preset)
{
  return g_strdup_printf ("rw,exec,nosuid,nodev,size=%s,uid=%" G_GINT64_FORMAT ",gid=%" G_GINT64_FORMAT,
                          preset->workdir_size, preset->uid, preset->gid);
}

static void
add_environment (GVariantBuilder   *environment,
                 const char        *assignments)
{
  g_auto(GStrv) entries = g_strsplit (assignments, ";", -1);

  for (guint i = 0; entries[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (entries[i], "=", 2);

      g_variant_builder_add (environment, "{sv}", pair[0], g_variant_new_string (pair[1]));
    }
}

/* The docker-py style runtime config, as #LlmsbxSandboxSession:runtime-configs takes it. */
static GVariant *
build_runtime_config (const PresetDef   *preset,
                      const LanguageDef *language)
{
  GVariantBuilder config;

  g_variant_builder_init (&config, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&config, "{sv}", "mem_limit", g_variant_new_string (preset->mem_limit));
  g_variant_builder_add (&config, "{sv}", "cpu_period", g_variant_new_int64 (100000));
  g_variant_builder_add (&config, "{sv}", "cpu_quota", g_variant_new_int64 (preset->cpu_quota));
  g_variant_builder_add (&config, "{sv}", "network_mode", g_variant_new_string (preset->network_mode));
  g_variant_builder_add (&config, "{sv}", "read_only", g_variant_new_boolean (preset->read_only));

  if (preset->tmp_options != NULL)
    {
      g_autofree char *workdir_options = workdir_tmpfs_options (preset);
      GVariantBuilder tmpfs;

      g_variant_builder_init (&tmpfs, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&tmpfs, "{sv}", "/tmp", g_variant_new_string (preset->tmp_options));
      g_variant_builder_add (&tmpfs, "{sv}", WORKDIR, g_variant_new_string (workdir_options));
      g_variant_builder_add (&config, "{sv}", "tmpfs", g_variant_builder_end (&tmpfs));
    }

  if (preset->user != NULL)
    {
      GVariantBuilder environment;

      g_variant_builder_add (&config, "{sv}", "user", g_variant_new_string (preset->user));

      g_variant_builder_init (&environment, G_VARIANT_TYPE_VARDICT);
      add_environment (&environment, "HOME=" WORKDIR);
      if (language->environment != NULL)
        add_environment (&environment, language->environment);
      g_variant_builder_add (&config, "{sv}", "environment", g_variant_builder_end (&environment));
    }

  if (preset->hardened)
    {
      const char *cap_drop[] = { "ALL", NULL };
      const char *security_opt[] = { "no-new-privileges:true", NULL };

      g_variant_builder_add (&config, "{sv}", "cap_drop", g_variant_new_strv (cap_drop, -1));
      g_variant_builder_add (&config, "{sv}", "security_opt", g_variant_new_strv (security_opt, -1));
    }

  if (preset->pids_limit > 0)
    g_variant_builder_add (&config, "{sv}", "pids_limit", g_variant_new_int64 (preset->pids_limit));

  return g_variant_ref_sink (g_variant_builder_end (&config));
}

static GVariant *
volume (const char *name,
        const char *size_limit)
{
  return g_variant_new_parsed ("{'name': <%s>, 'emptyDir': <{'medium': <'Memory'>, 'sizeLimit': <%s>}>}",
                               name, size_limit);
}

static GVariant *
volume_mount (const char *name,
              const char *path)
{
  return g_variant_new_parsed ("{'name': <%s>, 'mountPath': <%s>}", name, path);
}

/* A pod manifest fragment with the preset's settings, in the shape of a pod
 * manifest, to merge into one: pod and container securityContext, resources,
 * and memory-backed volumes where the read-only root needs writable places.
 * Kubernetes has no per-pod "network none": that needs a NetworkPolicy. */
static GVariant *
build_pod_fragment (const PresetDef *preset)
{
  GVariantBuilder spec, container, container_security, pod_security;
  GVariant *resources;

  g_variant_builder_init (&spec, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&container, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&container_security, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&pod_security, G_VARIANT_TYPE_VARDICT);

  resources = g_variant_new_parsed ("{'limits': <{'memory': <%s>, 'cpu': <%s>}>,"
                                    " 'requests': <{'memory': <%s>, 'cpu': <%s>}>}",
                                    preset->k8s_memory, preset->k8s_cpu,
                                    preset->k8s_memory, preset->k8s_cpu);
  g_variant_builder_add (&container, "{sv}", "resources", resources);

  g_variant_builder_add (&container_security, "{sv}", "privileged", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&container_security, "{sv}", "readOnlyRootFilesystem",
                         g_variant_new_boolean (preset->read_only));

  if (preset->user != NULL)
    {
      g_variant_builder_add (&pod_security, "{sv}", "runAsUser", g_variant_new_int64 (preset->uid));
      g_variant_builder_add (&pod_security, "{sv}", "runAsGroup", g_variant_new_int64 (preset->gid));
      g_variant_builder_add (&pod_security, "{sv}", "fsGroup", g_variant_new_int64 (preset->gid));
      g_variant_builder_add (&pod_security, "{sv}", "runAsNonRoot", g_variant_new_boolean (TRUE));
    }

  if (preset->hardened)
    {
      const char *drop[] = { "ALL", NULL };

      g_variant_builder_add (&container_security, "{sv}", "allowPrivilegeEscalation",
                             g_variant_new_boolean (FALSE));
      g_variant_builder_add (&container_security, "{sv}", "capabilities",
                             g_variant_new_parsed ("{'drop': <%^as>}", drop));
      g_variant_builder_add (&pod_security, "{sv}", "seccompProfile",
                             g_variant_new_parsed ("{'type': <'RuntimeDefault'>}"));
      g_variant_builder_add (&spec, "{sv}", "automountServiceAccountToken", g_variant_new_boolean (FALSE));
    }

  g_variant_builder_add (&container, "{sv}", "securityContext", g_variant_builder_end (&container_security));

  if (preset->tmp_options != NULL)
    {
      GVariant *mounts[] = { volume_mount ("tmp", "/tmp"), volume_mount ("workdir", WORKDIR) };
      GVariant *volumes[] = { volume ("tmp", preset->tmp_size), volume ("workdir", preset->workdir_k8s_size) };

      g_variant_builder_add (&container, "{sv}", "volumeMounts",
                             g_variant_new_array (G_VARIANT_TYPE_VARDICT, mounts, G_N_ELEMENTS (mounts)));
      g_variant_builder_add (&spec, "{sv}", "volumes",
                             g_variant_new_array (G_VARIANT_TYPE_VARDICT, volumes, G_N_ELEMENTS (volumes)));
    }

  g_variant_builder_add (&spec, "{sv}", "securityContext", g_variant_builder_end (&pod_security));
  {
    GVariant *containers[] = { g_variant_builder_end (&container) };

    g_variant_builder_add (&spec, "{sv}", "containers",
                           g_variant_new_array (G_VARIANT_TYPE_VARDICT, containers, 1));
  }

  return g_variant_ref_sink (g_variant_new_parsed ("{'spec': <%@a{sv}>}", g_variant_builder_end (&spec)));
}

/* Object ----------------------------------------------------------------- */

static void
llmsbx_security_preset_finalize (GObject *object)
{
  LlmsbxSecurityPreset *self = LLMSBX_SECURITY_PRESET (object);

  g_free (self->name);
  g_free (self->lang);
  g_free (self->backend);
  g_clear_object (&self->policy);
  g_clear_pointer (&self->runtime_config, g_variant_unref);
  g_clear_pointer (&self->pod_manifest_fragment, g_variant_unref);

  G_OBJECT_CLASS (llmsbx_security_preset_parent_class)->finalize (object);
}

static void
llmsbx_security_preset_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  LlmsbxSecurityPreset *self = LLMSBX_SECURITY_PRESET (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_LANG:
      g_value_set_string (value, self->lang);
      break;
    case PROP_BACKEND:
      g_value_set_string (value, self->backend);
      break;
    case PROP_SECURITY_POLICY:
      g_value_set_object (value, self->policy);
      break;
    case PROP_RUNTIME_CONFIG:
      g_value_set_variant (value, self->runtime_config);
      break;
    case PROP_POD_MANIFEST_FRAGMENT:
      g_value_set_variant (value, self->pod_manifest_fragment);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_preset_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  LlmsbxSecurityPreset *self = LLMSBX_SECURITY_PRESET (object);

  switch (prop_id)
    {
    case PROP_RUNTIME_CONFIG:
      llmsbx_security_preset_set_runtime_config (self, g_value_get_variant (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
llmsbx_security_preset_class_init (LlmsbxSecurityPresetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags read_only = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = llmsbx_security_preset_finalize;
  object_class->get_property = llmsbx_security_preset_get_property;
  object_class->set_property = llmsbx_security_preset_set_property;

  /**
   * LlmsbxSecurityPreset:name:
   *
   * The preset's name (`development`, `production`, `strict`, `educational`).
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, read_only);

  /**
   * LlmsbxSecurityPreset:lang:
   *
   * The language whose patterns and modules the policy holds.
   */
  properties[PROP_LANG] = g_param_spec_string ("lang", NULL, NULL, NULL, read_only);

  /**
   * LlmsbxSecurityPreset:backend:
   *
   * The backend the configuration is for (`docker`, `podman`, `kubernetes`).
   */
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, read_only);

  /**
   * LlmsbxSecurityPreset:security-policy:
   *
   * The policy, for #LlmsbxSandboxSession:security-policy. It may be
   * customised (llmsbx_security_policy_add_pattern()).
   */
  properties[PROP_SECURITY_POLICY] =
    g_param_spec_object ("security-policy", NULL, NULL, LLMSBX_TYPE_SECURITY_POLICY, read_only);

  /**
   * LlmsbxSecurityPreset:runtime-config:
   *
   * The container settings (`a{sv}` in the docker-py vocabulary), for
   * #LlmsbxSandboxSession:runtime-configs; %NULL for Kubernetes.
   */
  properties[PROP_RUNTIME_CONFIG] =
    g_param_spec_variant ("runtime-config", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LlmsbxSecurityPreset:pod-manifest-fragment:
   *
   * For Kubernetes, the preset's pod settings in the shape of a pod manifest
   * (`spec.securityContext`, `spec.containers[0].securityContext`,
   * `.resources` and `.volumeMounts`, `spec.volumes`,
   * `spec.automountServiceAccountToken`), to merge into the manifest you
   * give the session; %NULL for other backends. Kubernetes cannot turn a
   * pod's network off: use a NetworkPolicy for the presets whose Docker
   * network is `none`.
   */
  properties[PROP_POD_MANIFEST_FRAGMENT] =
    g_param_spec_variant ("pod-manifest-fragment", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, read_only);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
llmsbx_security_preset_init (LlmsbxSecurityPreset *self)
{
}

static char *
join_names (const char * const *names)
{
  return g_strjoinv (", ", (char **) names);
}

/**
 * llmsbx_list_available_presets:
 *
 * Returns: (transfer full) (array zero-terminated=1): the preset names:
 *   `development`, `production`, `strict`, `educational`
 */
char **
llmsbx_list_available_presets (void)
{
  char **names = g_new0 (char *, G_N_ELEMENTS (presets) + 1);

  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    names[i] = g_strdup (presets[i].name);
  return names;
}

/**
 * llmsbx_get_security_preset:
 * @name: the preset: `development`, `production`, `strict` or `educational`
 *   (case-insensitive)
 * @lang: (nullable): the language of the code, %NULL for `python`
 * @backend: (nullable): `docker`, `podman` or `kubernetes`, %NULL for `docker`
 * @error: return location for a #GError
 *
 * Makes a new security configuration from a preset. Fails with
 * %LLMSBX_ERROR_INVALID_ARGUMENT for an unknown preset,
 * %LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED for a language the presets have no
 * patterns for, and %LLMSBX_ERROR_BACKEND_NOT_SUPPORTED for another backend;
 * each message lists the names that are known.
 *
 * ```c
 * g_autoptr(LlmsbxSecurityPreset) preset = llmsbx_get_security_preset ("strict", "python", "docker", &error);
 *
 * session = g_object_new (LLMSBX_TYPE_SANDBOX_SESSION,
 *                         "lang", "python",
 *                         "security-policy", llmsbx_security_preset_get_security_policy (preset),
 *                         "runtime-configs", llmsbx_security_preset_get_runtime_config (preset),
 *                         NULL);
 * ```
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 */
LlmsbxSecurityPreset *
llmsbx_get_security_preset (const char  *name,
                            const char  *lang,
                            const char  *backend,
                            GError     **error)
{
  const PresetDef *preset = NULL;
  const LanguageDef *language = NULL;
  g_autofree char *backend_name = g_ascii_strdown (backend ? backend : "docker", -1);
  LlmsbxSecurityPreset *self;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (lang == NULL)
    lang = "python";

  for (gsize i = 0; i < G_N_ELEMENTS (presets) && preset == NULL; i++)
    if (g_ascii_strcasecmp (name, presets[i].name) == 0)
      preset = &presets[i];
  if (preset == NULL)
    {
      g_auto(GStrv) names = llmsbx_list_available_presets ();
      g_autofree char *known = join_names ((const char * const *) names);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT,
                   "Unknown security preset '%s'; available presets: %s", name, known);
      return NULL;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (languages) && language == NULL; i++)
    if (g_ascii_strcasecmp (lang, languages[i].name) == 0)
      language = &languages[i];
  if (language == NULL)
    {
      g_autoptr(GString) known = g_string_new (NULL);

      for (gsize i = 0; i < G_N_ELEMENTS (languages); i++)
        g_string_append_printf (known, "%s%s", i ? ", " : "", languages[i].name);
      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_LANGUAGE_NOT_SUPPORTED,
                   "The security presets have no patterns for the language '%s'; they cover: %s",
                   lang, known->str);
      return NULL;
    }

  if (!g_strv_contains (backends, backend_name))
    {
      g_autofree char *known = join_names (backends);

      g_set_error (error, LLMSBX_ERROR, LLMSBX_ERROR_BACKEND_NOT_SUPPORTED,
                   "The security presets have no configuration for the backend '%s'; they cover: %s",
                   backend, known);
      return NULL;
    }

  self = g_object_new (LLMSBX_TYPE_SECURITY_PRESET, NULL);
  self->name = g_strdup (preset->name);
  self->lang = g_strdup (language->name);
  self->backend = g_steal_pointer (&backend_name);
  self->policy = build_policy (preset, language);
  if (g_str_equal (self->backend, "kubernetes"))
    self->pod_manifest_fragment = build_pod_fragment (preset);
  else
    self->runtime_config = build_runtime_config (preset, language);
  return self;
}

/**
 * llmsbx_security_preset_get_name:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: the preset's name
 */
const char *
llmsbx_security_preset_get_name (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->name;
}

/**
 * llmsbx_security_preset_get_lang:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: the language the policy is for
 */
const char *
llmsbx_security_preset_get_lang (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->lang;
}

/**
 * llmsbx_security_preset_get_backend:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: the backend the configuration is for
 */
const char *
llmsbx_security_preset_get_backend (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->backend;
}

/**
 * llmsbx_security_preset_get_security_policy:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: (transfer none): the policy
 */
LlmsbxSecurityPolicy *
llmsbx_security_preset_get_security_policy (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->policy;
}

/**
 * llmsbx_security_preset_get_runtime_config:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: (transfer none) (nullable): the container settings (`a{sv}`), or
 *   %NULL for Kubernetes
 */
GVariant *
llmsbx_security_preset_get_runtime_config (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->runtime_config;
}

/**
 * llmsbx_security_preset_set_runtime_config:
 * @self: a #LlmsbxSecurityPreset
 * @runtime_config: (nullable): container settings (`a{sv}`)
 *
 * Replaces the container settings, to customise a preset.
 */
void
llmsbx_security_preset_set_runtime_config (LlmsbxSecurityPreset *self,
                                           GVariant             *runtime_config)
{
  g_return_if_fail (LLMSBX_IS_SECURITY_PRESET (self));
  g_return_if_fail (runtime_config == NULL || g_variant_is_of_type (runtime_config, G_VARIANT_TYPE_VARDICT));

  if (runtime_config != NULL)
    g_variant_ref_sink (runtime_config);
  g_clear_pointer (&self->runtime_config, g_variant_unref);
  self->runtime_config = runtime_config;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNTIME_CONFIG]);
}

/**
 * llmsbx_security_preset_get_pod_manifest_fragment:
 * @self: a #LlmsbxSecurityPreset
 *
 * Returns: (transfer none) (nullable): the pod settings for Kubernetes
 *   (`a{sv}` shaped like a pod manifest), or %NULL for other backends
 */
GVariant *
llmsbx_security_preset_get_pod_manifest_fragment (LlmsbxSecurityPreset *self)
{
  g_return_val_if_fail (LLMSBX_IS_SECURITY_PRESET (self), NULL);
  return self->pod_manifest_fragment;
}
