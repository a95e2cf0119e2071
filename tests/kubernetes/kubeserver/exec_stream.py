# exec_stream.py: pods/exec over WebSocket: channel framing, v5 CLOSE, the channel-3 Status, and the stream faults.
"""After the 101, one thread owns the client socket (TLS objects must not be
read and written from two threads): it parses client frames, answers pings,
writes output messages and the final Status. A reader thread turns the
Docker exec stream into (channel, bytes) items on a bounded queue (so a
slow client slows the process down, as a kubelet does), and a writer thread
feeds stdin to Docker so a process that does not read its stdin cannot
stall the output.

Protocols, chosen in the client's order: v5.channel.k8s.io (unless disabled),
v4.channel.k8s.io, channel.k8s.io (v1: plain-text errors, nothing on
success), base64.channel.k8s.io and v4.base64.channel.k8s.io (text frames,
ASCII channel digit + base64). No Sec-WebSocket-Protocol at all means v1."""
import base64
import json
import os
import queue
import select
import socket
import ssl
import threading
import time

from . import status, websocket
from .docker_api import Demuxer, DockerError

V5, V4, V1 = 'v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'
B64_V1, B64_V4 = 'base64.channel.k8s.io', 'v4.base64.channel.k8s.io'
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
OCI_FAILURE = b'OCI runtime exec failed'
QUEUE_ITEMS = 64


def negotiate(offered, disable_v5):
    """The first offered protocol this server speaks; '' when the client
    offered none; None when none of the offered ones is spoken."""
    supported = [V4, V1, B64_V1, B64_V4] + ([] if disable_v5 else [V5])
    if not offered:
        return ''
    for proto in offered:
        if proto in supported:
            return proto
    return None


def supported_list(disable_v5):
    return ([] if disable_v5 else [V5]) + [V4, V1, B64_V1, B64_V4]


class _Dropped(Exception):
    pass


class _ClientGone(Exception):
    pass


class ExecSession:
    def __init__(self, sock, leftover, docker, settings, exec_id, argv, opts, protocol, entry):
        self.sock = sock
        self.leftover = leftover
        self.docker = docker
        self.settings = settings
        self.exec_id = exec_id
        self.argv = argv
        self.opts = opts                    # dict: stdin, stdout, stderr, tty
        self.protocol = protocol
        self.entry = entry                  # the request log entry, filled in here
        self.out = queue.Queue(QUEUE_ITEMS)
        self.stdin_q = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        self.dsock = None
        self.sent_output = 0
        self.stats = {'stdin_bytes': 0, 'stdout_bytes': 0, 'stderr_bytes': 0,
                      'stdin_closed_by_client': False, 'messages_sent': 0, 'frames_sent': 0,
                      'client_frames': 0}
        self.closed_by_client = False
        self.done = False
        self.coalesce = {STDOUT: b'', STDERR: b''}

    # --- the output side

    def _raw_send(self, data):
        self.sock.settimeout(60)
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            raise _ClientGone(str(exc)) from exc

    def _send_frame(self, opcode, payload, fin=True):
        self.stats['frames_sent'] += 1
        self._raw_send(websocket.encode_frame(opcode, payload, fin=fin))

    def _send_message(self, channel, data):
        """One channel message, shaped by the fragmentation switches."""
        base64_mode = self.protocol in (B64_V1, B64_V4)
        if base64_mode:
            opcode = websocket.OP_TEXT
            payload = (str(channel) + base64.b64encode(data).decode()).encode()
        else:
            opcode, payload = websocket.OP_BINARY, bytes([channel]) + data
        self.stats['messages_sent'] += 1
        size = self.settings['exec_fragment_bytes']
        if size <= 0 or len(payload) <= size:
            self._send_frame(opcode, payload)
            return
        pieces = [payload[i:i + size] for i in range(0, len(payload), size)]
        for i, piece in enumerate(pieces):
            self._send_frame(opcode if i == 0 else websocket.OP_CONT, piece,
                             fin=i == len(pieces) - 1)
            if self.settings['exec_ping_between_fragments'] and i < len(pieces) - 1:
                self._send_frame(websocket.OP_PING, b'between-fragments')

    def _output(self, channel, data, final=False):
        """Output bytes of a channel, split and counted; raises _Dropped when
        the drop fault's byte count is reached."""
        coalesce = self.settings['exec_coalesce_bytes']
        if coalesce > 0:
            self.coalesce[channel] += data
            if len(self.coalesce[channel]) < coalesce and not final:
                return
            data, self.coalesce[channel] = self.coalesce[channel], b''
        if not data:
            return
        limit = self.settings['exec_message_bytes']
        chunk = self.settings['exec_chunk_bytes']
        if chunk > 0:
            limit = min(limit, chunk)
        if coalesce > 0:
            limit = max(limit, len(data))
        for i in range(0, len(data), limit):
            piece = data[i:i + limit]
            if self.settings['exec_empty_messages']:
                self._send_message(channel, b'')
            self._send_message(channel, piece)
            self.sent_output += len(piece)
            self.stats['stdout_bytes' if channel == STDOUT else 'stderr_bytes'] += len(piece)
            self._maybe_drop()

    def _maybe_drop(self):
        limit = self.settings['exec_drop_after_bytes']
        if 0 <= limit <= self.sent_output:
            raise _Dropped()

    # --- the input side

    def _client_message(self, opcode, payload):
        if opcode == websocket.OP_TEXT and self.protocol in (B64_V1, B64_V4):
            if not payload:
                return
            try:
                payload = bytes([int(chr(payload[0]))]) + base64.b64decode(payload[1:])
            except (ValueError, TypeError):
                return
        if not payload:
            return
        channel, data = payload[0], payload[1:]
        if channel == STDIN:
            if self.opts['stdin'] and not self.stats['stdin_closed_by_client']:
                self.stats['stdin_bytes'] += len(data)
                if data:
                    self.stdin_q.put(data)
        elif channel == RESIZE:
            if self.opts['tty']:
                try:
                    size = json.loads(data)
                    self.docker.exec_resize(self.exec_id, int(size['Height']), int(size['Width']))
                except (ValueError, KeyError, TypeError):
                    pass
        elif channel == CLOSE and self.protocol == V5:
            if data[:1] == bytes([STDIN]) and not self.stats['stdin_closed_by_client']:
                self.stats['stdin_closed_by_client'] = True
                self.stdin_q.put(None)

    def _read_client(self, parser, assembler, data):
        for frame in parser.feed(data):
            self.stats['client_frames'] += 1
            for opcode, payload in assembler.push(frame):
                if opcode == websocket.OP_PING:
                    self._send_frame(websocket.OP_PONG, payload)
                elif opcode == websocket.OP_CLOSE:
                    code, _ = websocket.parse_close(payload)
                    self.entry['exec']['client_close_code'] = code
                    self.closed_by_client = True
                    try:
                        self._send_frame(websocket.OP_CLOSE, payload[:2])
                    except _ClientGone:
                        pass
                    return
                elif opcode in (websocket.OP_BINARY, websocket.OP_TEXT):
                    self._client_message(opcode, payload)

    def _recv(self, timeout):
        """Client bytes, b'' on EOF, None if nothing arrived in time."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            ready = True
        else:
            readable, _, _ = select.select([self.sock, self.wake_r], [], [], timeout)
            if self.wake_r in readable:
                os.read(self.wake_r, 4096)
            ready = self.sock in readable
        if not ready:
            return None
        self.sock.settimeout(0.5)
        try:
            return self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return None
        except (OSError, ssl.SSLError):
            return b''

    # --- the Docker side (threads)

    def _docker_reader(self, tty, rest):
        demux = Demuxer()
        try:
            data = rest
            while True:
                if data:
                    items = [(STDOUT, data)] if tty else demux.feed(data)
                    for stream, payload in items:
                        if stream in (STDOUT, STDERR) and payload:
                            self._put(('data', stream, payload))
                data = self.dsock.recv(65536)
                if not data:
                    break
        except OSError:
            pass
        self._put(('eof', None, None))

    def _put(self, item):
        while True:
            try:
                self.out.put(item, timeout=0.5)
                break
            except queue.Full:
                if self.done or self.closed_by_client:
                    return
        try:
            os.write(self.wake_w, b'x')
        except OSError:
            pass

    def _stdin_writer(self):
        while True:
            data = self.stdin_q.get()
            if data is False:
                return
            try:
                if data is None:
                    self.dsock.shutdown(socket.SHUT_WR)
                    return
                self.dsock.sendall(data)
            except OSError:
                return

    # --- the whole exchange

    def run(self):
        exec_log = self.entry['exec']
        try:
            self.dsock, rest = self.docker.exec_start(self.exec_id, self.opts['tty'])
        except (DockerError, OSError) as exc:
            try:
                self._finish_with(status.exec_internal_error(
                    'error executing command in container: %s' % exc))
            except _ClientGone:
                pass
            exec_log['ended'] = 'exec-start-failed'
            os.close(self.wake_r)
            os.close(self.wake_w)
            return
        reader = threading.Thread(target=self._docker_reader, args=(self.opts['tty'], rest),
                                  daemon=True)
        writer = threading.Thread(target=self._stdin_writer, daemon=True)
        reader.start()
        if self.opts['stdin']:
            writer.start()
        ended = 'status'
        try:
            self._pump()
        except _Dropped:
            ended = 'dropped'
            self._abort()
        except _ClientGone:
            ended = 'client-gone'
        except websocket.ProtocolError as exc:
            ended = 'protocol-error: %s' % exc
            try:
                self._send_frame(websocket.OP_CLOSE, websocket.close_payload(exc.code, str(exc)))
            except _ClientGone:
                pass
        if self.closed_by_client:
            ended = 'client-closed'
        # The counts go in before 'ended': a test that sees 'ended' sees them.
        exec_log.update(self.stats)
        exec_log['ended'] = ended
        self.done = True
        self.stdin_q.put(False)
        self._close_docker()
        reader.join(10)
        if not reader.is_alive():      # never close a pipe a live thread may still write
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _pump(self):
        parser = websocket.FrameParser(expect_masked=True)
        assembler = websocket.MessageAssembler()
        initial = STDOUT if self.opts['stdout'] else STDERR if self.opts['stderr'] else ERROR
        self._send_message(initial, b'')
        self._maybe_drop()
        if self.leftover:
            self._read_client(parser, assembler, self.leftover)
        held = None                  # an OCI start failure is not the process's stdout
        first_stdout = True
        ping_every = self.settings['exec_server_ping_ms'] / 1000
        next_ping = time.monotonic() + ping_every if ping_every > 0 else None
        while not self.closed_by_client:
            while True:
                try:
                    kind, stream, payload = self.out.get_nowait()
                except queue.Empty:
                    break
                if kind == 'eof':
                    self._flush_coalesced()
                    self._final_status(held)
                    return
                if stream == STDOUT and first_stdout:
                    first_stdout = False
                    if payload.startswith(OCI_FAILURE):
                        held = payload
                        continue
                if held is not None:
                    held += payload if stream == STDOUT else b''
                    continue
                if self.opts['stdout' if stream == STDOUT else 'stderr']:
                    self._output(stream, payload)
            timeout = 0.5
            if next_ping is not None:
                timeout = max(0.0, min(timeout, next_ping - time.monotonic()))
            data = self._recv(timeout)
            if data == b'':
                raise _ClientGone('client closed the TCP connection')
            if data:
                self._read_client(parser, assembler, data)
            if next_ping is not None and time.monotonic() >= next_ping:
                self._send_frame(websocket.OP_PING, b'kube-test-server')
                next_ping = time.monotonic() + ping_every

    def _flush_coalesced(self):
        for channel in (STDOUT, STDERR):
            if self.coalesce[channel] and self.opts['stdout' if channel == STDOUT else 'stderr']:
                self._output(channel, b'', final=True)

    def _exit_info(self):
        info = {}
        for _ in range(100):
            try:
                info = self.docker.exec_inspect(self.exec_id)
            except (DockerError, OSError):
                return {}
            if not info.get('Running'):
                return info
            time.sleep(0.02)
        return info

    def _final_status(self, held):
        info = self._exit_info()
        code, pid = info.get('ExitCode'), info.get('Pid')
        exec_log = self.entry['exec']
        if held is not None and not pid:
            text = held.decode('utf-8', 'replace').strip()
            result = status.exec_internal_error(
                'error executing command in container: failed to exec in container: failed to '
                'start exec "%s": %s' % (self.exec_id, text))
        else:
            if held is not None and self.opts['stdout']:
                self._output(STDOUT, held)
            if code is None:
                result = status.exec_internal_error('error executing command in container: '
                                                    'the exit code is unknown')
            elif code == 0:
                result = status.exec_success()
            else:
                result = status.exec_exit_code(self.argv, code)
        exec_log['exit_code'] = code
        exec_log['status_reason'] = result.get('reason', result['status'])
        delay = self.settings['exec_status_delay_ms'] / 1000
        if delay > 0:
            time.sleep(delay)
        self._finish_with(result)

    def _finish_with(self, result):
        """Sends the Status the protocol calls for, closes with 1000 and waits
        briefly for the client's close frame."""
        try:
            if self.protocol in (V1, B64_V1, ''):
                if result['status'] != 'Success':
                    self._send_message(ERROR, result['message'].encode())
            else:
                self._send_message(ERROR, json.dumps(result).encode())
            self._send_frame(websocket.OP_CLOSE,
                             websocket.close_payload(self.settings['exec_close_code']))
        except _ClientGone:
            return
        parser = websocket.FrameParser(expect_masked=True)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            data = self._recv(max(0.0, deadline - time.monotonic()))
            if not data:
                if data == b'':
                    break
                continue
            try:
                frames = parser.feed(data)
            except websocket.ProtocolError:
                break
            if any(op == websocket.OP_CLOSE for _, op, _ in frames):
                break
        self.entry['exec']['client_close_seen'] = time.monotonic() < deadline

    def _abort(self):
        """The drop fault: the TCP connection goes, without close frame or status."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _close_docker(self):
        # Closing our end leaves the process running (like a kubelet whose
        # client went away); only its stdin sees EOF.
        if self.dsock is not None:
            try:
                self.dsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.dsock.close()
