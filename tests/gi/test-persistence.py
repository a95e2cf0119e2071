# test-persistence.py: the guide's "Building from Dockerfile" and "Session
# Persistence" examples, and attaching to an existing container, through GI.
#
# Nothing is pulled or downloaded: Dockerfiles start FROM the default image,
# and the guide's numpy/pandas/scikit-learn are stand-in wheels the test
# builds. Commits go to a copy of the default image, never to it.
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid

from llmsbxtest import IMAGE, Llmsbx, SessionTestCase, build_wheel, container_exists


def docker(*args, check=True):
    return subprocess.run([shutil.which('docker')] + list(args), check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout.strip()


def image_exists(image):
    return subprocess.run([shutil.which('docker'), 'image', 'inspect', image],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


class PersistenceTest(SessionTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='llmsbx-persistence-')
        self.addCleanup(shutil.rmtree, self.tmp)

    def remove_image_later(self, image):
        self.addCleanup(docker, 'rmi', '-f', image, check=False)

    def test_building_from_dockerfile(self):
        custom = os.path.join(self.tmp, 'custom')
        os.mkdir(custom)
        with open(os.path.join(custom, 'Dockerfile'), 'w') as f:
            f.write('FROM %s\n'
                    '# Install additional files and run a build step (offline)\n'
                    'COPY requirements.txt /opt/requirements.txt\n'
                    'RUN python3 -c "open(\'/opt/built\', \'w\').write(\'at build time\')"\n'
                    'WORKDIR /sandbox\n' % IMAGE)
        with open(os.path.join(custom, 'requirements.txt'), 'w') as f:
            f.write('numpy\npandas\n')
        # The guide's relative path: the Dockerfile's directory is the context,
        # and "custom" names the image.
        self.remove_image_later('sandbox-python-custom')
        cwd = os.getcwd()
        os.chdir(self.tmp)
        self.addCleanup(os.chdir, cwd)

        # Build image from Dockerfile
        with Llmsbx.SandboxSession(
            lang="python",
            dockerfile="./custom/Dockerfile"
        ) as session:
            self.assertEqual(session.get_image(), 'sandbox-python-custom')
            result = session.run("print(open('/opt/requirements.txt').read().split())\n"
                                 "print(open('/opt/built').read())")
            self.assertEqual(result.stdout, "['numpy', 'pandas']\nat build time\n")
        # Built by the session and not kept: gone with it.
        self.assertFalse(image_exists('sandbox-python-custom'))

    def test_session_persistence(self):
        # A copy of the default image to commit to.
        image = 'llmsbx-test/persistence:%s' % uuid.uuid4().hex[:12]
        context = os.path.join(self.tmp, 'context')
        os.mkdir(context)
        with open(os.path.join(context, 'Dockerfile'), 'w') as f:
            f.write('FROM %s\n' % IMAGE)
        docker('build', '-q', '-t', image, context)
        self.remove_image_later(image)

        wheels = os.path.join(self.tmp, 'wheels')
        os.mkdir(wheels)
        for name in ('numpy_standin', 'pandas_standin', 'sklearn_standin'):
            build_wheel(wheels, name, '1.0', 'NAME = %r\n' % name)

        # Keep container running for reuse
        with Llmsbx.SandboxSession(
            lang="python",
            image=image,
            keep_template=True,
            commit_container=True
        ) as session:
            session.copy_to_runtime(wheels, '/sandbox/wheels')
            # Install packages
            session.install(['/sandbox/wheels/%s-1.0-py3-none-any.whl' % name
                             for name in ('numpy_standin', 'pandas_standin', 'sklearn_standin')])

            # Run initial setup
            result = session.run("""
import numpy_standin as np
import pandas_standin as pd
from sklearn_standin import NAME
print("Environment ready!")
            """)
            self.assertEqual(result.stdout, "Environment ready!\n", result.stderr)
            first = session.get_container_id()

        # Container state is saved and can be reused
        self.assertFalse(container_exists(first))
        self.assertTrue(image_exists(image))
        with Llmsbx.SandboxSession(lang="python", image=image) as session:
            result = session.run("import numpy_standin as np, pandas_standin as pd\n"
                                 "print(np.NAME, pd.NAME)")
            self.assertEqual(result.stdout, "numpy_standin pandas_standin\n", result.stderr)

    def test_attach_to_existing_container(self):
        container = docker('create', '--network', 'none', IMAGE, 'sleep', 'infinity')
        self.addCleanup(docker, 'rm', '-f', container, check=False)

        with Llmsbx.SandboxSession(lang="python", container_id=container) as session:
            self.assertTrue(session.get_container_id().startswith(container))
            self.assertEqual(session.run("print(6 * 7)").stdout, "42\n")
        # Never removed by the session: it was not the session's.
        self.assertTrue(container_exists(container))
        self.assertEqual(docker('inspect', '-f', '{{.State.Running}}', container), 'true')


if __name__ == '__main__':
    unittest.main(verbosity=2)
