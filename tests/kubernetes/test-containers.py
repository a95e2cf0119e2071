# test-containers.py: a pod's spec becomes a real Docker container: users, env, workingDir, security, limits, volumes.
import json
import time
import unittest
import uuid

import kubetest
from kubetest import Server, docker, pod_manifest


def inspect(container_id):
    return json.loads(docker('inspect', container_id))[0]


class ContainerMappingTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server('http')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tearDown(self):
        for pod in self.server.pods():
            self.server.delete_pod(pod['name'])

    def sh(self, pod, script, **kwargs):
        ws = self.server.exec_ws(pod, ['sh', '-c', script], **kwargs)
        self.assertEqual(ws.status, 101, ws.body)
        ws.read_until_close()
        return ws.stdout().decode(), ws.stderr().decode(), ws.exit_code()

    def start(self, **spec):
        return self.server.run_pod(pod_manifest(generate='map-', **spec))['metadata']['name']

    def test_users_and_groups(self):
        name = self.start(securityContext={'runAsUser': 1000, 'runAsGroup': 1000, 'fsGroup': 2000,
                                           'supplementalGroups': [3000]},
                          container={'securityContext': {'runAsUser': 1001}})
        out, _, _ = self.sh(name, 'id -u; id -g; id -G')
        uid, gid, groups = out.split('\n')[:3]
        self.assertEqual((uid, gid), ('1001', '1000'), 'the container level wins for the user')
        self.assertEqual(set(groups.split()), {'1000', '2000', '3000'})
        self.assertEqual(inspect(self.server.docker_id(name))['Config']['User'], '1001:1000')

    def test_env_expansion_and_field_refs(self):
        name = self.start(container={
            'command': ['sh', '-c', 'echo "$1" > /tmp/arg; sleep infinity', 'sh', '$(GREETING)'],
            'env': [{'name': 'GREETING', 'value': 'hello'},
                    {'name': 'DERIVED', 'value': '$(GREETING)-world'},
                    {'name': 'ESCAPED', 'value': '$$(GREETING)'},
                    {'name': 'UNKNOWN', 'value': '$(NOT_DEFINED)'},
                    {'name': 'POD_NAME', 'valueFrom': {'fieldRef': {'fieldPath': 'metadata.name'}}},
                    {'name': 'MEM', 'valueFrom': {'resourceFieldRef': {
                        'resource': 'limits.memory', 'divisor': '1Mi'}}}],
            'resources': {'limits': {'memory': '128Mi'}}})
        out, _, _ = self.sh(name, 'echo "$DERIVED|$ESCAPED|$UNKNOWN|$POD_NAME|$MEM"; cat /tmp/arg; '
                                  'echo "$KUBERNETES_SERVICE_HOST:$PYTHONUNBUFFERED"')
        self.assertEqual(out.split('\n')[:3], [
            'hello-world|$(GREETING)|$(NOT_DEFINED)|%s|128' % name, 'hello', '127.0.0.1:1'],
            'kubelet expansion, and the image environment kept')

    def test_secret_and_config_map_refs_are_config_errors(self):
        manifest = pod_manifest(generate='secret-', container={'env': [
            {'name': 'PASSWORD', 'valueFrom': {'secretKeyRef': {'name': 'db', 'key': 'pw'}}}]})
        name = self.server.create_pod(manifest)['metadata']['name']
        pod = self.server.wait_pod(name, lambda p: p['status'].get('containerStatuses') and
                                   'waiting' in p['status']['containerStatuses'][0]['state'] and
                                   p['status']['containerStatuses'][0]['state']['waiting']
                                   ['reason'] == 'CreateContainerConfigError')
        self.assertEqual(pod['status']['containerStatuses'][0]['state']['waiting']['message'],
                         'secret "db" not found')

    def test_command_and_args_replace_entrypoint_and_cmd(self):
        name = self.start(command=['sleep', '1001'])
        out, _, _ = self.sh(name, 'tr "\\0" " " < /proc/1/cmdline')
        self.assertEqual(out, 'sleep 1001 ', 'the image CMD is not appended to a command')
        name = self.start(command=None, container={'args': ['sleep', '1002']})
        out, _, _ = self.sh(name, 'tr "\\0" " " < /proc/1/cmdline')
        self.assertEqual(out, 'sleep 1002 ')
        name = self.start(command=None)
        out, _, _ = self.sh(name, 'tr "\\0" " " < /proc/1/cmdline; pwd; hostname')
        self.assertEqual(out, 'sleep infinity /sandbox\n%s\n' % name, 'the image defaults')

    def test_working_dir_is_created(self):
        name = self.start(container={'workingDir': '/made/for/the/pod',
                                     'securityContext': {'readOnlyRootFilesystem': True}})
        out, _, _ = self.sh(name, 'pwd')
        self.assertEqual(out, '/made/for/the/pod\n')

    def test_security_context(self):
        name = self.start(securityContext={'runAsUser': 1000, 'runAsGroup': 1000}, container={
            'securityContext': {'readOnlyRootFilesystem': True, 'allowPrivilegeEscalation': False,
                                'capabilities': {'drop': ['ALL']}}})
        out, err, code = self.sh(name, 'touch /rootfs-file; grep -E "^(CapEff|NoNewPrivs)" '
                                       '/proc/self/status')
        self.assertIn('Read-only file system', err)
        self.assertIn('CapEff:\t0000000000000000', out)
        self.assertIn('NoNewPrivs:\t1', out)
        host = inspect(self.server.docker_id(name))['HostConfig']
        self.assertTrue(host['ReadonlyRootfs'])
        self.assertEqual(host['CapDrop'], ['ALL'])
        self.assertEqual(host['SecurityOpt'], ['no-new-privileges'])

    def test_run_as_non_root(self):
        def config_error(manifest):
            name = self.server.create_pod(manifest)['metadata']['name']
            pod = self.server.wait_pod(name, lambda p: (p['status'].get('containerStatuses') or [
                {'state': {}}])[0]['state'].get('waiting', {}).get('reason') ==
                'CreateContainerConfigError')
            return pod, pod['status']['containerStatuses'][0]['state']['waiting']['message']

        pod, message = config_error(pod_manifest(generate='root-',
                                                 securityContext={'runAsNonRoot': True}))
        ref = '%s_default(%s)' % (pod['metadata']['name'], pod['metadata']['uid'])
        self.assertEqual(message, 'container has runAsNonRoot and image will run as root (pod: '
                                  '"%s", container: main)' % ref)
        pod, message = config_error(pod_manifest(generate='root-', container={
            'securityContext': {'runAsNonRoot': True, 'runAsUser': 0}}))
        self.assertTrue(message.startswith("container's runAsUser breaks non-root policy"), message)
        self.start(securityContext={'runAsNonRoot': True, 'runAsUser': 1000})

    def test_resource_limits(self):
        name = self.start(container={'resources': {'limits': {'memory': '64Mi', 'cpu': '500m'},
                                                   'requests': {'cpu': '250m'}}})
        host = inspect(self.server.docker_id(name))['HostConfig']
        self.assertEqual((host['Memory'], host['MemorySwap'], host['NanoCpus'], host['CpuShares']),
                         (64 * 2 ** 20, 64 * 2 ** 20, 500000000, 256))
        out, _, _ = self.sh(name, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null '
                                  '|| cat /sys/fs/cgroup/memory.max')
        self.assertEqual(out.strip(), str(64 * 2 ** 20))

    def test_pod_pids_limit(self):
        # The node's podPidsLimit, not the pod's: none by default, then what
        # the setting says for pods created while it is set.
        before = self.start()
        self.assertEqual(inspect(self.server.docker_id(before))['HostConfig'].get('PidsLimit') or 0, 0)
        self.server.configure(pod_pids_limit=32)
        try:
            name = self.start()
            self.assertEqual(inspect(self.server.docker_id(name))['HostConfig']['PidsLimit'], 32)
            out, _, _ = self.sh(name, 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max')
            self.assertEqual(out.strip(), '32')
        finally:
            self.server.reset()

    def test_empty_dir_volumes(self):
        name = self.start(
            securityContext={'runAsUser': 1000, 'runAsGroup': 1000},
            volumes=[{'name': 'data', 'emptyDir': {}},
                     {'name': 'work', 'emptyDir': {'medium': 'Memory', 'sizeLimit': '16Mi'}}],
            container={'workingDir': '/sandbox',
                       'securityContext': {'readOnlyRootFilesystem': True},
                       'volumeMounts': [{'name': 'data', 'mountPath': '/data'},
                                        {'name': 'work', 'mountPath': '/sandbox'}]})
        out, err, code = self.sh(name, 'stat -c "%a %u" /data /sandbox; ls -A /sandbox | wc -l; '
                                       'grep " /sandbox " /proc/mounts; '
                                       'cp /bin/true /sandbox/t && /sandbox/t && echo exec-ok; '
                                       'echo x > /data/f && echo data-ok')
        lines = out.split('\n')
        self.assertEqual(lines[0], '777 0', 'emptyDir is world-writable')
        self.assertEqual(lines[1], '1777 0', 'a Memory emptyDir is a sticky tmpfs')
        self.assertEqual(lines[2], '0')
        self.assertIn('tmpfs', lines[3])
        self.assertIn('size=16384k', lines[3])
        self.assertEqual(lines[4:6], ['exec-ok', 'data-ok'], err)

    def test_fs_group_owns_volumes(self):
        name = self.start(securityContext={'runAsUser': 1000, 'fsGroup': 4000},
                          volumes=[{'name': 'data', 'emptyDir': {}}],
                          container={'volumeMounts': [{'name': 'data', 'mountPath': '/data'}]})
        out, _, _ = self.sh(name, 'stat -c "%a %g" /data; touch /data/f; stat -c %g /data/f')
        self.assertEqual(out, '2777 4000\n4000\n')

    def test_labels(self):
        name = self.start(labels={'app': 'mapped', 'io.llmsbx.session': 'abc'})
        labels = inspect(self.server.docker_id(name))['Config']['Labels']
        self.assertEqual(labels['app'], 'mapped')
        self.assertEqual(labels['io.llmsbx.session'], 'abc')
        self.assertEqual(labels['io.llmsbx.managed-by'], 'libllmsbx')
        self.assertEqual(labels['io.llmsbx.kube-test-server'], self.server.info['instance'])
        self.assertEqual(labels['io.kubernetes.pod.name'], name)
        self.assertEqual(labels['io.kubernetes.pod.namespace'], 'default')

    def test_networking(self):
        name = self.start()
        out, _, _ = self.sh(name, 'ls /sys/class/net')
        self.assertEqual(out.split(), ['lo'], 'no network unless the pod asks for hostNetwork')
        name = self.start(hostNetwork=True)
        self.assertEqual(inspect(self.server.docker_id(name))['HostConfig']['NetworkMode'], 'host')
        self.assertEqual(self.server.get_pod(name)['status']['podIP'], '127.0.0.1')

    def test_service_account_token(self):
        name = self.start(automountServiceAccountToken=True)
        out, _, _ = self.sh(name, 'cd /var/run/secrets/kubernetes.io/serviceaccount && ls && '
                                  'cat namespace')
        self.assertEqual(out, 'ca.crt\nnamespace\ntoken\ndefault')
        name = self.start(automountServiceAccountToken=False)
        _, _, code = self.sh(name, 'test -e /var/run/secrets/kubernetes.io')
        self.assertEqual(code, 1)

    def test_tty_keeps_a_shell_alive(self):
        # The guide's "Pod exits immediately: missing tty": sh reads EOF without a terminal.
        with_tty = self.start(command=['sh'], restartPolicy='Never', container={'tty': True})
        without = self.server.create_pod(pod_manifest(generate='notty-', command=['sh'],
                                                      restartPolicy='Never'))['metadata']['name']
        self.server.wait_pod(without, lambda p: p['status']['phase'] == 'Succeeded')
        self.assertEqual(self.server.get_pod(with_tty)['status']['phase'], 'Running')

    def test_process_survives_a_client_disconnect(self):
        name = self.start()
        marker = '/tmp/survived-%s' % uuid.uuid4().hex[:6]
        ws = self.server.exec_ws(name, ['sh', '-c', 'sleep 1; touch %s' % marker])
        ws.read_messages(1)
        ws.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.sh(name, 'test -e %s' % marker)[2] == 0:
                break
            time.sleep(0.2)
        self.assertEqual(self.sh(name, 'test -e %s' % marker)[2], 0)

    def test_delete_removes_the_container(self):
        name = self.start()
        container = self.server.docker_id(name)
        self.server.delete_pod(name, grace=0)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and docker('ps', '-aq', '--filter', 'id=' + container).strip():
            time.sleep(0.1)
        self.assertFalse(docker('ps', '-aq', '--filter', 'id=' + container).strip())


if __name__ == '__main__':
    kubetest.main()
