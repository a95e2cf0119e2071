// test-smoke.js: GJS through the typelib: list languages, run print(6*7) in a
// session, and run code of a language handler written in JavaScript.
import GObject from 'gi://GObject';
import System from 'system';
import Llmsbx from 'gi://Llmsbx?version=1.0';

function check(condition, message) {
    if (!condition)
        throw new Error(message);
}

function withSession(properties, body) {
    const session = new Llmsbx.SandboxSession(properties);
    session.open(null);
    try {
        body(session);
    } finally {
        session.close(null);
    }
    check(!session.is_open, 'the session is still open after close()');
}

// A handler from properties, with one method written in JavaScript.
const Echo = GObject.registerClass({
    Implements: [Llmsbx.LanguageHandler],
}, class Echo extends Llmsbx.LanguageConfig {
    vfunc_get_import_pattern(module) {
        const escaped = module.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
        return `(?m)^\\s*use\\s+${escaped}\\b`;
    }
});

// Uncaught errors would be Gjs-CRITICALs, fatal under G_DEBUG=fatal-criticals:
// report them and exit 1 instead.
try {
    const registry = Llmsbx.Registry.get_default();
    registry.register_language(new Echo({
        name: 'echo',
        file_extension: 'txt',
        execution_commands: ['cat {file}'],
        default_image: 'llmsbx/python:bookworm',
    }));

    const languages = registry.list_languages();
    check(languages.includes('python'), `python is not among the languages: ${languages}`);
    check(languages.includes('echo'), `echo is not among the languages: ${languages}`);

    const echo = registry.lookup_language('echo');
    check(echo.get_import_pattern('os.path') === '(?m)^\\s*use\\s+os\\.path\\b',
        `unexpected import pattern ${echo.get_import_pattern('os.path')}`);

    withSession({lang: 'python'}, session => {
        const result = session.run('print(6*7)', null, 0, null);
        check(result.stdout === '42\n', `unexpected stdout ${JSON.stringify(result.stdout)}`);
        check(result.exit_code === 0, `unexpected exit code ${result.exit_code}`);
    });

    withSession({lang: 'echo'}, session => {
        const result = session.run('hello from JavaScript', null, 0, null);
        check(result.stdout === 'hello from JavaScript', `unexpected stdout ${JSON.stringify(result.stdout)}`);
    });
} catch (error) {
    printerr(`FAIL: ${error.message}\n${error.stack ?? ''}`);
    System.exit(1);
}

print('ok');
System.exit(0);
