# test-runtime-configs.py: the guide's "Runtime Configuration" and "Example
# Runtime Configurations", as Python dicts through GI, each checked from
# inside the sandbox (or, for what has no inside view, with `docker inspect`).
# The guide's images (python:3.9) cannot be pulled here: the default image is used.
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from llmsbxtest import Llmsbx, SessionTestCase

# Reads the sandbox's limits, whichever cgroup version the host has.
READ_LIMITS = """
import os
def read(*names):
    for name in names:
        path = os.path.join('/sys/fs/cgroup', name)
        if os.path.exists(path):
            return open(path).read().strip()
    return None
print(read('memory/memory.limit_in_bytes', 'memory.max'))
print(read('cpu/cpu.cfs_quota_us', 'cpu.max').split()[0])
print(read('cpu/cpu.cfs_period_us') or read('cpu.max').split()[1])
"""


def inspect(container_id):
    docker = shutil.which('docker')
    out = subprocess.run([docker, 'inspect', '--type', 'container', container_id],
                         check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out)[0]


def status_field(session, field):
    line = session.execute_command('grep ^%s: /proc/self/status' % field).stdout
    return line.split(':', 1)[1].strip()


class RuntimeConfigTest(SessionTestCase):

    def open_session(self, runtime_configs, **properties):
        session = self.new_session(lang='python', runtime_configs=runtime_configs, **properties)
        session.open()
        return session

    def run_ok(self, session, code):
        result = session.run(code)
        self.assertEqual(result.exit_code, 0, result.stderr)
        return result.stdout

    def test_docker_runtime_config(self):
        with tempfile.TemporaryDirectory() as host_path:
            with open(os.path.join(host_path, 'input.txt'), 'w') as f:
                f.write('from the host\n')
            # Docker-specific runtime configuration
            runtime_configs = {
                "privileged": False,
                "mem_limit": "512m",  # Memory limit (use mem_limit, not memory)
                "cpu_period": 100000,
                "cpu_quota": 50000,
                "network_mode": "bridge",
                "volumes": {host_path: {"bind": "/container/path", "mode": "ro"}},
                "environment": {"PYTHONPATH": "/app"},
                "working_dir": "/workspace"
            }
            session = self.open_session(runtime_configs, backend="docker")

            self.assertEqual(self.run_ok(session, READ_LIMITS), '536870912\n50000\n100000\n')
            out = self.run_ok(session, "import os\n"
                                       "print(open('/container/path/input.txt').read(), end='')\n"
                                       "print(os.environ['PYTHONPATH'])\n")
            self.assertEqual(out, 'from the host\n/app\n')
            written = session.execute_command('touch /container/path/new')
            self.assertNotEqual(written.exit_code, 0)
            self.assertIn('Read-only file system', written.stderr)
            # working_dir is the container's own directory (docker-py's meaning).
            self.assertEqual(session.execute_command('readlink /proc/1/cwd').stdout, '/workspace\n')
            details = inspect(session.get_container_id())
            self.assertEqual(details['HostConfig']['NetworkMode'], 'bridge')
            self.assertFalse(details['HostConfig']['Privileged'])

    def test_podman_style_runtime_config(self):
        # The guide's Podman example uses the same keys; cpu_shares is the new one.
        with tempfile.TemporaryDirectory() as host_path:
            runtime_config = {
                "privileged": False,
                "mem_limit": "512m",
                "cpu_shares": 512,
                "network_mode": "bridge",
                "volumes": {host_path: {"bind": "/container/path", "mode": "ro"}},
                "environment": {"PYTHONPATH": "/app"},
                "working_dir": "/workspace"
            }
            session = self.open_session(runtime_config)
            shares = self.run_ok(session, "import os\n"
                                          "for p in ('/sys/fs/cgroup/cpu/cpu.shares', '/sys/fs/cgroup/cpu.weight'):\n"
                                          "    if os.path.exists(p):\n"
                                          "        print(p.rsplit('/', 1)[1], open(p).read().strip())\n")
            # cgroup v2 maps 512 shares to weight 20.
            self.assertIn(shares, ('cpu.shares 512\n', 'cpu.weight 20\n'))

    def test_resource_limits(self):
        # Memory and CPU limits
        runtime_configs = {
            "mem_limit": "1g",        # 1GB memory limit (use mem_limit, not memory)
            "cpu_period": 100000,     # CPU period in microseconds
            "cpu_quota": 50000,       # CPU quota (50% of one CPU)
            "memswap_limit": "2g"     # Memory + swap limit
        }
        session = self.open_session(runtime_configs)
        self.assertEqual(self.run_ok(session, READ_LIMITS), '1073741824\n50000\n100000\n')
        swap = self.run_ok(session, "import os\n"
                                    "v1 = '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'\n"
                                    "v2 = '/sys/fs/cgroup/memory.swap.max'\n"
                                    "print(int(open(v1).read()) if os.path.exists(v1) else\n"
                                    "      int(open(v2).read()) + 1073741824)\n")
        self.assertEqual(swap, '2147483648\n')

    def test_network_configuration(self):
        # Custom network settings. Host networking shares this process's
        # network namespace; nothing is sent anywhere.
        runtime_configs = {
            "network_mode": "host",        # Use host networking
            "ports": {"8080/tcp": 8080},   # Port mapping
            "dns": ["8.8.8.8", "8.8.4.4"]  # Custom DNS servers
        }
        session = self.open_session(runtime_configs)
        inside = session.execute_command('readlink /proc/self/ns/net').stdout.strip()
        self.assertEqual(inside, os.readlink('/proc/self/ns/net'))
        host_config = inspect(session.get_container_id())['HostConfig']
        self.assertEqual(host_config['NetworkMode'], 'host')
        self.assertEqual(host_config['PortBindings']['8080/tcp'][0]['HostPort'], '8080')
        self.assertEqual(host_config['Dns'], ['8.8.8.8', '8.8.4.4'])

    def test_volume_mounts(self):
        with tempfile.TemporaryDirectory() as host:
            data = os.path.join(host, 'data')
            config = os.path.join(host, 'config')
            os.mkdir(data)
            os.mkdir(config)
            with open(os.path.join(config, 'app.ini'), 'w') as f:
                f.write('debug=1\n')
            # Volume mounting
            runtime_configs = {
                "volumes": {
                    data: {"bind": "/data", "mode": "rw"},
                    config: {"bind": "/config", "mode": "ro"}
                },
                "network_mode": "none"
            }
            session = self.open_session(runtime_configs)
            out = self.run_ok(session, "print(open('/config/app.ini').read(), end='')\n"
                                       "open('/data/result.txt', 'w').write('written in the sandbox')\n")
            self.assertEqual(out, 'debug=1\n')
            with open(os.path.join(data, 'result.txt')) as f:
                self.assertEqual(f.read(), 'written in the sandbox')
            refused = session.execute_command('touch /config/other')
            self.assertIn('Read-only file system', refused.stderr)

    def test_environment_variables(self):
        # Environment configuration
        runtime_configs = {
            "environment": {
                "PYTHONPATH": "/app:/libs",
                "DEBUG": "true",
                "API_KEY": "your-api-key"
            },
            "network_mode": "none"
        }
        session = self.open_session(runtime_configs)
        out = self.run_ok(session, "import os, sys\n"
                                   "print(os.environ['PYTHONPATH'], os.environ['DEBUG'], os.environ['API_KEY'])\n"
                                   "print('/libs' in sys.path)\n")
        self.assertEqual(out, '/app:/libs true your-api-key\nTrue\n')

    def test_security_configuration(self):
        # Security settings
        runtime_configs = {
            "privileged": False,
            "user": "1000:1000",           # Run as specific user/group
            "cap_drop": ["ALL"],           # Drop all capabilities
            "cap_add": ["NET_ADMIN"],      # Add specific capabilities
            "security_opt": ["no-new-privileges:true"],
            "network_mode": "none"
        }
        session = self.open_session(runtime_configs)
        out = self.run_ok(session, "import os\n"
                                   "open('owned.txt', 'w').write('x')\n"
                                   "print(os.getuid(), os.getgid(), os.stat('owned.txt').st_uid)\n")
        self.assertEqual(out, '1000 1000 1000\n')
        self.assertEqual(int(status_field(session, 'CapBnd'), 16), 1 << 12)  # NET_ADMIN only
        self.assertEqual(status_field(session, 'NoNewPrivs'), '1')

    def test_configuration_best_practices(self):
        # Production environment
        prod_config = {
            "cpu_count": 1,
            "mem_limit": "256m",
            "pids_limit": 50
        }
        session = self.open_session(prod_config)
        limits = self.run_ok(session, READ_LIMITS)
        self.assertEqual(limits, '268435456\n100000\n100000\n')
        self.assertEqual(session.execute_command('cat /sys/fs/cgroup/pids/pids.max '
                                                 '2>/dev/null || cat /sys/fs/cgroup/pids.max').stdout, '50\n')

        # Development environment: 4 CPUs, more than a smaller host has; the
        # engine refuses that with its reason.
        dev_config = {
            "cpu_count": 4,
            "mem_limit": "2g",
        }
        dev = self.new_session(lang='python', runtime_configs=dev_config)
        if os.cpu_count() >= 4:
            dev.open()
            self.assertEqual(self.run_ok(dev, READ_LIMITS).split('\n')[1], '400000')
        else:
            with self.assertLlmsbxError(Llmsbx.Error.INVALID_ARGUMENT) as raised:
                dev.open()
            self.assertIn('CPU', raised.exception.message)

    def test_unknown_key_and_bad_value(self):
        for configs, names in (({"memory": "512m"}, ["'memory'"]),
                               ({"mem_limit": "12q"}, ["'mem_limit'", "12q"])):
            session = Llmsbx.SandboxSession(lang='python', runtime_configs=configs)
            with self.assertLlmsbxError(Llmsbx.Error.INVALID_ARGUMENT) as raised:
                with session:
                    self.fail('opened with %r' % configs)
            for name in names:
                self.assertIn(name, raised.exception.message)
            self.assertFalse(session.get_is_open())


if __name__ == '__main__':
    unittest.main(verbosity=2)
