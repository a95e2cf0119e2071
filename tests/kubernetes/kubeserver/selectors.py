# selectors.py: label and field selectors with the grammar and meaning of apimachinery's labels/fields packages.
"""Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`,
`!k`, `k>1`, `k<1`, joined by commas (AND). `!=` and `notin` match objects
without the key. Field selectors for pods: `=`, `==`, `!=` on the fields the
pod registry indexes; anything else is 400 "field label not supported"."""
import re

from . import status

_NAME = r'[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?'
_PREFIX = r'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'
_KEY = re.compile(r'^(%s/)?%s$' % (_PREFIX, _NAME))
_VALUE = re.compile(r'^(%s)?$' % _NAME)
_TOKEN = re.compile(r'\s*(==|!=|=|!|\(|\)|,|>|<|[^\s=!(),<>]+)')


def valid_label_key(key):
    name = key.rpartition('/')[2]
    prefix = key.rpartition('/')[0]
    return bool(_KEY.match(key)) and len(name) <= 63 and len(prefix) <= 253


def valid_label_value(value):
    return len(value) <= 63 and bool(_VALUE.match(value))


def _parse_error(detail):
    return status.bad_request('unable to parse requirement: %s' % detail)


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == '':
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise _parse_error('unexpected character at %d in %r' % (pos, text))
        out.append(match.group(1))
        pos = match.end()
    return out


def parse_labels(text):
    """Returns a list of (key, op, values); op in exists, !exists, =, !=, in,
    notin, gt, lt. Raises ApiError 400 on bad syntax."""
    if text is None or text.strip() == '':
        return []
    toks = _tokens(text)
    reqs, i = [], 0

    def peek(k=0):
        return toks[i + k] if i + k < len(toks) else None

    while i < len(toks):
        negate = False
        if peek() == '!':
            negate, i = True, i + 1
        key = peek()
        if key is None or key in ('=', '==', '!=', '(', ')', ',', '>', '<', '!'):
            raise _parse_error('found %r, expected: identifier' % key)
        if not valid_label_key(key):
            raise _parse_error('key: Invalid value: "%s": name part must consist of alphanumeric '
                               "characters, '-', '_' or '.', and must start and end with an "
                               'alphanumeric character' % key)
        i += 1
        op = peek()
        if negate:
            reqs.append((key, '!exists', []))
        elif op is None or op == ',':
            reqs.append((key, 'exists', []))
        elif op in ('=', '==', '!='):
            i += 1
            value = peek()
            if value is None or value == ',':
                value = ''
            else:
                i += 1
            if not valid_label_value(value):
                raise _parse_error('values[0][%s]: Invalid value: "%s": a valid label must be '
                                   'an empty string or consist of alphanumeric characters'
                                   % (key, value))
            reqs.append((key, '!=' if op == '!=' else '=', [value]))
        elif op in ('in', 'notin'):
            i += 1
            if peek() != '(':
                raise _parse_error("found %r, expected: '('" % peek())
            i += 1
            values, expect_value = [], True
            while True:
                tok = peek()
                if tok is None:
                    raise _parse_error("found end of string, expected: ')'")
                i += 1
                if tok == ')':
                    if expect_value and values:
                        values.append('')
                    break
                if tok == ',':
                    if expect_value:
                        values.append('')
                    expect_value = True
                    continue
                if not expect_value:
                    raise _parse_error("found %r, expected: ',' or ')'" % tok)
                if not valid_label_value(tok):
                    raise _parse_error('Invalid value: "%s"' % tok)
                values.append(tok)
                expect_value = False
            if not values:
                raise _parse_error('for \'in\', \'notin\' operators, values set can\'t be empty')
            reqs.append((key, op, values))
        elif op in ('>', '<'):
            i += 1
            value = peek()
            if value is None or not re.match(r'^-?[0-9]+$', value):
                raise _parse_error('for \'Gt\', \'Lt\' operators, the value must be an integer')
            i += 1
            reqs.append((key, 'gt' if op == '>' else 'lt', [value]))
        else:
            raise _parse_error("found %r, expected: '=', '!=', '==', 'in', notin'" % op)
        if peek() is not None:
            if peek() != ',':
                raise _parse_error("found %r, expected: ','" % peek())
            i += 1
            if peek() is None:
                raise _parse_error('found end of string, expected: identifier')
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        has = key in labels
        value = labels.get(key)
        if op == 'exists' and not has:
            return False
        if op == '!exists' and has:
            return False
        if op == '=' and (not has or value != values[0]):
            return False
        if op == '!=' and has and value == values[0]:
            return False
        if op == 'in' and (not has or value not in values):
            return False
        if op == 'notin' and has and value in values:
            return False
        if op in ('gt', 'lt'):
            if not has or not re.match(r'^-?[0-9]+$', value):
                return False
            if op == 'gt' and not int(value) > int(values[0]):
                return False
            if op == 'lt' and not int(value) < int(values[0]):
                return False
    return True


def _pod_field(pod, field):
    meta, spec, st = pod.get('metadata', {}), pod.get('spec', {}), pod.get('status', {})
    return {
        'metadata.name': meta.get('name', ''),
        'metadata.namespace': meta.get('namespace', ''),
        'spec.nodeName': spec.get('nodeName', ''),
        'spec.restartPolicy': spec.get('restartPolicy', ''),
        'spec.schedulerName': spec.get('schedulerName', ''),
        'spec.serviceAccountName': spec.get('serviceAccountName', ''),
        'spec.hostNetwork': 'true' if spec.get('hostNetwork') else 'false',
        'status.phase': st.get('phase', ''),
        'status.podIP': st.get('podIP', ''),
        'status.nominatedNodeName': st.get('nominatedNodeName', ''),
    }[field]


POD_FIELDS = ('metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy',
              'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
              'status.phase', 'status.podIP', 'status.nominatedNodeName')


def _split_unescaped(text, sep):
    parts, cur, i = [], '', 0
    while i < len(text):
        if text[i] == '\\' and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if text[i] == sep:
            parts.append(cur)
            cur = ''
        else:
            cur += text[i]
        i += 1
    parts.append(cur)
    return parts


def _unescape(text):
    return re.sub(r'\\(.)', r'\1', text)


def parse_fields(text):
    """Returns a list of (field, op, value) with op '=' or '!='."""
    if text is None or text.strip() == '':
        return []
    reqs = []
    for term in _split_unescaped(text, ','):
        match = re.match(r'^(.*?)(==|!=|=)(.*)$', term)
        if not match:
            raise status.bad_request('invalid selector: \'%s\'; can\'t understand \'%s\''
                                     % (text, term))
        field, op, value = match.group(1).strip(), match.group(2), _unescape(match.group(3))
        if field not in POD_FIELDS:
            raise status.bad_request('field label not supported: %s' % field)
        reqs.append((field, '!=' if op == '!=' else '=', value))
    return reqs


def fields_match(reqs, pod):
    for field, op, value in reqs:
        actual = _pod_field(pod, field)
        if (op == '=') != (actual == value):
            return False
    return True
