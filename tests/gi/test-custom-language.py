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

    def test_unknown_language(self):
        session = Llmsbx.SandboxSession(lang='no-such-language')
        with self.assertLlmsbxError(Llmsbx.Error.LANGUAGE_NOT_SUPPORTED):
            with session:
                pass


if __name__ == '__main__':
    unittest.main(verbosity=2)
