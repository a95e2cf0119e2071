#!/usr/bin/python3
# The configuration guide's "Custom Language Handlers" example, in Python
# through GObject Introspection.
#
# A handler is a subclass of Llmsbx.LanguageConfig: the guide's LanguageConfig
# values are its properties, and get_import_patterns() is the
# do_get_import_pattern() override. The "custom" language here is the POSIX
# shell, run by `sh` in the Python image, so the example runs as written.
import re

import gi

gi.require_version('Llmsbx', '1.0')
from gi.repository import Llmsbx  # noqa: E402


class CustomLanguageHandler(Llmsbx.LanguageConfig):
    def __init__(self):
        super().__init__(
            name='custom',
            file_extension='custom',
            execution_commands=['sh {file}'],
            package_manager='apt-get install -y',
            default_image='llmsbx/python:bookworm',
        )

    def do_get_import_pattern(self, module):
        return r'import\s+' + re.escape(module)


# Register custom handler (a class or an instance)
handler = Llmsbx.register_language_handler(CustomLanguageHandler)
print(Llmsbx.LanguageHandler.get_import_pattern(handler, 'os.path'))

# Use custom language
with Llmsbx.SandboxSession(lang='custom') as session:
    result = session.run('echo "hello from a custom language"')
    print(result.stdout, end='')
