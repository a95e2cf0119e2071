# settings.py: the server's switches (timing knobs, scenarios, authorization rules, fault injection), changeable at run time.
"""One flat dict of settings. Set at start with --config (a JSON object or a
file holding one) and changed while running through the admin endpoint
(POST /config merges, POST /reset restores the start values). Unknown keys
and wrongly typed values are refused, so a typo in a test fails loudly."""
import copy
import re
import threading

DEFAULTS = {
    # API behaviour
    'disable_v5': False,         # refuse v5.channel.k8s.io, as an API server < 1.30 does
    'anonymous': False,          # no credentials: user system:anonymous (403s) instead of 401
    'forbid': [],                # [{"verb","resource","namespace","user"}] or "verb:resource"
    'namespaces': ['default', 'sandbox-tests'],
    'server_version': '1.30.0',  # what GET /version reports (1.29.0 when disable_v5 is set)
    # the kubelet's timing
    'schedule_ms': 0,            # Pending without a node for this long
    'pending_ms': 0,             # at least this long from creation to Running
    'terminating_ms': 0,         # a gracefully deleted pod stays Terminating at least this long
    'backoff_ms': 1000,          # ErrImagePull <-> ImagePullBackOff period; first crash back-off
    'image_scenarios': {},       # image -> ErrImagePull, ImagePullBackOff, InvalidImageName,
                                 #   CreateContainerError, CreateContainerConfigError,
                                 #   CrashLoopBackOff, Unschedulable
    'node_name': 'llmsbx-test-node',
    'node_cpu': '64',            # what fits on the node (requests, or limits without
    'node_memory': '256Gi',      #   requests, of the bound pods); lower it for Unschedulable
    'pod_pids_limit': -1,        # the kubelet's podPidsLimit: most processes per pod (-1: none),
                                 #   applied to pods created while it is set
    # HTTP fault injection
    'fail_requests': [],         # [{"method", "path" (regex), "code", "retry_after",
                                 #   "count", "message"}]
    # exec stream shaping and faults
    'exec_message_bytes': 32768,     # largest payload per output message
    'exec_chunk_bytes': 0,           # split output into messages of this many bytes (1: 1-byte)
    'exec_coalesce_bytes': 0,        # hold output until this many bytes or EOF (oversize messages)
    'exec_empty_messages': False,    # an empty [channel] message before every data message
    'exec_fragment_bytes': 0,        # send each message as frames of this many bytes
    'exec_ping_between_fragments': False,
    'exec_server_ping_ms': 0,        # the server pings the client this often
    'exec_drop_after_bytes': -1,     # cut the TCP connection (no status, no close frame) after
                                     #   this many output bytes (0: right after the first message)
    'exec_status_delay_ms': 0,       # wait this long before the channel-3 status
    'exec_close_code': 1000,
}

FAILURE_REASONS = ('ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerError',
                   'CreateContainerConfigError', 'CrashLoopBackOff', 'Unschedulable')


class SettingsError(ValueError):
    pass


def _check_rule(rule):
    if isinstance(rule, str):
        verb, sep, resource = rule.partition(':')
        if not sep:
            raise SettingsError('a forbid rule string is "verb:resource", e.g. "create:pods/exec"')
        return {'verb': verb, 'resource': resource}
    if not isinstance(rule, dict) or set(rule) - {'verb', 'resource', 'namespace', 'user'}:
        raise SettingsError('a forbid rule has keys verb, resource, namespace, user: %r' % rule)
    return dict(rule)


def _check_fault(rule):
    if not isinstance(rule, dict) or 'code' not in rule or \
            set(rule) - {'method', 'path', 'code', 'retry_after', 'count', 'message'}:
        raise SettingsError('a fail_requests rule has keys method, path, code, retry_after, '
                            'count, message (code required): %r' % rule)
    try:
        re.compile(rule.get('path', ''))
    except re.error as exc:
        raise SettingsError('bad path regex in %r: %s' % (rule, exc)) from exc
    out = dict(rule)
    out.setdefault('count', -1)
    return out


def validate(changes):
    if not isinstance(changes, dict):
        raise SettingsError('settings are a JSON object')
    out = {}
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise SettingsError('unknown setting %r (known: %s)'
                                % (key, ', '.join(sorted(DEFAULTS))))
        want = type(DEFAULTS[key])
        if want is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise SettingsError('%s is an integer' % key)
        if want is not int and not isinstance(value, want):
            raise SettingsError('%s is a %s' % (key, want.__name__))
        if key == 'forbid':
            value = [_check_rule(r) for r in value]
        elif key == 'fail_requests':
            value = [_check_fault(r) for r in value]
        elif key == 'image_scenarios':
            for image, reason in value.items():
                if reason not in FAILURE_REASONS:
                    raise SettingsError('scenario %r for %s: use one of %s'
                                        % (reason, image, ', '.join(FAILURE_REASONS)))
        out[key] = value
    return out


class Settings:
    def __init__(self, initial=None):
        self._lock = threading.Lock()
        self._start = copy.deepcopy(DEFAULTS)
        self._start.update(validate(initial or {}))
        self._values = copy.deepcopy(self._start)

    def __getitem__(self, key):
        with self._lock:
            return self._values[key]

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(self._values)

    def update(self, changes):
        checked = validate(changes)
        with self._lock:
            self._values.update(copy.deepcopy(checked))
            return copy.deepcopy(self._values)

    def reset(self):
        with self._lock:
            self._values = copy.deepcopy(self._start)
            return copy.deepcopy(self._values)

    def take_failure(self, method, path):
        """The first fail_requests rule matching the request, its count
        spent; None when no rule applies."""
        with self._lock:
            for rule in self._values['fail_requests']:
                if rule['count'] == 0:
                    continue
                if rule.get('method') and rule['method'].upper() != method:
                    continue
                if rule.get('path') and not re.search(rule['path'], path):
                    continue
                if rule['count'] > 0:
                    rule['count'] -= 1
                return dict(rule)
        return None
