# status.py: metav1.Status objects, shaped as kube-apiserver sends them, and the error that carries one.
"""Every API failure the server answers is an ApiError holding the exact
Status body (kind, apiVersion, metadata, status, message, reason, details,
code) that apimachinery's errors package would build for it."""


class ApiError(Exception):
    """An HTTP error answered with a Status body (or, for kubelet-side
    failures, with plain text, as the kubelet's streaming server does)."""

    def __init__(self, code, status, headers=None, text=None):
        super().__init__(status.get('message', '') if status else text)
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.text = text


def failure(code, reason, message, details=None):
    status = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
              'status': 'Failure', 'message': message}
    if reason:
        status['reason'] = reason
    if details is not None:
        status['details'] = details
    status['code'] = code
    return status


def error(code, reason, message, details=None, headers=None):
    return ApiError(code, failure(code, reason, message, details), headers)


def bad_request(message):
    return error(400, 'BadRequest', message)


def unauthorized():
    return error(401, 'Unauthorized', 'Unauthorized',
                 headers={'WWW-Authenticate': 'Basic realm="kubernetes-master"'})


def forbidden(user, verb, resource, namespace, name=None):
    """The RBAC denial text of k8s.io/apiserver's authorization filter."""
    plural = resource.partition('/')[0]
    scope = ('in the namespace "%s"' % namespace) if namespace else 'at the cluster scope'
    subject = ('%s "%s"' % (plural, name)) if name else plural
    message = ('%s is forbidden: User "%s" cannot %s resource "%s" in API group "" %s'
               % (subject, user, verb, resource, scope))
    details = {'name': name, 'kind': plural} if name else {'kind': plural}
    return error(403, 'Forbidden', message, details)


def not_found(kind, name):
    return error(404, 'NotFound', '%s "%s" not found' % (kind, name),
                 {'name': name, 'kind': kind})


def resource_not_found():
    return error(404, 'NotFound', 'the server could not find the requested resource', {})


def already_exists(kind, name):
    return error(409, 'AlreadyExists', '%s "%s" already exists' % (kind, name),
                 {'name': name, 'kind': kind})


def conflict(kind, name, why):
    return error(409, 'Conflict',
                 'Operation cannot be fulfilled on %s "%s": %s' % (kind, name, why),
                 {'name': name, 'kind': kind})


def method_not_allowed():
    return error(405, 'MethodNotAllowed',
                 'the server does not allow this method on the requested resource', {})


def gone(message):
    return error(410, 'Expired', message)


def invalid(kind, name, causes):
    """422 Invalid; causes are (reason, field, body) as field.ErrorList holds
    them. The message joins 'field: body' and brackets more than one."""
    texts = ['%s: %s' % (field, body) for _, field, body in causes]
    joined = texts[0] if len(texts) == 1 else '[%s]' % ', '.join(texts)
    details = {'name': name, 'kind': kind,
               'causes': [{'reason': reason, 'message': body, 'field': field}
                          for reason, field, body in causes]}
    return error(422, 'Invalid', '%s "%s" is invalid: %s' % (kind, name, joined), details)


def too_many_requests(retry_after, message='Too many requests, please try again later.'):
    return error(429, 'TooManyRequests', message, {'retryAfterSeconds': retry_after},
                 headers={'Retry-After': str(retry_after)})


def internal_error(cause):
    return error(500, 'InternalError', 'Internal error occurred: %s' % cause,
                 {'causes': [{'message': cause}]})


def service_unavailable(message):
    return error(503, 'ServiceUnavailable', message)


def injected(code, message=None, retry_after=1):
    """The Status a fault-injection rule answers with, for a given code."""
    if code == 429:
        return too_many_requests(retry_after, message or
                                 'Too many requests, please try again later.')
    if code == 500:
        return internal_error(message or 'injected fault')
    reasons = {400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound',
               409: 'Conflict', 410: 'Expired', 422: 'Invalid', 503: 'ServiceUnavailable',
               504: 'Timeout'}
    err = error(code, reasons.get(code, 'InternalError'), message or 'injected fault')
    if code == 503:
        err.headers['Retry-After'] = str(retry_after)
    return err


def kubelet_text(code, text):
    """A failure written by the kubelet's streaming server (plain text, no
    Status), proxied unchanged by the apiserver."""
    return ApiError(code, None, text=text)


# The channel-3 statuses of v4/v5 exec (pkg/kubelet/cri/streaming/remotecommand):
# metav1.Status marshalled without kind/apiVersion, metadata always present.
def exec_success():
    return {'metadata': {}, 'status': 'Success'}


def exec_exit_code(argv, code):
    return {'metadata': {}, 'status': 'Failure',
            'message': 'command terminated with non-zero exit code: error executing '
                       'command [%s], exit code %d' % (' '.join(argv), code),
            'reason': 'NonZeroExitCode',
            'details': {'causes': [{'reason': 'ExitCode', 'message': str(code)}]}}


def exec_internal_error(cause):
    return {'metadata': {}, 'status': 'Failure',
            'message': 'Internal error occurred: %s' % cause,
            'reason': 'InternalError',
            'details': {'causes': [{'message': cause}]},
            'code': 500}
