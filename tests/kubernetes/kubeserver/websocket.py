# websocket.py: RFC 6455 framing by hand (both ends), so a test can send any frame, fragment or fault it wants.
"""encode_frame() builds one frame (masked from a client, unmasked from a
server, RSV bits and FIN under the caller's control); FrameParser reads
frames incrementally and enforces the rules a server must enforce (masking,
control-frame size and FIN, no RSV bits, known opcodes); MessageAssembler
joins fragments into messages and lets control frames through in between."""
import base64
import hashlib
import os
import struct

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CONTROL = (OP_CLOSE, OP_PING, OP_PONG)
KNOWN = (OP_CONT, OP_TEXT, OP_BINARY) + CONTROL

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_TOO_BIG = 1009


class ProtocolError(Exception):
    def __init__(self, message, code=CLOSE_PROTOCOL_ERROR):
        super().__init__(message)
        self.code = code


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def encode_frame(opcode, payload=b'', fin=True, mask=False, rsv=0):
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | opcode
    size = len(payload)
    mask_bit = 0x80 if mask else 0
    if size < 126:
        head = struct.pack('!BB', first, mask_bit | size)
    elif size < 65536:
        head = struct.pack('!BBH', first, mask_bit | 126, size)
    else:
        head = struct.pack('!BBQ', first, mask_bit | 127, size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + apply_mask(key, payload)


def apply_mask(key, data):
    if not data:
        return b''
    # XOR with the key repeated: one big-integer operation instead of a loop.
    repeated = (key * (len(data) // 4 + 1))[:len(data)]
    value = int.from_bytes(data, 'little') ^ int.from_bytes(repeated, 'little')
    return value.to_bytes(len(data), 'little')


def close_payload(code, reason=''):
    return struct.pack('!H', code) + reason.encode()


def parse_close(payload):
    if len(payload) == 0:
        return None, ''
    if len(payload) == 1:
        raise ProtocolError('close frame with a 1-byte payload')
    code = struct.unpack('!H', payload[:2])[0]
    try:
        reason = payload[2:].decode('utf-8')
    except UnicodeDecodeError as exc:
        raise ProtocolError('close reason is not UTF-8') from exc
    return code, reason


class FrameParser:
    """feed(bytes) -> [(fin, opcode, payload)]. expect_masked is True on the
    server side (client frames must be masked) and False on the client side."""

    def __init__(self, expect_masked, max_payload=64 * 1024 * 1024):
        self._buf = bytearray()
        self._expect_masked = expect_masked
        self._max = max_payload

    def feed(self, data):
        self._buf += data
        out = []
        while True:
            frame = self._one()
            if frame is None:
                return out
            out.append(frame)

    def _one(self):
        buf = self._buf
        if len(buf) < 2:
            return None
        fin, rsv, opcode = buf[0] >> 7, (buf[0] >> 4) & 0x7, buf[0] & 0xF
        masked, size = buf[1] >> 7, buf[1] & 0x7F
        if rsv:
            raise ProtocolError('reserved bits set without a negotiated extension')
        if opcode not in KNOWN:
            raise ProtocolError('unknown opcode %#x' % opcode)
        if opcode in CONTROL and (not fin or size > 125):
            raise ProtocolError('fragmented or oversized control frame')
        if bool(masked) != self._expect_masked:
            raise ProtocolError('client frames must be masked' if self._expect_masked
                                else 'server frames must not be masked')
        pos = 2
        if size == 126:
            if len(buf) < 4:
                return None
            size = struct.unpack('!H', buf[2:4])[0]
            pos = 4
        elif size == 127:
            if len(buf) < 10:
                return None
            size = struct.unpack('!Q', buf[2:10])[0]
            pos = 10
        if size > self._max:
            raise ProtocolError('frame of %d bytes exceeds the limit' % size, CLOSE_TOO_BIG)
        key = None
        if masked:
            if len(buf) < pos + 4:
                return None
            key = bytes(buf[pos:pos + 4])
            pos += 4
        if len(buf) < pos + size:
            return None
        payload = bytes(buf[pos:pos + size])
        del buf[:pos + size]
        if key:
            payload = apply_mask(key, payload)
        return bool(fin), opcode, payload


class MessageAssembler:
    """push(frame) -> [(opcode, payload)]: whole data messages and control
    frames, in arrival order."""

    def __init__(self, max_message=64 * 1024 * 1024):
        self._opcode = None
        self._parts = []
        self._size = 0
        self._max = max_message

    def push(self, frame):
        fin, opcode, payload = frame
        if opcode in CONTROL:
            return [(opcode, payload)]
        if opcode == OP_CONT:
            if self._opcode is None:
                raise ProtocolError('continuation frame without a message to continue')
        else:
            if self._opcode is not None:
                raise ProtocolError('new data frame inside a fragmented message')
            self._opcode = opcode
        self._parts.append(payload)
        self._size += len(payload)
        if self._size > self._max:
            raise ProtocolError('message exceeds the limit', CLOSE_TOO_BIG)
        if not fin:
            return []
        message = (self._opcode, b''.join(self._parts))
        self._opcode, self._parts, self._size = None, [], 0
        return [message]
