# test-custom-language.py: a language handler written in Python, registered at
# run time and used by a session through lang=.
import re
import unittest

from llmsbxtest import GLib, IMAGE, Llmsbx, SessionTestCase


class CustomHandler(Llmsbx.LanguageConfig):
    """Runs a file by printing it; imports are `use <module>` lines."""

    def __init__(self):
        super().__init__(name='custom', file_extension='txt',
                         execution_commands=['cat {file}'], default_image=IMAGE)

    def do_get_import_pattern(self, module):
        return r'(?m)^\s*use\s+' + re.escape(module) + r'\b'


class GuardedHandler(Llmsbx.LanguageConfig):
    """A handler with its own catalogue of dangerous code: `run-it` runs a
    command, `write-it` writes a file, and the module `danger` is a shell."""

    def __init__(self):
        super().__init__(name='guarded', file_extension='txt',
                         execution_commands=['cat {file}'], default_image=IMAGE)

    def do_get_import_pattern(self, module):
        return r'(?m)^\s*use\s+' + re.escape(module) + r'\b'

    def do_get_security_catalogue(self, category):
        safe = Llmsbx.SecurityIssueSeverity.SAFE
        if category == Llmsbx.SecurityCategory.COMMAND_EXECUTION:
            return Llmsbx.SecurityPolicy(
                patterns=[Llmsbx.SecurityPattern.new(r'\brun-it\b', 'Runs a command', safe)],
                restricted_modules=[Llmsbx.RestrictedModule.new('danger', 'A shell', safe)])
        if category == Llmsbx.SecurityCategory.FILE_WRITE:
            return Llmsbx.SecurityPolicy(
                patterns=[Llmsbx.SecurityPattern.new(r'\bwrite-it\b', 'Writes a file', safe)])
        return None

    def do_get_hardened_environment(self, context):
        return ['GUARDED_TMP=' + context.get_workdir()]


class CustomLanguageTest(SessionTestCase):

    @classmethod
    def setUpClass(cls):
        cls.handler = Llmsbx.register_language_handler(CustomHandler)

    def test_registered(self):
        registry = Llmsbx.Registry.get_default()
        self.assertIn('custom', registry.list_languages())
        self.assertIn('python', registry.list_languages())
        self.assertIs(registry.lookup_language('custom'), self.handler)

    def test_registering_again_replaces(self):
        registry = Llmsbx.Registry.get_default()
        replacement = Llmsbx.register_language_handler(CustomHandler())
        try:
            self.assertIs(registry.lookup_language('CUSTOM'), replacement)
        finally:
            Llmsbx.register_language_handler(self.handler)
        self.assertIs(registry.lookup_language('custom'), self.handler)

    def test_python_overrides_reach_c(self):
        # Called through the interface, as the session and the scanner call it.
        pattern = Llmsbx.LanguageHandler.get_import_pattern(self.handler, 'os')
        self.assertEqual(pattern, r'(?m)^\s*use\s+os\b')
        self.assertTrue(GLib.Regex.match_simple(pattern, 'x\n  use os\n', 0, 0))
        self.assertEqual(Llmsbx.LanguageHandler.get_file_extension(self.handler), 'txt')
        context = Llmsbx.RuntimeContext.new('/sandbox', False)
        self.assertEqual(Llmsbx.LanguageHandler.get_run_commands(self.handler, context),
                         ['cat {file}'])
        self.assertFalse(Llmsbx.LanguageHandler.supports_library_installation(self.handler, context))

    def test_session_runs_custom_language(self):
        session = self.new_session(lang='custom', image=IMAGE)
        session.open()
        result = session.run('hello')
        self.assertEqual(result.stdout, 'hello')
        self.assertEqual(result.exit_code, 0)
        self.assertIs(session.get_language_handler(), self.handler)

        with self.assertLlmsbxError(Llmsbx.Error.LIBRARY_INSTALLATION_NOT_SUPPORTED):
            session.run('hello', libraries=['anything'])

    def test_default_image_from_handler(self):
        with Llmsbx.SandboxSession(lang='custom') as session:
            self.assertEqual(session.run('from the default image').stdout, 'from the default image')

    def test_presets_for_a_python_handler(self):
        # The four presets work for a handler written in Python, with its
        # patterns at each preset's own severity; no daemon is involved.
        Llmsbx.register_language_handler(GuardedHandler)
        for name in Llmsbx.list_available_presets():
            preset = Llmsbx.get_security_preset(name, 'guarded', 'docker')
            self.assertEqual(preset.lang, 'guarded')
            session = Llmsbx.SandboxSession(lang='guarded')
            session.apply_security_preset(preset)
            self.assertFalse(session.is_safe('run-it now')[0])
            self.assertTrue(session.is_safe('echo harmless')[0])
            self.assertEqual(session.is_safe('write-it out')[0], name != 'strict')
            self.assertEqual(session.is_safe('use danger')[0], name == 'development')
            if name != 'development':
                self.assertEqual(preset.runtime_config['environment'],
                                 {'HOME': '/sandbox', 'GUARDED_TMP': '/sandbox'})

    def test_unknown_language(self):
        session = Llmsbx.SandboxSession(lang='no-such-language')
        with self.assertLlmsbxError(Llmsbx.Error.LANGUAGE_NOT_SUPPORTED):
            with session:
                pass


if __name__ == '__main__':
    unittest.main(verbosity=2)
