#!/usr/bin/python3
# kube-test-server.py: runs the test Kubernetes API server (pods as Docker containers) until SIGTERM, SIGINT or stdin EOF.
"""Start it, wait for the ready file (written atomically once everything
listens; the same JSON is printed as one line on stdout), talk to the URL or
use the kubeconfig it names, end it with SIGTERM (or close its stdin when
--watch-stdin is given). On the way out it removes every container it made.
See README.md in this directory for the modes, files, settings and faults."""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kubeserver.docker_api import DockerError  # noqa: E402
from kubeserver.kubeconfig import MODES  # noqa: E402
from kubeserver.server import TestApiServer  # noqa: E402
from kubeserver.settings import SettingsError  # noqa: E402


def _settings(args):
    settings = {}
    if args.config:
        text = args.config
        if os.path.isfile(text):
            with open(text) as f:
                text = f.read()
        try:
            settings = json.loads(text)
        except ValueError as exc:
            raise SettingsError('--config %r is neither a file nor JSON (%s)'
                                % (args.config, exc)) from exc
        if not isinstance(settings, dict):
            raise SettingsError('--config is a JSON object (or a file holding one)')
    if args.disable_v5:
        settings['disable_v5'] = True
    if args.anonymous:
        settings['anonymous'] = True
    if args.forbid:
        settings['forbid'] = list(settings.get('forbid', [])) + args.forbid
    return settings


def _write_atomically(path, text):
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--mode', choices=MODES, default='tls-token')
    parser.add_argument('--state-dir', help='where kubeconfigs, token, log and volumes go '
                        '(default: a new temporary directory, removed at exit)')
    parser.add_argument('--pki-dir', help='certificates, made if missing and reused otherwise '
                        '(default: STATE_DIR/pki); servers may share one')
    parser.add_argument('--port', type=int, default=0, help='API port on 127.0.0.1 (0: a free one)')
    parser.add_argument('--admin-port', type=int, default=0, help='admin port (0: a free one)')
    parser.add_argument('--config', help='settings: a JSON object, or a file holding one')
    parser.add_argument('--forbid', action='append', metavar='VERB:RESOURCE',
                        help='answer 403 to this verb on this resource (e.g. create:pods/exec)')
    parser.add_argument('--disable-v5', action='store_true',
                        help='refuse v5.channel.k8s.io, as a server older than 1.30')
    parser.add_argument('--anonymous', action='store_true',
                        help='requests without credentials are system:anonymous (403), not 401')
    parser.add_argument('--kubeconfig', help='also copy the main kubeconfig to this path')
    parser.add_argument('--ready-file', help='write the ready JSON here once serving')
    parser.add_argument('--log', help='request log file (JSON lines; default '
                        'STATE_DIR/requests.log)')
    parser.add_argument('--watch-stdin', action='store_true',
                        help='exit when standard input reaches EOF (the parent went away)')
    parser.add_argument('--docker-socket', default='/var/run/docker.sock')
    args = parser.parse_args()

    try:
        settings = _settings(args)
    except (SettingsError, ValueError, OSError) as exc:
        print('kube-test-server: %s' % exc, file=sys.stderr)
        return 2
    temporary = args.state_dir is None
    state_dir = args.state_dir or tempfile.mkdtemp(prefix='kube-test-server-')
    try:
        server = TestApiServer(args.mode, state_dir, args.pki_dir, settings, args.log,
                               args.docker_socket, args.port, args.admin_port)
    except (SettingsError, ValueError, OSError) as exc:
        print('kube-test-server: %s' % exc, file=sys.stderr)
        if temporary:
            shutil.rmtree(state_dir, ignore_errors=True)
        return 2

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: server.request_stop())
    try:
        info = server.start()
    except (DockerError, OSError, RuntimeError) as exc:
        print('kube-test-server: cannot start: %s' % exc, file=sys.stderr)
        if temporary:
            server.remove_state()
        return 1
    if args.kubeconfig:
        with open(info['kubeconfig']) as f:
            _write_atomically(args.kubeconfig, f.read())
        info['kubeconfig_copy'] = os.path.abspath(args.kubeconfig)
    text = json.dumps(info, sort_keys=True)
    _write_atomically(os.path.join(state_dir, 'ready.json'), text + '\n')
    if args.ready_file:
        _write_atomically(args.ready_file, text + '\n')
    print(text, flush=True)

    if args.watch_stdin:
        def watch():
            # The raw descriptor: a thread blocked in a buffered read would
            # hold the buffer's lock when the interpreter shuts down.
            try:
                while os.read(sys.stdin.fileno(), 65536):
                    pass
            except OSError:
                pass
            server.request_stop()
        threading.Thread(target=watch, daemon=True).start()

    while not server.stop_requested.wait(0.5):
        pass
    server.stop()
    if temporary:
        server.remove_state()
    return 0


if __name__ == '__main__':
    sys.exit(main())
