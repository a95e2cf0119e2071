# kubelet.py: the node of the test API server: runs each pod as Docker containers and reports its status as a kubelet would.
"""One thread per pod schedules it (or reports Unschedulable), binds it to
the node, creates its containers (image checks: ErrImagePull <->
ImagePullBackOff while the image is missing, InvalidImageName,
CreateContainerConfigError for runAsNonRoot and missing config sources,
CreateContainerError when dockerd refuses the container), starts them after
`pending_ms` and keeps watching them: exits become terminated states, and
with restartPolicy Always/OnFailure a CrashLoopBackOff with a growing
back-off before the container is started again. activeDeadlineSeconds fails
the pod with DeadlineExceeded. Deletion sends the stop signal, kills after
the grace period, and removes the pod once its containers stopped.

Image scenarios (settings `image_scenarios`) simulate a failure for an image
name without Docker. Status is always recomputed from the kubelet's private
per-container state, so phase, conditions and containerStatuses agree."""
import copy
import os
import re
import shutil
import sys
import threading
import time

from . import podspec
from .docker_api import DockerError
from .store import now_rfc3339

SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
MAX_BACKOFF_MS = 300000
_REFERENCE = re.compile(
    r'^((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*'
    r'(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*'
    r'(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*)(?::[\w][\w.-]{0,127})?'
    r'(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$')


def expand(text, env):
    """Kubernetes' $(VAR) expansion: defined names are replaced, undefined
    ones kept as written, $$ is a literal $."""
    out, i = [], 0
    while i < len(text):
        if text.startswith('$$', i):
            out.append('$')
            i += 2
            continue
        if text.startswith('$(', i):
            end = text.find(')', i + 2)
            if end != -1:
                name = text[i + 2:end]
                out.append(env[name] if name in env else text[i:end + 1])
                i = end + 1
                continue
        out.append(text[i])
        i += 1
    return ''.join(out)


def pod_ref(obj):
    meta = obj['metadata']
    return '%s_%s(%s)' % (meta['name'], meta['namespace'], meta['uid'])


class ConfigError(Exception):
    """The kubelet cannot build the container: CreateContainerConfigError."""


class _Container:
    def __init__(self, spec):
        self.spec = spec
        self.state = {'waiting': {'reason': 'ContainerCreating'}}
        self.last_state = {}
        self.restarts = 0
        self.started = False
        self.running = False
        self.docker_id = None
        self.image_id = ''


class _PodState:
    def __init__(self):
        self.bound = False
        self.unschedulable = None       # message while the scheduler cannot place the pod
        self.start_time = None
        self.pod_ip = None
        self.containers = {}
        self.deadline_exceeded = False
        self.kill_deadline = None       # monotonic time at which deletion SIGKILLs
        self.delete_started = None
        self.conditions = {}            # type -> (status, lastTransitionTime)


class Kubelet:
    def __init__(self, store, docker, settings, instance, state_dir, server_port, ca_pem):
        self.store = store
        self.docker = docker
        self.settings = settings
        self.instance = instance
        self.state_dir = state_dir
        self.server_port = server_port
        self.ca_pem = ca_pem
        self.stopping = threading.Event()
        self._creating = 0                  # docker creates in flight (shutdown waits for them)
        self._creating_done = threading.Condition()
        self._ip = 1
        self._ip_lock = threading.Lock()
        self.base_labels = {'io.llmsbx.managed-by': 'libllmsbx',
                            'io.llmsbx.kube-test-server': instance,
                            'io.llmsbx.kube-test-server-pid': str(os.getpid()),
                            'io.llmsbx.kube-test-server-pidns': _pid_namespace()}

    # --- entry points from the API server

    def admit(self, record):
        record.created = time.monotonic()
        record.k = _PodState()
        for ctr in record.obj['spec']['containers']:
            record.k.containers[ctr['name']] = _Container(copy.deepcopy(ctr))
        threading.Thread(target=self._guarded, args=(self._run_pod, record),
                         name='pod-' + record.name, daemon=True).start()

    def begin_delete(self, record, grace):
        """The API server set deletionTimestamp; stop the containers within
        `grace` seconds, then remove the pod from the API."""
        with self.store.lock:
            first = not record.deleting
            record.deleting = True
            deadline = time.monotonic() + grace
            if record.k.kill_deadline is None or deadline < record.k.kill_deadline:
                record.k.kill_deadline = deadline
            if first:
                record.k.delete_started = time.monotonic()
        if first:
            threading.Thread(target=self._guarded, args=(self._terminate, record),
                             name='delete-' + record.name, daemon=True).start()

    def delete_now(self, record):
        """The pod is already gone from the API (grace 0): clean up behind it,
        as the kubelet does after a forced deletion."""
        with self.store.lock:
            record.deleting = True
            ids = [c.docker_id for c in record.k.containers.values() if c.docker_id]
        threading.Thread(target=self._guarded, args=(self._cleanup, record, ids),
                         daemon=True).start()

    def container_id(self, record, name):
        with self.store.lock:
            ctr = record.k.containers.get(name)
            if ctr is None or not ctr.running or record.removed:
                return None
            return ctr.docker_id

    def shutdown(self):
        """Removes every container of this server (all pods, and anything
        labelled with this instance that a race left behind)."""
        self.stopping.set()
        # A create that dockerd finishes after the listing below would
        # survive us: wait for those in flight (they see `stopping` and
        # remove what they made).
        with self._creating_done:
            self._creating_done.wait_for(lambda: self._creating == 0, timeout=60)
        with self.store.lock:
            self.store.close()
            ids = [c.docker_id for r in self.store.records() for c in r.k.containers.values()
                   if c.docker_id]
        label = 'io.llmsbx.kube-test-server=' + self.instance
        ids += [c['Id'] for c in self._safe_list(label)]
        self._remove_all(set(ids))
        # A removal another thread began (a pod deleted with grace 0 just
        # before) answers 409 "already in progress" while the container
        # still exists, and a loaded dockerd may fail one: remove again
        # until dockerd lists none.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            left = [c['Id'] for c in self._safe_list(label)]
            if not left:
                break
            time.sleep(0.2)
            self._remove_all(set(left))
        shutil.rmtree(os.path.join(self.state_dir, 'pods'), ignore_errors=True)

    def reap_dead_servers(self):
        """Containers of earlier servers whose process is gone (killed with
        SIGKILL before they could clean up)."""
        stale = []
        for ctr in self._safe_list('io.llmsbx.kube-test-server'):
            labels = ctr.get('Labels') or {}
            pid = labels.get('io.llmsbx.kube-test-server-pid', '')
            if labels.get('io.llmsbx.kube-test-server') == self.instance:
                continue
            # A PID means something only in the PID namespace it was taken in.
            if labels.get('io.llmsbx.kube-test-server-pidns') != _pid_namespace():
                continue
            if pid.isdigit() and _alive_server(int(pid)):
                continue
            stale.append(ctr['Id'])
        self._remove_all(stale)
        return len(stale)

    # --- helpers

    def _guarded(self, func, *args):
        try:
            func(*args)
        except Exception as exc:    # a thread must never die silently
            if not self.stopping.is_set():
                import traceback
                traceback.print_exc()
                print('kube-test-server: kubelet thread failed: %s' % exc, flush=True)

    def _safe_list(self, label):
        try:
            return self.docker.list_labelled(label)
        except (DockerError, OSError):
            return []

    def _remove_all(self, ids):
        threads = [threading.Thread(target=self._remove_quietly, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _remove_quietly(self, cid):
        try:
            self.docker.remove(cid)
        except (DockerError, OSError):
            pass

    def _sleep(self, record, seconds):
        """Sleeps unless the pod is deleted or the server stops; False then."""
        end = time.monotonic() + max(0.0, seconds)
        while True:
            if self.stopping.is_set() or record.deleting or record.removed:
                return False
            left = end - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, 0.05))

    def _publish(self, record):
        self.store.mutate(record, lambda obj: obj.__setitem__('status', self._status(record, obj)))

    def _next_ip(self, host_network):
        if host_network:
            return '127.0.0.1'
        with self._ip_lock:
            self._ip = self._ip % 250 + 1
            # Loopback on purpose: nothing can be reached at a pod IP, and a
            # test that tried would stay on this host.
            return '127.244.0.%d' % (self._ip + 1)

    # --- status

    def _condition(self, record, ctype, value, reason=None, message=None):
        old = record.k.conditions.get(ctype)
        when = old[1] if old and old[0] == value else now_rfc3339()
        record.k.conditions[ctype] = (value, when)
        cond = {'type': ctype, 'status': value, 'lastProbeTime': None, 'lastTransitionTime': when}
        if reason:
            cond['reason'] = reason
        if message:
            cond['message'] = message
        return cond

    def _status(self, record, obj):
        k, spec = record.k, obj['spec']
        out = {'phase': 'Pending', 'qosClass': obj.get('status', {}).get('qosClass', 'BestEffort')}
        if not k.bound:
            if k.unschedulable:
                out['conditions'] = [self._condition(record, 'PodScheduled', 'False',
                                                     'Unschedulable', k.unschedulable)]
            return out
        statuses, running, waiting, stopped, succeeded = [], 0, 0, 0, 0
        for ctr_spec in spec['containers']:
            ctr = k.containers[ctr_spec['name']]
            entry = {'name': ctr_spec['name'], 'state': copy.deepcopy(ctr.state),
                     'lastState': copy.deepcopy(ctr.last_state), 'ready': ctr.running,
                     'restartCount': ctr.restarts, 'image': ctr_spec['image'],
                     'imageID': ctr.image_id, 'started': ctr.running}
            if ctr.docker_id:
                entry['containerID'] = 'docker://' + ctr.docker_id
            statuses.append(entry)
            if 'running' in ctr.state:
                running += 1
            elif 'terminated' in ctr.state:
                stopped += 1
                succeeded += ctr.state['terminated']['exitCode'] == 0
            elif 'terminated' in ctr.last_state:
                stopped += 1
                succeeded += ctr.last_state['terminated']['exitCode'] == 0
            else:
                waiting += 1
        policy = spec.get('restartPolicy', 'Always')
        if waiting:
            phase = 'Pending'
        elif running:
            phase = 'Running'
        elif stopped:
            if policy == 'Always':
                phase = 'Running'
            elif stopped == succeeded:
                phase = 'Succeeded'
            elif policy == 'Never':
                phase = 'Failed'
            else:
                phase = 'Running'
        else:
            phase = 'Pending'
        if k.deadline_exceeded:
            phase = 'Failed'
            out['reason'] = 'DeadlineExceeded'
            out['message'] = 'Pod was active on the node longer than the specified deadline'
        if phase in ('Succeeded', 'Failed'):
            record.terminal = True
        ready = phase == 'Running' and running == len(statuses)
        unready = [s['name'] for s in statuses if not s['ready']]
        if ready:
            why, text = None, None
        elif phase in ('Succeeded', 'Failed'):
            why, text = 'PodCompleted', None
        else:
            why = 'ContainersNotReady'
            text = 'containers with unready status: [%s]' % ' '.join(unready)
        value = 'True' if ready else 'False'
        out.update({
            'phase': phase,
            'conditions': [self._condition(record, 'Initialized', 'True'),
                           self._condition(record, 'Ready', value, why, text),
                           self._condition(record, 'ContainersReady', value, why, text),
                           self._condition(record, 'PodScheduled', 'True')],
            'hostIP': '127.0.0.1', 'hostIPs': [{'ip': '127.0.0.1'}],
            'startTime': k.start_time, 'containerStatuses': statuses})
        if k.pod_ip:
            out['podIP'] = k.pod_ip
            out['podIPs'] = [{'ip': k.pod_ip}]
        return out

    # --- the pod's life

    def _run_pod(self, record):
        spec = copy.deepcopy(record.obj['spec'])
        if not self._sleep(record, self.settings['schedule_ms'] / 1000):
            return
        scenarios = self.settings['image_scenarios']
        scenario = {c['name']: scenarios[c['image']] for c in spec['containers']
                    if c['image'] in scenarios}
        if not self._schedule(record, spec, scenario):
            return
        with self.store.lock:
            record.k.bound = True
            record.k.start_time = now_rfc3339()
            record.k.pod_ip = self._next_ip(spec.get('hostNetwork'))
        self.store.mutate(record, lambda obj: obj['spec'].__setitem__(
            'nodeName', self.settings['node_name']))
        self._publish(record)
        if spec.get('activeDeadlineSeconds'):
            threading.Thread(target=self._guarded, args=(self._deadline, record,
                             spec['activeDeadlineSeconds']), daemon=True).start()
        if scenario:
            self._simulate(record, scenario)
            return
        if spec.get('initContainers'):
            self._all_waiting(record, 'CreateContainerConfigError',
                              'initContainers are not supported by the test API server')
            return
        try:
            self._prepare_volumes(record, spec)
        except ConfigError as exc:
            self._all_waiting(record, 'ContainerCreating', str(exc))
            return
        except OSError:
            if not record.deleting:     # else the deletion removed the directory under us
                raise
        if record.deleting:
            shutil.rmtree(record.volume_dir, ignore_errors=True)
            return
        first = None
        created = []
        for ctr_spec in spec['containers']:
            cid = self._create(record, spec, ctr_spec, first)
            if cid is None:
                return
            first = first or cid
            created.append((ctr_spec['name'], cid))
        left = self.settings['pending_ms'] / 1000 - (time.monotonic() - record.created)
        if not self._sleep(record, left):
            return
        for name, cid in created:
            self._start(record, name, cid)
            self._fix_memory_volumes(spec, record.k.containers[name].spec, cid)

    def _schedule(self, record, spec, scenario):
        while True:
            if 'Unschedulable' in scenario.values():
                message = '0/1 nodes are available: 1 node(s) were unschedulable.'
            else:
                message = self._fit(record, spec)
            if message is None:
                with self.store.lock:
                    record.k.unschedulable = None
                return True
            with self.store.lock:
                changed = record.k.unschedulable != message
                record.k.unschedulable = message
            if changed:
                self._publish(record)
            if not self._sleep(record, 1.0):
                return False

    def _fit(self, record, spec):
        """Requests (limits where none) against the node minus bound pods'."""
        def wanted(pod_spec):
            cpu = memory = 0
            for ctr in pod_spec.get('containers') or []:
                res = ctr.get('resources') or {}
                req = dict(res.get('limits') or {})
                req.update(res.get('requests') or {})
                cpu += podspec.parse_quantity(req.get('cpu', 0))
                memory += podspec.parse_quantity(req.get('memory', 0))
            return cpu, memory
        cpu, memory = wanted(spec)
        with self.store.lock:
            for other in self.store.pods.values():
                if other is record or not getattr(other, 'k', None) or not other.k.bound \
                        or other.terminal:
                    continue
                o_cpu, o_mem = wanted(other.obj['spec'])
                cpu += o_cpu
                memory += o_mem
        short = []
        if cpu > podspec.parse_quantity(self.settings['node_cpu']):
            short.append('1 Insufficient cpu')
        if memory > podspec.parse_quantity(self.settings['node_memory']):
            short.append('1 Insufficient memory')
        if short:
            return '0/1 nodes are available: %s.' % ', '.join(short)
        return None

    def _set_state(self, record, name, state, publish=True):
        with self.store.lock:
            record.k.containers[name].state = state
        if publish:
            self._publish(record)

    def _all_waiting(self, record, reason, message):
        with self.store.lock:
            for ctr in record.k.containers.values():
                ctr.state = {'waiting': {'reason': reason, 'message': message}}
        self._publish(record)

    def _simulate(self, record, scenario):
        flip = {'ErrImagePull': 'ImagePullBackOff', 'ImagePullBackOff': 'ErrImagePull'}
        with self.store.lock:
            for name, reason in scenario.items():
                ctr = record.k.containers[name]
                ctr.state = {'waiting': self._scenario_waiting(record, ctr, reason)}
                if reason == 'CrashLoopBackOff':
                    ctr.restarts = 1
                    ctr.last_state = {'terminated': {
                        'exitCode': 1, 'reason': 'Error', 'startedAt': now_rfc3339(),
                        'finishedAt': now_rfc3339(), 'containerID': ''}}
        self._publish(record)
        while any(r in flip for r in scenario.values()):
            if not self._sleep(record, self.settings['backoff_ms'] / 1000):
                return
            scenario = {n: flip.get(r, r) for n, r in scenario.items()}
            with self.store.lock:
                for name, reason in scenario.items():
                    ctr = record.k.containers[name]
                    ctr.state = {'waiting': self._scenario_waiting(record, ctr, reason)}
            self._publish(record)

    def _scenario_waiting(self, record, ctr, reason):
        image = ctr.spec['image']
        messages = {
            'ErrImagePull': _pull_message(image),
            'ImagePullBackOff': 'Back-off pulling image "%s"' % image,
            'InvalidImageName': 'Failed to apply default image tag "%s": couldn\'t parse image '
                                'reference "%s": invalid reference format' % (image, image),
            'CreateContainerError': 'failed to create containerd container: scenario '
                                    'CreateContainerError of the test API server',
            'CreateContainerConfigError': 'scenario CreateContainerConfigError of the test '
                                          'API server',
            'CrashLoopBackOff': 'back-off 10s restarting failed container=%s pod=%s'
                                % (ctr.spec['name'], pod_ref(record.obj)),
        }
        return {'reason': reason, 'message': messages[reason]}

    def _deadline(self, record, seconds):
        if not self._sleep(record, seconds):
            return
        with self.store.lock:
            if record.terminal or record.deleting:
                return
            record.k.deadline_exceeded = True
            record.terminal = True
            ids = [c.docker_id for c in record.k.containers.values() if c.docker_id]
        self._publish(record)
        for cid in ids:
            self.docker.kill(cid)

    # --- volumes

    def _prepare_volumes(self, record, spec):
        base = os.path.join(self.state_dir, 'pods', record.uid)
        with self.store.lock:
            record.volume_dir = base
        fs_group = (spec.get('securityContext') or {}).get('fsGroup')
        for vol in spec.get('volumes') or []:
            if 'emptyDir' in vol:
                if (vol['emptyDir'] or {}).get('medium') == 'Memory':
                    continue
                path = os.path.join(base, 'volumes', 'kubernetes.io~empty-dir', vol['name'])
                os.makedirs(path, exist_ok=True)
                # The kubelet makes emptyDir world-writable, group fsGroup + setgid.
                if fs_group is not None:
                    os.chown(path, 0, fs_group)
                    os.chmod(path, 0o2777)
                else:
                    os.chmod(path, 0o777)
            elif _is_service_account_volume(vol):
                path = os.path.join(base, 'volumes', 'kubernetes.io~projected', vol['name'])
                os.makedirs(path, exist_ok=True)
                files = {'token': 'llmsbx-test-serviceaccount-token-for-' + record.uid,
                         'ca.crt': self.ca_pem, 'namespace': record.namespace}
                for fname, content in files.items():
                    with open(os.path.join(path, fname), 'w') as f:
                        f.write(content)
                    os.chmod(os.path.join(path, fname), 0o644)
            else:
                kind = next((k for k in vol if k != 'name'), '?')
                raise ConfigError('MountVolume.SetUp failed for volume "%s": the test API server '
                                  'supports emptyDir volumes only (this one is %s)'
                                  % (vol['name'], kind))

    def _mounts(self, record, spec, ctr):
        volumes = {v['name']: v for v in spec.get('volumes') or []}
        fs_group = (spec.get('securityContext') or {}).get('fsGroup')
        mounts, tmpfs = [], {}
        for mount in ctr.get('volumeMounts') or []:
            vol = volumes[mount['name']]
            target, read_only = mount['mountPath'], bool(mount.get('readOnly'))
            sub = mount.get('subPath', '')
            if sub and (sub.startswith('/') or '..' in sub.split('/')):
                raise ConfigError('subPath "%s" must be a relative path without ".."' % sub)
            empty = vol.get('emptyDir')
            if empty is not None and empty.get('medium') == 'Memory':
                if sub:
                    raise ConfigError('the test API server does not support subPath on '
                                      'medium: Memory volumes')
                options = ['ro' if read_only else 'rw', 'exec']
                if fs_group is not None:
                    options += ['gid=%d' % fs_group, 'mode=3777']
                else:
                    options.append('mode=1777')
                if empty.get('sizeLimit') is not None:
                    options.append('size=%d' % podspec.ceil(
                        podspec.parse_quantity(empty['sizeLimit'])))
                tmpfs[target] = ','.join(options)
                continue
            kind = 'kubernetes.io~empty-dir' if empty is not None else 'kubernetes.io~projected'
            source = os.path.join(record.volume_dir, 'volumes', kind, vol['name'])
            if sub:
                source = os.path.join(source, sub)
                os.makedirs(source, exist_ok=True)
            mounts.append({'Type': 'bind', 'Source': source, 'Target': target,
                           'ReadOnly': read_only})
        return mounts, tmpfs

    def _fix_memory_volumes(self, spec, ctr, cid):
        """Docker copies the mode of an existing directory onto a tmpfs mounted
        over it; a Memory emptyDir is 1777 (3777 with fsGroup) on a kubelet."""
        volumes = {v['name']: v for v in spec.get('volumes') or []}
        mode = '3777' if (spec.get('securityContext') or {}).get('fsGroup') is not None else '1777'
        paths = [m['mountPath'] for m in ctr.get('volumeMounts') or []
                 if ((volumes[m['name']].get('emptyDir') or {}).get('medium') == 'Memory'
                     and not m.get('readOnly'))]
        if not paths:
            return
        try:
            eid = self.docker.exec_create(cid, ['chmod', mode] + paths, False, True, True, False,
                                          user='0')
            sock, _ = self.docker.exec_start(eid, False)
            with sock:
                while sock.recv(65536):
                    pass
        except (DockerError, OSError):
            pass

    # --- containers

    def _env(self, record, ctr):
        obj = record.obj
        meta = obj['metadata']
        env = {'KUBERNETES_SERVICE_HOST': '127.0.0.1',
               'KUBERNETES_SERVICE_PORT': str(self.server_port),
               'KUBERNETES_SERVICE_PORT_HTTPS': str(self.server_port),
               'KUBERNETES_PORT': 'tcp://127.0.0.1:%d' % self.server_port}
        order = list(env)
        for var in ctr.get('env') or []:
            name = var['name']
            if 'valueFrom' in var:
                value = self._value_from(record, ctr, var['valueFrom'], meta)
                if value is None:
                    continue
            else:
                value = expand(var.get('value', ''), env)
            if name not in env:
                order.append(name)
            env[name] = value
        return ['%s=%s' % (n, env[n]) for n in order], env

    def _value_from(self, record, ctr, source, meta):
        if 'fieldRef' in source:
            path = (source['fieldRef'] or {}).get('fieldPath', '')
            simple = {'metadata.name': meta['name'], 'metadata.namespace': meta['namespace'],
                      'metadata.uid': meta['uid'], 'spec.nodeName': self.settings['node_name'],
                      'spec.serviceAccountName': record.obj['spec'].get('serviceAccountName', ''),
                      'status.hostIP': '127.0.0.1', 'status.podIP': record.k.pod_ip or '',
                      'status.podIPs': record.k.pod_ip or ''}
            if path in simple:
                return simple[path]
            match = re.match(r"^metadata\.(labels|annotations)\['(.+)'\]$", path)
            if match:
                return (meta.get(match.group(1)) or {}).get(match.group(2), '')
            raise ConfigError('unsupported fieldPath %s' % path)
        if 'resourceFieldRef' in source:
            ref = source['resourceFieldRef'] or {}
            kind, _, res = ref.get('resource', '').partition('.')
            resources = ctr.get('resources') or {}
            value = (resources.get(kind) or {}).get(res)
            if value is None:
                value = self.settings['node_%s' % res] if res in ('cpu', 'memory') else '0'
            divisor = podspec.parse_quantity(ref.get('divisor', '1'))
            return str(podspec.ceil(podspec.parse_quantity(value) / divisor))
        for key, kind in (('configMapKeyRef', 'configmap'), ('secretKeyRef', 'secret')):
            if key in source:
                ref = source[key] or {}
                if ref.get('optional'):
                    return None
                raise ConfigError('%s "%s" not found' % (kind, ref.get('name', '')))
        raise ConfigError('unsupported valueFrom %s' % ', '.join(source))

    def _user(self, record, spec, ctr, image_user):
        psc, csc = spec.get('securityContext') or {}, ctr.get('securityContext') or {}
        uid = csc.get('runAsUser', psc.get('runAsUser'))
        gid = csc.get('runAsGroup', psc.get('runAsGroup'))
        non_root = csc.get('runAsNonRoot', psc.get('runAsNonRoot'))
        ref = pod_ref(record.obj)
        if non_root:
            if uid is not None:
                if uid == 0:
                    raise ConfigError("container's runAsUser breaks non-root policy (pod: \"%s\", "
                                      'container: %s)' % (ref, ctr['name']))
            else:
                user = image_user.partition(':')[0]
                if user and not user.isdigit():
                    raise ConfigError('container has runAsNonRoot and image has non-numeric user '
                                      '(%s), cannot verify user is non-root (pod: "%s", '
                                      'container: %s)' % (user, ref, ctr['name']))
                if not user or int(user) == 0:
                    raise ConfigError('container has runAsNonRoot and image will run as root '
                                      '(pod: "%s", container: %s)' % (ref, ctr['name']))
        if uid is not None:
            return '%d:%d' % (uid, gid) if gid is not None else str(uid)
        if gid is not None:
            return '%s:%d' % (image_user.partition(':')[0] or '0', gid)
        return None

    def _config(self, record, spec, ctr, image, first):
        csc = ctr.get('securityContext') or {}
        psc = spec.get('securityContext') or {}
        env_list, env = self._env(record, ctr)
        labels = dict(record.obj['metadata'].get('labels') or {})
        labels.update(self.base_labels)
        labels.update({'io.kubernetes.pod.name': record.name,
                       'io.kubernetes.pod.namespace': record.namespace,
                       'io.kubernetes.pod.uid': record.uid,
                       'io.kubernetes.container.name': ctr['name']})
        mounts, tmpfs = self._mounts(record, spec, ctr)
        if spec.get('hostNetwork'):
            network = 'host'
        else:
            network = 'container:' + first if first else 'none'
        host = {'NetworkMode': network, 'RestartPolicy': {'Name': 'no'}, 'Mounts': mounts,
                'ReadonlyRootfs': bool(csc.get('readOnlyRootFilesystem')),
                'CapAdd': list((csc.get('capabilities') or {}).get('add') or []),
                'CapDrop': list((csc.get('capabilities') or {}).get('drop') or [])}
        if tmpfs:
            host['Tmpfs'] = tmpfs
        if csc.get('allowPrivilegeEscalation') is False:
            host['SecurityOpt'] = ['no-new-privileges']
        groups = [str(g) for g in psc.get('supplementalGroups') or []]
        if psc.get('fsGroup') is not None:
            groups.insert(0, str(psc['fsGroup']))
        if groups:
            host['GroupAdd'] = groups
        resources = ctr.get('resources') or {}
        limits, requests = resources.get('limits') or {}, resources.get('requests') or {}
        if 'memory' in limits:
            host['Memory'] = host['MemorySwap'] = podspec.ceil(
                podspec.parse_quantity(limits['memory']))
        if 'cpu' in limits:
            host['NanoCpus'] = podspec.ceil(podspec.parse_quantity(limits['cpu']) * 10 ** 9)
        # A pod cannot set its own process limit: the node's podPidsLimit holds it
        # (on a kubelet, in the pod's cgroup; here the one container's).
        if self.settings['pod_pids_limit'] > 0:
            host['PidsLimit'] = self.settings['pod_pids_limit']
        if 'cpu' in requests:
            host['CpuShares'] = max(2, podspec.ceil(podspec.parse_quantity(requests['cpu']) * 1024))
        config = {'Image': ctr['image'], 'Hostname': (spec.get('hostname') or record.name)[:63],
                  'Env': env_list, 'Labels': labels, 'Tty': bool(ctr.get('tty')),
                  'OpenStdin': bool(ctr.get('stdin')), 'StdinOnce': bool(ctr.get('stdinOnce')),
                  'HostConfig': host}
        if spec.get('hostNetwork') or first:
            del config['Hostname']      # the host's, or the first container's (shared)
        if ctr.get('command'):
            config['Entrypoint'] = [expand(a, env) for a in ctr['command']]
            config['Cmd'] = [expand(a, env) for a in ctr.get('args') or []]
        elif ctr.get('args'):
            config['Cmd'] = [expand(a, env) for a in ctr['args']]
        if ctr.get('workingDir'):
            config['WorkingDir'] = ctr['workingDir']
        user = self._user(record, spec, ctr, (image.get('Config') or {}).get('User') or '')
        if user is not None:
            config['User'] = user
        return config

    def _create(self, record, spec, ctr_spec, first):
        name = ctr_spec['name']
        image = self._pull(record, ctr_spec)
        if image is None:
            return None
        try:
            config = self._config(record, spec, ctr_spec, image, first)
        except ConfigError as exc:
            self._set_state(record, name, {'waiting': {'reason': 'CreateContainerConfigError',
                                                       'message': str(exc)}})
            return None
        docker_name = 'k8s_%s_%s_%s_%s_%d' % (name, record.name, record.namespace,
                                              record.uid[:8], record.k.containers[name].restarts)
        with self._creating_done:
            if self.stopping.is_set():
                return None
            self._creating += 1
        try:
            try:
                cid = self.docker.create(docker_name, config)
            except DockerError as exc:
                self._set_state(record, name, {'waiting': {'reason': 'CreateContainerError',
                                                           'message': exc.message}})
                return None
            with self.store.lock:
                record.k.containers[name].docker_id = cid
                record.k.containers[name].image_id = 'docker://' + image.get('Id', '')
                gone = record.deleting or self.stopping.is_set()
            if gone:
                self._remove_quietly(cid)
                return None
            return cid
        finally:
            with self._creating_done:
                self._creating -= 1
                self._creating_done.notify_all()

    def _pull(self, record, ctr_spec):
        """The local image, or None while it is missing (never pulled: the
        test API server has no registry); ErrImagePull and ImagePullBackOff
        alternate until the image appears or the pod goes."""
        name, image = ctr_spec['name'], ctr_spec['image']
        if not _REFERENCE.match(image):
            self._set_state(record, name, {'waiting': {
                'reason': 'InvalidImageName',
                'message': 'Failed to apply default image tag "%s": couldn\'t parse image '
                           'reference "%s": invalid reference format' % (image, image)}})
            return None
        reason = 'ErrImagePull'
        while True:
            try:
                found = self.docker.image_inspect(image)
            except DockerError as exc:
                found, reason = None, 'ErrImagePull'
                message = exc.message
            else:
                message = _pull_message(image)
            if found is not None:
                return found
            if reason == 'ImagePullBackOff':
                message = 'Back-off pulling image "%s"' % image
            self._set_state(record, name, {'waiting': {'reason': reason, 'message': message}})
            if not self._sleep(record, self.settings['backoff_ms'] / 1000):
                return None
            reason = 'ImagePullBackOff' if reason == 'ErrImagePull' else 'ErrImagePull'

    def _start(self, record, name, cid):
        try:
            self.docker.start(cid)
        except DockerError as exc:
            self._exited(record, name, cid, {'exitCode': 128, 'reason': 'StartError',
                                             'message': exc.message,
                                             'startedAt': '1970-01-01T00:00:00Z',
                                             'finishedAt': now_rfc3339(),
                                             'containerID': 'docker://' + cid})
            return
        started = now_rfc3339()
        with self.store.lock:
            ctr = record.k.containers[name]
            ctr.state = {'running': {'startedAt': started}}
            ctr.running = True
            ctr.started = True
        self._publish(record)
        threading.Thread(target=self._guarded, args=(self._watch_container, record, name, cid),
                         name='wait-' + cid[:12], daemon=True).start()

    def _watch_container(self, record, name, cid):
        while True:
            try:
                code = self.docker.wait(cid)
                info = self.docker.inspect(cid)
            except (DockerError, OSError):
                return
            if self.stopping.is_set() or record.removed:
                return
            state = info.get('State') or {}
            if not state.get('Running'):
                break
            # The wait ended but the container runs: not an exit.
            print('kube-test-server: wait on %s (pod %s) returned while it runs; waiting again'
                  % (cid[:12], record.name), file=sys.stderr, flush=True)
        code = state.get('ExitCode', code)
        if state.get('OOMKilled'):
            reason = 'OOMKilled'
        else:
            reason = 'Completed' if code == 0 else 'Error'
        if not record.deleting:
            print('kube-test-server: container %s of pod %s exited with %s (%s)'
                  % (name, record.name, code, reason), file=sys.stderr, flush=True)
        self._exited(record, name, cid, {'exitCode': code, 'reason': reason,
                                         'startedAt': state.get('StartedAt', '')[:19] + 'Z',
                                         'finishedAt': state.get('FinishedAt', '')[:19] + 'Z',
                                         'containerID': 'docker://' + cid})

    def _exited(self, record, name, cid, terminated):
        with self.store.lock:
            if record.removed:
                return
            ctr = record.k.containers[name]
            ctr.running = False
            policy = record.obj['spec'].get('restartPolicy', 'Always')
            restart = (not record.deleting and not record.terminal and not self.stopping.is_set()
                       and (policy == 'Always' or (policy == 'OnFailure'
                                                  and terminated['exitCode'] != 0)))
            if restart:
                ctr.restarts += 1
                delay = min(self.settings['backoff_ms'] * 2 ** (ctr.restarts - 1), MAX_BACKOFF_MS)
                ctr.last_state = {'terminated': terminated}
                ctr.state = {'waiting': {
                    'reason': 'CrashLoopBackOff',
                    'message': 'back-off %ds restarting failed container=%s pod=%s'
                               % (max(1, delay // 1000), name, pod_ref(record.obj))}}
            else:
                ctr.state = {'terminated': terminated}
        self._publish(record)
        if restart and self._sleep(record, delay / 1000):
            with self.store.lock:
                if record.terminal:
                    return
            self._start(record, name, cid)

    # --- deletion

    def _terminate(self, record):
        with self.store.lock:
            ids = [c.docker_id for c in record.k.containers.values() if c.docker_id and c.running]
        for cid in ids:
            signal = 'SIGTERM'
            try:
                signal = (self.docker.inspect(cid).get('Config') or {}).get('StopSignal') or signal
            except (DockerError, OSError):
                pass
            self.docker.kill(cid, signal)
        killed = False
        while not self.stopping.is_set():
            with self.store.lock:
                running = [c.docker_id for c in record.k.containers.values()
                           if c.running and c.docker_id]
                past = time.monotonic() >= record.k.kill_deadline
                started = record.k.delete_started
            if not running:
                break
            if past and not killed:
                for cid in running:
                    self.docker.kill(cid)
                killed = True
            time.sleep(0.05)
        wait = self.settings['terminating_ms'] / 1000 - (time.monotonic() - started)
        end = time.monotonic() + wait
        while time.monotonic() < end and not self.stopping.is_set():
            with self.store.lock:
                if time.monotonic() >= record.k.kill_deadline:
                    break
            time.sleep(0.05)
        # Stopped containers are removed before the pod leaves the API, so
        # "pod gone" also means "container gone" on this node.
        with self.store.lock:
            ids = [c.docker_id for c in record.k.containers.values() if c.docker_id]
        self._cleanup(record, ids)
        self.store.remove(record)

    def _cleanup(self, record, ids):
        self._remove_all(ids)
        if record.volume_dir:
            shutil.rmtree(record.volume_dir, ignore_errors=True)


def _pull_message(image):
    ref = image if '/' in image.split(':')[0] or '.' in image.split('/')[0] else \
        'docker.io/library/' + image
    if ':' not in ref.rpartition('/')[2] and '@' not in ref:
        ref += ':latest'
    return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to '
            'resolve reference "%s": %s: not found (the test API server never pulls: the image '
            'is not in the local Docker store)' % (ref, ref, ref))


def _is_service_account_volume(vol):
    return vol['name'].startswith('kube-api-access-') and 'projected' in vol


def _pid_namespace():
    try:
        return os.readlink('/proc/self/ns/pid')
    except OSError:
        return 'unknown'


def _alive_server(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return b'kube-test-server' in f.read()
    except OSError:
        return False
