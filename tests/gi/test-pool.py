# test-pool.py: the pool from Python: a context manager, SandboxSession(pool=...),
# acquire(), strategies by name, stats as a dict, nothing left after close.
import subprocess
import unittest
import uuid

from llmsbxtest import GLib, Llmsbx, container_exists

LABEL = 'io.llmsbx.test-run'


class PoolTest(unittest.TestCase):

    def setUp(self):
        self.run_id = 'gi-pool-' + uuid.uuid4().hex
        self.addCleanup(self._remove_leftovers)

    def _remove_leftovers(self):
        found = subprocess.run(['docker', 'ps', '-aq', '--filter', 'label=%s=%s' % (LABEL, self.run_id)],
                               capture_output=True, text=True, check=True).stdout.split()
        for container in found:
            subprocess.run(['docker', 'rm', '-f', container], capture_output=True)
        self.assertEqual(found, [], 'the pool left containers behind')

    def new_pool(self, **properties):
        # A read-only root: what its users leave can be reset, not only destroyed.
        return Llmsbx.SandboxPool(lang='python', backend='docker',
                                  runtime_configs={'labels': {LABEL: self.run_id}, 'read_only': True,
                                                   'tmpfs': {'/tmp': 'size=64m'}},
                                  **properties)

    def test_sessions_take_the_pool(self):
        with self.new_pool(min_size=1, max_size=1) as pool:
            with Llmsbx.SandboxSession(pool=pool) as session:
                first = session.get_container_id()
                result = session.run('open("/sandbox/mine.txt", "w").write("x"); print(6*7)')
                self.assertEqual(result.stdout, '42\n')
            with Llmsbx.SandboxSession(pool=pool) as session:
                result = session.execute_command('ls -A /sandbox')
                self.assertEqual(result.stdout, '')
                self.assertEqual(session.get_container_id(), first)
            stats = pool.get_stats()
            self.assertEqual(stats['acquired'], 2)
            self.assertEqual(stats['reused'], 1)
            self.assertEqual(stats['max-size'], 1)
        self.assertTrue(pool.get_is_closed())
        self.assertTrue(pool.get_stats()['closed'])
        self.assertFalse(container_exists(first))

    def test_plots_do_not_cross(self):
        # The pool's sandbox serves a user who plots, then one who sees none of it.
        with self.new_pool(min_size=1, max_size=1) as pool:
            with Llmsbx.ArtifactSandboxSession(pool=pool) as session:
                result = session.run('import matplotlib.pyplot as plt\n'
                                     'plt.plot([1, 2, 3])\nplt.show()\n'
                                     'plt.plot([3, 2, 1])\nplt.savefig("/sandbox/chart.png")\n'
                                     'plt.figure()\nplt.plot([5, 6])\n')
                self.assertEqual([plot.format for plot in result.plots], ['png', 'png', 'png'])
                self.assertIn('chart.png', session.execute_command('ls -A /sandbox').stdout)
            # Reset or destroyed (on Docker the plots' archive request renews
            # /etc/resolv.conf's ctime: docs/pool.md), nothing of it is left.
            with Llmsbx.ArtifactSandboxSession(pool=pool) as session:
                self.assertEqual(session.execute_command('ls -A /sandbox').stdout, '')
                result = session.run('print("mine")')
                self.assertEqual(result.stdout, 'mine\n')
                self.assertEqual(len(result.plots), 0)

    def test_acquire_and_fail_fast_by_name(self):
        with self.new_pool(max_size=1, exhaustion_strategy='fail_fast') as pool:
            session = pool.acquire()
            self.assertTrue(session.get_is_open())
            with self.assertRaises(GLib.Error) as caught:
                pool.acquire()
            self.assertEqual(caught.exception.code, int(Llmsbx.Error.LIMIT_EXCEEDED))
            session.close()

    def test_unknown_strategy(self):
        with self.assertRaises(GLib.Error) as caught:
            self.new_pool(exhaustion_strategy='sometimes')
        self.assertIn('sometimes', caught.exception.message)


if __name__ == '__main__':
    unittest.main()
