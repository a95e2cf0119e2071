# guide.py: runs the configuration guide's Python examples as written, with
# only their import lines changed from llm_sandbox to gi.repository.Llmsbx.
import contextlib
import io
import textwrap

import gi

gi.require_version('Llmsbx', '1.0')

# The guide's import lines and what each becomes; nothing else changes.
IMPORTS = {
    'from llm_sandbox import': 'from gi.repository.Llmsbx import',
    'from llm_sandbox.exceptions import': 'from gi.repository.Llmsbx import',
    'from llm_sandbox.security import': 'from gi.repository.Llmsbx import',
}


def translate(source):
    """The example with its llm_sandbox imports replaced; any other line of
    it is left as the guide has it (an unknown llm_sandbox import fails)."""
    lines = []
    for line in textwrap.dedent(source).splitlines():
        for old, new in IMPORTS.items():
            if line.lstrip().startswith(old):
                line = line.replace(old, new, 1)
        if 'llm_sandbox' in line and 'getLogger' not in line:
            raise AssertionError('no translation for the import line %r' % line)
        lines.append(line)
    return '\n'.join(lines) + '\n'


def run(*sources, name='<guide example>', **namespace):
    """Runs an example (its parts, each indented as it likes, one after the
    other); returns (its namespace, what it printed)."""
    out = io.StringIO()
    code = compile(''.join(translate(source) for source in sources), name, 'exec')
    namespace.setdefault('__name__', '__guide__')
    with contextlib.redirect_stdout(out):
        exec(code, namespace)
    return namespace, out.getvalue()


# The guide's "Handle Backend Failover" example, as written (test-guide-failover
# runs it on the engines, test-guide-kubernetes falls through to Kubernetes).
FALLBACK = '''
    from llm_sandbox import SandboxSession, SandboxBackend

    def create_session_with_fallback(**kwargs):
        """Create session with backend fallback"""
        backends = [
            SandboxBackend.DOCKER,
            SandboxBackend.PODMAN,
            SandboxBackend.KUBERNETES
        ]

        for backend in backends:
            try:
                return SandboxSession(backend=backend, **kwargs)
            except Exception as e:
                print(f"Backend {backend} failed: {e}")
                continue

        raise RuntimeError("No available backends")
'''


def open_fallback(backends):
    """FALLBACK's loop opening each session in it, so that a backend that
    is not there (sessions open lazily) fails there: `backends` is the
    list's Python source."""
    return '''
    from llm_sandbox import SandboxSession, SandboxBackend

    def open_session_with_fallback(**kwargs):
        for backend in %s:
            try:
                session = SandboxSession(backend=backend, **kwargs)
                session.open()
                return session
            except Exception as e:
                print(f"Backend {backend} failed: {e.message}")
                continue
        raise RuntimeError("No available backends")
''' % backends
