# test-handler-precedence.py: a handler an application registers wins over a
# plugin's of the same name, even when registered before the plugins load.
# A process of its own: the default registry must not have loaded plugins yet.
import unittest

from llmsbxtest import Llmsbx


class PythonReplacement(Llmsbx.LanguageConfig):
    def __init__(self):
        super().__init__(name='Python', file_extension='py',
                         execution_commands=['python3 -I {file}'])


class HandlerPrecedenceTest(unittest.TestCase):

    def test_application_handler_wins(self):
        mine = Llmsbx.register_language_handler(PythonReplacement)
        registry = Llmsbx.Registry.get_default()
        self.assertIn('languages', registry.list_plugins())
        self.assertIs(registry.lookup_language('python'), mine)
        self.assertEqual(registry.list_languages().count('python'), 1)


if __name__ == '__main__':
    unittest.main(verbosity=2)
