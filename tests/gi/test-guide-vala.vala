/* test-guide-vala.vala: the configuration guide's session, timeout,
 * security-preset and custom-handler examples in Vala, through the vapi,
 * with the _async methods and yield; the session's log through its signal. */

errordomain TestFailure {
    FAILED
}

void check (bool condition, string message) throws TestFailure {
    if (!condition)
        throw new TestFailure.FAILED (message);
}

/* Session Configuration: skip_environment_setup, verbose, the log. */
async void test_session () throws Error {
    var lines = new GenericArray<string> ();
    var session = (Llmsbx.SandboxSession) Object.new (typeof (Llmsbx.SandboxSession),
        "lang", "python", "skip-environment-setup", true, "verbose", true);
    string? id = null;
    session.log.connect ((level, session_id, message) => {
        lines.add (message);
        id = session_id;
        if (level != LogLevelFlags.LEVEL_MESSAGE)
            lines.add ("(not at message level)");
    });

    yield session.open_async (null);
    Error? failure = null;
    try {
        var result = yield session.run_async ("print('Hello from pre-configured environment!')", null, 0, null);
        check (result.stdout == "Hello from pre-configured environment!\n", "stdout " + result.stdout);
        try {
            yield session.run_async ("import requests; print('OK')", { "requests" }, 0, null);
            check (false, "installing with skip-environment-setup did not fail");
        } catch (Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED e) {
        }
    } catch (Error e) {
        failure = e;
    }
    /* No yield in a finally block: close, then raise what failed. */
    yield session.close_async (null);
    if (failure != null)
        throw (owned) failure;
    check (lines.length > 2 && lines[lines.length - 1] == "closed", "the log does not end with closed");
    for (var i = 0; i < lines.length; i++)
        check (lines[i] != "(not at message level)", "a verbose line is not a message");
    check (id != null, "no session id");
}

/* Timeout Configuration: per-execution override, infinite loop protection. */
async void test_timeouts () throws Error {
    var session = (Llmsbx.SandboxSession) Object.new (typeof (Llmsbx.SandboxSession),
        "lang", "python", "execution-timeout", 5.0);
    yield session.open_async (null);
    Error? failure = null;
    try {
        var result = yield session.run_async ("import time\ntime.sleep(1)\nprint('Long operation completed')",
                                              null, 20.0, null);
        check (result.stdout == "Long operation completed\n", "stdout " + result.stdout);
        try {
            yield session.run_async ("i = 0\nwhile True:\n    i += 1\n", null, 0, null);
            check (false, "the infinite loop was not stopped");
        } catch (Llmsbx.Error.TIMEOUT e) {
            print ("Infinite loop was terminated by timeout\n");
        }
        result = yield session.run_async ("print('after')", null, 0, null);
        check (result.stdout == "after\n", "the session is not usable after a timeout");
    } catch (Error e) {
        failure = e;
    }
    /* No yield in a finally block: close, then raise what failed. */
    yield session.close_async (null);
    if (failure != null)
        throw (owned) failure;
}

/* Security Presets: the complete example, and layering a policy. */
async void test_presets () throws Error {
    var presets = Llmsbx.list_available_presets ();
    check (string.joinv (",", presets) == "development,production,strict,educational", "presets");

    var config = Llmsbx.get_security_preset ("strict", "python", Llmsbx.BACKEND_DOCKER);
    var session = (Llmsbx.SandboxSession) Object.new (typeof (Llmsbx.SandboxSession),
        "lang", "python", "security-policy", config.get_security_policy (),
        "runtime-configs", config.get_runtime_config ());
    yield session.open_async (null);
    Error? failure = null;
    try {
        GenericArray<weak Llmsbx.SecurityPattern>? violations;
        var safe = session.is_safe ("import os; os.system('ls')", out violations);
        check (!safe && violations.length > 0, "the strict preset let os.system through");
        try {
            yield session.run_async ("import os; os.system('ls')", null, 0, null);
            check (false, "the policy was not enforced");
        } catch (Llmsbx.Error.SECURITY_VIOLATION e) {
            print ("Code blocked by security policy!\n");
        }
        var result = yield session.run_async ("print('Hello, World!')", null, 0, null);
        check (result.stdout == "Hello, World!\n", "stdout " + result.stdout);
    } catch (Error e) {
        failure = e;
    }
    /* No yield in a finally block: close, then raise what failed. */
    yield session.close_async (null);
    if (failure != null)
        throw (owned) failure;

    var base_policy = Llmsbx.get_security_policy ("production", null);
    var before = base_policy.get_patterns ().length;
    base_policy.add_pattern (new Llmsbx.SecurityPattern ("requests\\.get\\s*\\(.*internal",
                                                         "Internal network access",
                                                         Llmsbx.SecurityIssueSeverity.HIGH));
    check (base_policy.get_patterns ().length == before + 1, "the pattern was not added");
}

/* Custom Language Handlers: LanguageConfig's values as construct properties. */
async void test_custom_handler () throws Error {
    var handler = (Llmsbx.LanguageConfig) Object.new (typeof (Llmsbx.LanguageConfig),
        "name", "custom-vala", "file-extension", "custom",
        "execution-commands", new string[] { "sh {file}", null },
        "package-manager", "apt-get install -y",
        "import-pattern", "import\\s+{module}",
        "default-image", "llmsbx/python:bookworm");
    Llmsbx.Registry.get_default ().register_language (handler);
    check (handler.get_import_pattern ("os.path") == "import\\s+os\\.path", "import pattern");

    var session = new Llmsbx.SandboxSession ("custom-vala");
    yield session.open_async (null);
    Error? failure = null;
    try {
        var result = yield session.run_async ("echo \"hello from a custom language\"", null, 0, null);
        check (result.stdout == "hello from a custom language\n", "stdout " + result.stdout);
    } catch (Error e) {
        failure = e;
    }
    /* No yield in a finally block: close, then raise what failed. */
    yield session.close_async (null);
    if (failure != null)
        throw (owned) failure;
}

async int run_all () {
    try {
        yield test_session ();
        print ("ok test_session\n");
        yield test_timeouts ();
        print ("ok test_timeouts\n");
        yield test_presets ();
        print ("ok test_presets\n");
        yield test_custom_handler ();
        print ("ok test_custom_handler\n");
    } catch (Error e) {
        stderr.printf ("FAIL: %s\n", e.message);
        return 1;
    }
    return 0;
}

int main () {
    var loop = new MainLoop ();
    int status = 1;
    run_all.begin ((obj, res) => {
        status = run_all.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
