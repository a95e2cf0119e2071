// test-guide.js: the configuration guide's session, timeout, security-preset
// and custom-handler examples in GJS, with Promise-based async through
// Gio._promisify; the session's log through its "log" signal.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import System from 'system';
import Llmsbx from 'gi://Llmsbx?version=1.0';

Gio._promisify(Llmsbx.SandboxSession.prototype, 'open_async', 'open_finish');
Gio._promisify(Llmsbx.SandboxSession.prototype, 'run_async', 'run_finish');
Gio._promisify(Llmsbx.SandboxSession.prototype, 'close_async', 'close_finish');

function check(condition, message) {
    if (!condition)
        throw new Error(message);
}

// `with SandboxSession(...) as session:`, awaiting open and close.
async function withSession(properties, body) {
    const session = new Llmsbx.SandboxSession(properties);
    await session.open_async(null);
    try {
        return await body(session);
    } finally {
        await session.close_async(null);
        check(!session.is_open, 'the session is still open after close');
    }
}

async function expectError(promise, code, domain = Llmsbx.Error) {
    try {
        await promise;
    } catch (error) {
        check(error instanceof GLib.Error && error.matches(domain, code),
            `expected ${code}, got ${error}`);
        return error;
    }
    throw new Error(`no error ${code}`);
}

// Session Configuration: skip_environment_setup, verbose, the log.
async function testSession() {
    const lines = [];
    const session = new Llmsbx.SandboxSession({
        lang: 'python',
        skip_environment_setup: true,   // Skip pip upgrades and venv creation
        verbose: true,
    });
    session.connect('log', (_session, level, sessionId, message) => lines.push({level, sessionId, message}));
    await session.open_async(null);
    try {
        const result = await session.run_async("print('Hello from pre-configured environment!')", null, 0, null);
        check(result.stdout === 'Hello from pre-configured environment!\n', `stdout ${result.stdout}`);
        await expectError(session.run_async("import requests; print('OK')", ['requests'], 0, null),
            Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED);
    } finally {
        await session.close_async(null);
    }
    check(lines.some(l => l.message.startsWith('open: sandbox')), 'no open line in the log');
    check(lines[lines.length - 1].message === 'closed', 'the log does not end with closed');
    check(lines.every(l => l.level === GLib.LogLevelFlags.LEVEL_MESSAGE), 'verbose lines are not messages');
    check(new Set(lines.map(l => l.sessionId)).size === 1 && lines[0].sessionId, 'not one session id');
}

// Timeout Configuration: the per-execution override and the infinite loop.
async function testTimeouts() {
    await withSession({lang: 'python', execution_timeout: 10.0}, async session => {
        const result1 = await session.run_async("print('Normal execution')", null, 0, null);
        check(result1.stdout === 'Normal execution\n', `stdout ${result1.stdout}`);
        const result2 = await session.run_async('import time\ntime.sleep(3)\nprint("Long operation completed")',
            null, 20.0, null);
        check(result2.stdout === 'Long operation completed\n', `stdout ${result2.stdout}`);
        await expectError(session.run_async('import time\ntime.sleep(5)\nprint("This might timeout")',
            null, 2.0, null), Llmsbx.Error.TIMEOUT);
    });
    await withSession({lang: 'python', execution_timeout: 5.0}, async session => {
        await expectError(session.run_async('i = 0\nwhile True:\n    i += 1\n', null, 0, null), Llmsbx.Error.TIMEOUT);
        // The loop was killed; the session goes on.
        const after = await session.run_async('print("after")', null, 0, null);
        check(after.stdout === 'after\n', `stdout ${after.stdout}`);
    });
    // A cancelled run fails and leaves the session usable.
    await withSession({lang: 'python'}, async session => {
        const cancellable = new Gio.Cancellable();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 1000, () => {
            cancellable.cancel();
            return GLib.SOURCE_REMOVE;
        });
        await expectError(session.run_async('import time\ntime.sleep(60)', null, 0, cancellable),
            Gio.IOErrorEnum.CANCELLED, Gio.IOErrorEnum);
        const again = await session.run_async('print(1)', null, 0, null);
        check(again.stdout === '1\n', `stdout ${again.stdout}`);
    });
}

// Security Presets: the complete example.
async function testPresets() {
    const presets = Llmsbx.list_available_presets();
    check(JSON.stringify(presets) === '["development","production","strict","educational"]', `presets ${presets}`);
    const config = Llmsbx.get_security_preset('strict', 'python', Llmsbx.BACKEND_DOCKER);
    const limits = config.get_runtime_config().recursiveUnpack();
    check(limits.mem_limit === '128m' && limits.network_mode === 'none', `runtime config ${JSON.stringify(limits)}`);
    await withSession({
        lang: 'python',
        security_policy: config.security_policy,
        runtime_configs: config.get_runtime_config(),
    }, async session => {
        const code = "import os; os.system('ls')";
        const [isSafe, violations] = session.is_safe(code);
        check(!isSafe && violations.length > 0, 'the strict preset let os.system through');
        check(violations.every(v => v.description.length > 0), 'a violation has no description');
        const error = await expectError(session.run_async(code, null, 0, null), Llmsbx.Error.SECURITY_VIOLATION);
        check(error.message.length > 0, 'the violation has no message');
        const result = await session.run_async("print('Hello, World!')", null, 0, null);
        check(result.stdout === 'Hello, World!\n', `stdout ${result.stdout}`);
    });
    // Layer Security Policies.
    const base = Llmsbx.get_security_policy('production', null);
    const before = base.get_patterns().length;
    base.add_pattern(Llmsbx.SecurityPattern.new('requests\\.get\\s*\\(.*internal', 'Internal network access',
        Llmsbx.SecurityIssueSeverity.HIGH));
    check(base.get_patterns().length === before + 1, 'the pattern was not added');
}

// Custom Language Handlers.
const CustomLanguageHandler = GObject.registerClass({
    Implements: [Llmsbx.LanguageHandler],
}, class CustomLanguageHandler extends Llmsbx.LanguageConfig {
    constructor() {
        super({
            name: 'custom-gjs',
            file_extension: 'custom',
            execution_commands: ['sh {file}'],
            package_manager: 'apt-get install -y',
            default_image: 'llmsbx/python:bookworm',
        });
    }

    vfunc_get_import_pattern(module) {
        return `import\\s+${module.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`;
    }
});

async function testCustomHandler() {
    const handler = new CustomLanguageHandler();
    Llmsbx.Registry.get_default().register_language(handler);
    check(handler.get_import_pattern('os.path') === 'import\\s+os\\.path', 'import pattern');
    await withSession({lang: 'custom-gjs'}, async session => {
        const result = await session.run_async('echo "hello from a custom language"', null, 0, null);
        check(result.stdout === 'hello from a custom language\n', `stdout ${result.stdout}`);
    });
}

const loop = new GLib.MainLoop(null, false);
let status = 1;
(async () => {
    for (const test of [testSession, testTimeouts, testPresets, testCustomHandler]) {
        await test();
        print(`ok ${test.name}`);
    }
    status = 0;
})().catch(error => {
    printerr(`FAIL: ${error.message}\n${error.stack ?? ''}`);
}).finally(() => loop.quit());
loop.run();
System.exit(status);
