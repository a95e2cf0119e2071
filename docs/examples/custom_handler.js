// The configuration guide's "Custom Language Handlers" example, in JavaScript
// (GJS) through GObject Introspection. Run it with `gjs -m custom_handler.js`.
//
// A handler is a subclass of Llmsbx.LanguageConfig: the guide's LanguageConfig
// values are its properties, and get_import_patterns() is the
// vfunc_get_import_pattern() override, which GJS needs the interface listed in
// Implements for. The "custom" language here is the POSIX shell, run by `sh`
// in the Python image, so the example runs as written.
import GObject from 'gi://GObject';
import Llmsbx from 'gi://Llmsbx?version=1.0';

const CustomLanguageHandler = GObject.registerClass({
    Implements: [Llmsbx.LanguageHandler],
}, class CustomLanguageHandler extends Llmsbx.LanguageConfig {
    constructor() {
        super({
            name: 'custom',
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

// Register custom handler
const handler = new CustomLanguageHandler();
Llmsbx.Registry.get_default().register_language(handler);
print(handler.get_import_pattern('os.path'));

// Use custom language
const session = new Llmsbx.SandboxSession({lang: 'custom'});
session.open(null);
try {
    const result = session.run('echo "hello from a custom language"', null, 0, null);
    print(result.stdout.trimEnd());
} finally {
    session.close(null);
}
