# podspec.py: what kube-apiserver does to a Pod on create: decode checks, validation (422), defaulting, Pod Security.
"""Type checks answer 400 the way encoding/json's errors read; validation
answers 422 Invalid with field causes; defaulting fills what the API server's
defaulters fill (restartPolicy, terminationGracePeriodSeconds, dnsPolicy,
imagePullPolicy, requests from limits, qosClass ...); the Pod Security check
refuses what must never reach the shared Docker daemon (privileged, host
PID/IPC, hostPath, non-default capabilities) with the 403 text of the
PodSecurity admission plugin at level "baseline". hostNetwork is allowed."""
import re
from fractions import Fraction

from . import status

DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
ENV_NAME = re.compile(r'^[-._a-zA-Z][-._a-zA-Z0-9]*$')
_QUANTITY = re.compile(r'^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eEinumkKMGTP]*[-+]?[0-9]*)$')
_SUFFIXES = {'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50,
             'Ei': 2 ** 60,
             'n': Fraction(1, 10 ** 9), 'u': Fraction(1, 10 ** 6), 'm': Fraction(1, 1000), '': 1,
             'k': 10 ** 3, 'M': 10 ** 6, 'G': 10 ** 9, 'T': 10 ** 12, 'P': 10 ** 15, 'E': 10 ** 18}
QUANTITY_REGEX_TEXT = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
RESTART_POLICIES = ('Always', 'OnFailure', 'Never')
# Capabilities the "baseline" Pod Security level lets a container add.
BASELINE_CAPABILITIES = {'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL',
                         'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID',
                         'SYS_CHROOT'}
MAX_INT32 = 2147483647


def parse_quantity(value):
    """A resource.Quantity as an exact Fraction; ValueError if malformed."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return Fraction(value)
    if not isinstance(value, str):
        raise ValueError(value)
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(value)
    number, suffix = Fraction(match.group(1)), match.group(2)
    if suffix in _SUFFIXES:
        return number * _SUFFIXES[suffix]
    exp = re.match(r'^[eE]([-+]?[0-9]+)$', suffix)
    if exp:
        return number * Fraction(10) ** int(exp.group(1))
    raise ValueError(value)


def ceil(fraction):
    return -((-fraction.numerator) // fraction.denominator)


# --- decoding: the JSON types the fields must have ----------------------------------------

_STR, _INT, _BOOL, _QTY = 'string', 'int64', 'bool', 'quantity'


def _map_of(kind):
    return ('map', kind)


def _list_of(kind):
    return ('list', kind)


_ENV_VAR = {'name': _STR, 'value': _STR, 'valueFrom': dict}
_SECURITY = {'runAsUser': _INT, 'runAsGroup': _INT, 'runAsNonRoot': _BOOL,
             'readOnlyRootFilesystem': _BOOL, 'allowPrivilegeEscalation': _BOOL,
             'privileged': _BOOL, 'procMount': _STR,
             'capabilities': {'add': _list_of(_STR), 'drop': _list_of(_STR)},
             'seccompProfile': {'type': _STR, 'localhostProfile': _STR}}
_POD_SECURITY = {'runAsUser': _INT, 'runAsGroup': _INT, 'runAsNonRoot': _BOOL, 'fsGroup': _INT,
                 'supplementalGroups': _list_of(_INT),
                 'seccompProfile': {'type': _STR, 'localhostProfile': _STR},
                 'sysctls': _list_of({'name': _STR, 'value': _STR})}
_CONTAINER = {'name': _STR, 'image': _STR, 'command': _list_of(_STR), 'args': _list_of(_STR),
              'workingDir': _STR, 'env': _list_of(_ENV_VAR), 'imagePullPolicy': _STR,
              'resources': {'limits': _map_of(_QTY), 'requests': _map_of(_QTY)},
              'securityContext': _SECURITY, 'tty': _BOOL, 'stdin': _BOOL, 'stdinOnce': _BOOL,
              'volumeMounts': _list_of({'name': _STR, 'mountPath': _STR, 'readOnly': _BOOL,
                                        'subPath': _STR}),
              'terminationMessagePath': _STR, 'terminationMessagePolicy': _STR}
_VOLUME = {'name': _STR, 'emptyDir': {'medium': _STR, 'sizeLimit': _QTY}}
_SPEC = {'containers': _list_of(_CONTAINER), 'initContainers': _list_of(_CONTAINER),
         'volumes': _list_of(_VOLUME), 'restartPolicy': _STR,
         'terminationGracePeriodSeconds': _INT, 'activeDeadlineSeconds': _INT,
         'hostNetwork': _BOOL, 'hostPID': _BOOL, 'hostIPC': _BOOL, 'nodeName': _STR,
         'automountServiceAccountToken': _BOOL, 'enableServiceLinks': _BOOL,
         'securityContext': _POD_SECURITY, 'nodeSelector': _map_of(_STR), 'hostname': _STR,
         'serviceAccountName': _STR, 'dnsPolicy': _STR, 'schedulerName': _STR}
_META = {'name': _STR, 'generateName': _STR, 'namespace': _STR, 'labels': _map_of(_STR),
         'annotations': _map_of(_STR)}
POD = {'apiVersion': _STR, 'kind': _STR, 'metadata': _META, 'spec': _SPEC, 'status': dict}


def _json_type(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    return 'object'


def _decode_error(value, path, gotype):
    return status.bad_request(
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal %s into Go '
        'struct field %s of type %s' % (_json_type(value), path, gotype))


def _check(value, schema, path):
    """Drops JSON nulls (Go decodes them as zero values) and checks types."""
    if schema is dict:
        if not isinstance(value, dict):
            raise _decode_error(value, path, 'map')
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise _decode_error(value, path, 'struct')
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for key, sub in schema.items():
            if key in value:
                _check(value[key], sub, '%s.%s' % (path, key))
        return
    if isinstance(schema, tuple):
        kind, sub = schema
        if kind == 'list':
            if not isinstance(value, list):
                raise _decode_error(value, path, '[]')
            for i, item in enumerate(value):
                if item is None:
                    raise _decode_error(item, '%s[%d]' % (path, i), 'struct')
                _check(item, sub, path)
        else:
            if not isinstance(value, dict):
                raise _decode_error(value, path, 'map[string]')
            for key, item in value.items():
                _check(item, sub, '%s[%s]' % (path, key))
        return
    if schema == _STR and not isinstance(value, str):
        raise _decode_error(value, path, 'string')
    if schema == _BOOL and not isinstance(value, bool):
        raise _decode_error(value, path, 'bool')
    if schema == _INT and (isinstance(value, bool) or not isinstance(value, int)):
        raise _decode_error(value, path, 'int64')
    if schema == _QTY:
        # resource.Quantity fails its JSON decoding: a 400, not a 422.
        try:
            parse_quantity(value)
        except ValueError:
            raise status.bad_request('Pod in version "v1" cannot be handled as a Pod: quantities '
                                     'must match the regular expression %s' % QUANTITY_REGEX_TEXT)


def decode(body, url_namespace):
    """Checks a decoded JSON body is a v1 Pod; 400 otherwise."""
    if not isinstance(body, dict):
        raise status.bad_request('the object provided is unrecognized (must be of type Pod): '
                                 "couldn't get version/kind; json parse error: cannot unmarshal "
                                 '%s into Go value of type struct' % _json_type(body))
    # Missing kind/apiVersion default to the endpoint's (Pod, v1), as the
    # create handler decodes with the endpoint's GroupVersionKind as default.
    kind, version = body.setdefault('kind', 'Pod'), body.setdefault('apiVersion', 'v1')
    if version != 'v1':
        raise status.bad_request('the API version in the data (%s) does not match the expected '
                                 'API version (v1)' % version)
    if kind != 'Pod':
        raise status.bad_request('the object provided is unrecognized (must be of type Pod): '
                                 'kind %s' % kind)
    _check(body, POD, 'Pod')
    body.setdefault('metadata', {})
    body.setdefault('spec', {})
    ns = body['metadata'].get('namespace')
    if ns and ns != url_namespace:
        raise status.bad_request('the namespace of the provided object does not match the '
                                 'namespace sent on the request')
    return body


# --- validation (422) ----------------------------------------------------------------------

def _dns_label_msg(value):
    return ('Invalid value: "%s": a lowercase RFC 1123 label must consist of lower case '
            "alphanumeric characters or '-', and must start and end with an alphanumeric "
            "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')" % value)


def _dns_subdomain_msg(value):
    return ('Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" % value)


def validate(pod):
    """Raises 422 Invalid listing every problem found."""
    from . import selectors
    errs = []
    meta, spec = pod['metadata'], pod['spec']
    name = meta.get('name', '')
    if not name:
        errs.append(('FieldValueRequired', 'metadata.name',
                     'Required value: name or generateName is required'))
    elif len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        errs.append(('FieldValueInvalid', 'metadata.name', _dns_subdomain_msg(name)))
    for key, value in (meta.get('labels') or {}).items():
        if not selectors.valid_label_key(key):
            errs.append(('FieldValueInvalid', 'metadata.labels',
                         'Invalid value: "%s": name part must consist of alphanumeric '
                         "characters, '-', '_' or '.', and must start and end with an "
                         'alphanumeric character' % key))
        elif not selectors.valid_label_value(value):
            errs.append(('FieldValueInvalid', 'metadata.labels',
                         'Invalid value: "%s": a valid label must be an empty string or '
                         "consist of alphanumeric characters, '-', '_' or '.', and must start "
                         'and end with an alphanumeric character' % value))

    volumes = {}
    for i, vol in enumerate(spec.get('volumes') or []):
        field = 'spec.volumes[%d].name' % i
        vname = vol.get('name', '')
        if not vname:
            errs.append(('FieldValueRequired', field, 'Required value'))
        elif not DNS_LABEL.match(vname) or len(vname) > 63:
            errs.append(('FieldValueInvalid', field, _dns_label_msg(vname)))
        elif vname in volumes:
            errs.append(('FieldValueDuplicate', field, 'Duplicate value: "%s"' % vname))
        sources = [k for k in vol if k != 'name']
        if not sources:
            errs.append(('FieldValueRequired', 'spec.volumes[%d]' % i,
                         'Required value: must specify a volume type'))
        elif len(sources) > 1:
            errs.append(('FieldValueForbidden', 'spec.volumes[%d].%s' % (i, sources[1]),
                         'Forbidden: may not specify more than 1 volume type'))
        volumes[vname] = vol

    containers = spec.get('containers')
    if not containers:
        errs.append(('FieldValueRequired', 'spec.containers', 'Required value'))
    names = set()
    for i, ctr in enumerate(containers or []):
        _validate_container(errs, ctr, 'spec.containers[%d]' % i, names, volumes)
    for i, ctr in enumerate(spec.get('initContainers') or []):
        _validate_container(errs, ctr, 'spec.initContainers[%d]' % i, names, volumes)

    policy = spec.get('restartPolicy')
    if policy is not None and policy not in RESTART_POLICIES:
        errs.append(('FieldValueNotSupported', 'spec.restartPolicy',
                     'Unsupported value: "%s": supported values: "Always", "OnFailure", "Never"'
                     % policy))
    deadline = spec.get('activeDeadlineSeconds')
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(('FieldValueInvalid', 'spec.activeDeadlineSeconds',
                     'Invalid value: %d: must be between 1 and 2147483647, inclusive' % deadline))
    grace = spec.get('terminationGracePeriodSeconds')
    if grace is not None and grace < 0:
        errs.append(('FieldValueInvalid', 'spec.terminationGracePeriodSeconds',
                     'Invalid value: %d: must be greater than or equal to 0' % grace))
    _validate_ids(errs, spec.get('securityContext') or {}, 'spec.securityContext')
    for i, gid in enumerate((spec.get('securityContext') or {}).get('supplementalGroups') or []):
        if not 0 <= gid <= MAX_INT32:
            errs.append(('FieldValueInvalid', 'spec.securityContext.supplementalGroups[%d]' % i,
                         'Invalid value: %d: must be between 0 and 2147483647, inclusive' % gid))
    if errs:
        raise status.invalid('Pod', name, errs)


def _validate_ids(errs, ctx, field):
    for key in ('runAsUser', 'runAsGroup', 'fsGroup'):
        value = ctx.get(key)
        if value is not None and not 0 <= value <= MAX_INT32:
            errs.append(('FieldValueInvalid', '%s.%s' % (field, key),
                         'Invalid value: %d: must be between 0 and 2147483647, inclusive' % value))


def _validate_container(errs, ctr, field, names, volumes):
    cname = ctr.get('name', '')
    if not cname:
        errs.append(('FieldValueRequired', field + '.name', 'Required value'))
    elif not DNS_LABEL.match(cname) or len(cname) > 63:
        errs.append(('FieldValueInvalid', field + '.name', _dns_label_msg(cname)))
    elif cname in names:
        errs.append(('FieldValueDuplicate', field + '.name', 'Duplicate value: "%s"' % cname))
    names.add(cname)
    image = ctr.get('image', '')
    if not image:
        errs.append(('FieldValueRequired', field + '.image', 'Required value'))
    elif image != image.strip():
        errs.append(('FieldValueInvalid', field + '.image',
                     'Invalid value: "%s": must not have leading or trailing whitespace' % image))
    for j, env in enumerate(ctr.get('env') or []):
        ename = env.get('name', '')
        if not ename:
            errs.append(('FieldValueRequired', '%s.env[%d].name' % (field, j), 'Required value'))
        elif not ENV_NAME.match(ename):
            errs.append(('FieldValueInvalid', '%s.env[%d].name' % (field, j),
                         'Invalid value: "%s": a valid environment variable name must consist '
                         "of alphabetic characters, digits, '_', '-', or '.', and must not start "
                         "with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', "
                         "regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')" % ename))
        if 'value' in env and 'valueFrom' in env and env['value'] != '':
            errs.append(('FieldValueInvalid', '%s.env[%d].valueFrom' % (field, j),
                         'Invalid value: "": may not be specified when `value` is not empty'))
    resources = ctr.get('resources') or {}
    parsed = {}
    for kind in ('limits', 'requests'):
        for res, value in (resources.get(kind) or {}).items():
            rfield = '%s.resources.%s[%s]' % (field, kind, res)
            quantity = parse_quantity(value)
            if quantity < 0:
                errs.append(('FieldValueInvalid', rfield, 'Invalid value: "%s": must be '
                             'greater than or equal to 0' % value))
            parsed[(kind, res)] = quantity
    for (kind, res), quantity in parsed.items():
        limit = parsed.get(('limits', res))
        if kind == 'requests' and limit is not None and quantity > limit:
            errs.append(('FieldValueInvalid', '%s.resources.requests' % field,
                         'Invalid value: "%s": must be less than or equal to %s limit of %s'
                         % (resources['requests'][res], res, resources['limits'][res])))
    for j, mount in enumerate(ctr.get('volumeMounts') or []):
        mfield = '%s.volumeMounts[%d]' % (field, j)
        if not mount.get('name'):
            errs.append(('FieldValueRequired', mfield + '.name', 'Required value'))
        elif mount['name'] not in volumes:
            errs.append(('FieldValueNotFound', mfield + '.name', 'Not found: "%s"' % mount['name']))
        if not mount.get('mountPath'):
            errs.append(('FieldValueRequired', mfield + '.mountPath', 'Required value'))
    _validate_ids(errs, ctr.get('securityContext') or {}, field + '.securityContext')


# --- defaulting ----------------------------------------------------------------------------

def _pull_policy(image):
    last = image.rpartition('/')[2]
    if '@' in last:
        return 'IfNotPresent'
    tag = last.partition(':')[2]
    return 'Always' if tag in ('', 'latest') else 'IfNotPresent'


def qos_class(spec):
    requests_set, guaranteed = False, True
    for ctr in spec.get('containers') or []:
        res = ctr.get('resources') or {}
        limits, requests = res.get('limits') or {}, res.get('requests') or {}
        if limits or requests:
            requests_set = True
        for name in ('cpu', 'memory'):
            if name not in limits or parse_quantity(limits[name]) != \
                    parse_quantity(requests.get(name, limits[name])):
                guaranteed = False
    if not requests_set:
        return 'BestEffort'
    return 'Guaranteed' if guaranteed else 'Burstable'


def apply_defaults(pod):
    spec = pod['spec']
    spec.setdefault('restartPolicy', 'Always')
    spec.setdefault('terminationGracePeriodSeconds', 30)
    spec.setdefault('dnsPolicy', 'ClusterFirst')
    spec.setdefault('securityContext', {})
    spec.setdefault('schedulerName', 'default-scheduler')
    spec.setdefault('serviceAccountName', 'default')
    spec['serviceAccount'] = spec['serviceAccountName']
    spec.setdefault('enableServiceLinks', True)
    spec.setdefault('priority', 0)
    spec.setdefault('preemptionPolicy', 'PreemptLowerPriority')
    spec.setdefault('tolerations', [
        {'key': 'node.kubernetes.io/not-ready', 'operator': 'Exists', 'effect': 'NoExecute',
         'tolerationSeconds': 300},
        {'key': 'node.kubernetes.io/unreachable', 'operator': 'Exists', 'effect': 'NoExecute',
         'tolerationSeconds': 300}])
    for ctr in (spec.get('initContainers') or []) + (spec.get('containers') or []):
        ctr.setdefault('terminationMessagePath', '/dev/termination-log')
        ctr.setdefault('terminationMessagePolicy', 'File')
        ctr.setdefault('imagePullPolicy', _pull_policy(ctr.get('image', '')))
        res = ctr.setdefault('resources', {})
        limits = res.get('limits') or {}
        if limits:
            requests = res.setdefault('requests', {})
            for name, value in limits.items():
                requests.setdefault(name, value)
    for vol in spec.get('volumes') or []:
        if 'emptyDir' in vol and vol['emptyDir'] is None:
            vol['emptyDir'] = {}
    pod['status'] = {'phase': 'Pending', 'qosClass': qos_class(spec)}


# --- Pod Security ("baseline") -------------------------------------------------------------

def pod_security_violations(pod):
    """The checks of the baseline level that matter on a shared daemon, as
    (check, detail) pairs in the PodSecurity admission plugin's wording."""
    spec, out = pod['spec'], []
    host = [k for k in ('hostPID', 'hostIPC') if spec.get(k)]
    if host:
        out.append(('host namespaces', ', '.join('%s=true' % k for k in host)))
    privileged = [c['name'] for c in _all_containers(spec)
                  if (c.get('securityContext') or {}).get('privileged')]
    if privileged:
        out.append(('privileged', '%s %s must not set securityContext.privileged=true'
                    % _containers_phrase(privileged)))
    host_paths = [v['name'] for v in spec.get('volumes') or [] if 'hostPath' in v]
    if host_paths:
        out.append(('hostPath volumes', '%s %s' % (
            'volume' if len(host_paths) == 1 else 'volumes',
            ', '.join('"%s"' % n for n in host_paths))))
    caps = []
    for ctr in _all_containers(spec):
        added = ((ctr.get('securityContext') or {}).get('capabilities') or {}).get('add') or []
        bad = [c for c in added if c.upper().replace('CAP_', '', 1) not in BASELINE_CAPABILITIES]
        if bad:
            caps.append('container "%s" must not include %s in securityContext.capabilities.add'
                        % (ctr['name'], ', '.join('"%s"' % c for c in bad)))
    if caps:
        out.append(('non-default capabilities', '; '.join(caps)))
    seccomp = []

    def unconfined(obj):
        profile = (obj.get('securityContext') or {}).get('seccompProfile') or {}
        return profile.get('type') == 'Unconfined'
    if unconfined(spec):
        seccomp.append('pod must not set securityContext.seccompProfile.type to "Unconfined"')
    for ctr in _all_containers(spec):
        if unconfined(ctr):
            seccomp.append('container "%s" must not set securityContext.seccompProfile.type to '
                           '"Unconfined"' % ctr['name'])
    if seccomp:
        out.append(('seccompProfile', '; '.join(seccomp)))
    return out


def _all_containers(spec):
    return (spec.get('initContainers') or []) + (spec.get('containers') or [])


def _containers_phrase(names):
    if len(names) == 1:
        return ('container', '"%s"' % names[0])
    return ('containers', ', '.join('"%s"' % n for n in names))


def check_pod_security(pod, name):
    violations = pod_security_violations(pod)
    if not violations:
        return
    reason = 'violates PodSecurity "baseline:latest": ' + ', '.join(
        '%s (%s)' % v for v in violations)
    subject = 'pods "%s"' % name if name else 'pods'
    raise status.error(403, 'Forbidden', '%s is forbidden: %s' % (subject, reason),
                       {'name': name, 'kind': 'pods'} if name else {'kind': 'pods'})
