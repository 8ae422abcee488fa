INSTREAM_CHUNK = 64 * 1024
_SIZE = struct.Struct("!I")


class RespError(Exception):
    """An error reply from Redis, e.g. "BUSYGROUP Consumer Group name already exists"."""


class ProtocolError(Exception):
    """Bytes that are neither RESP nor a clamd reply, or a connection closed mid-reply."""


def encode_command(*args):
    """A Redis command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode("utf-8")
        elif isinstance(arg, int) and not isinstance(arg, bool):
            data = b"%d" % arg
        else:
            raise TypeError("no RESP form for %r" % (arg,))
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def read_reply(stream):
    """Reads one RESP2 reply from a buffered binary stream; bulk strings come back as bytes."""
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ProtocolError("connection closed mid-reply")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode("utf-8", "replace")
    if kind == b"-":
        raise RespError(body.decode("utf-8", "replace"))
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = stream.read(size + 2)
        if len(data) != size + 2 or not data.endswith(b"\r\n"):
            raise ProtocolError("short bulk string")
        return data[:-2]
    if kind == b"*":
        size = int(body)
        if size < 0:
            return None
        return [read_reply(stream) for _ in range(size)]
    raise ProtocolError("unexpected RESP type %r" % kind)


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def pairs(flat):
    """A RESP field/value list as a dict of str."""
    flat = flat or []
    return {text(flat[i]): text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


class Redis:
    """One connection, reopened on the next call after a network error."""

    def __init__(self, host, port, password=None, timeout=10.0):
        self.host, self.port, self.password, self.timeout = host, port, password, timeout
        self._sock = None
        self._file = None

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._file = None

    def _connect(self):
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._file = self._sock.makefile("rb")
        if self.password:
            self._send(("AUTH", self.password), self.timeout)

    def _send(self, args, timeout):
        self._sock.settimeout(timeout)
        self._sock.sendall(encode_command(*args))
        return read_reply(self._file)

    def call(self, *args, timeout=None):
        if self._sock is None:
            self._connect()
        try:
            return self._send(args, timeout or self.timeout)
        except RespError:
            raise
        except (OSError, ProtocolError, ValueError):
            self.close()
            raise


def instream_scan(host, port, chunks, timeout=120.0, on_progress=None):
    """Streams byte chunks to clamd with zINSTREAM (4-byte big-endian length before each piece, a zero
    length at the end) and returns clamd's reply, e.g. "stream: OK" or "stream: Eicar-Signature FOUND"."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            for chunk in chunks:
                for start in range(0, len(chunk), INSTREAM_CHUNK):
                    piece = chunk[start:start + INSTREAM_CHUNK]
                    sock.sendall(_SIZE.pack(len(piece)) + piece)
                    if on_progress is not None:
                        on_progress()
            sock.sendall(_SIZE.pack(0))
        except (BrokenPipeError, ConnectionResetError):
            pass  # clamd closes early on errors such as the size limit; its reply says why
        reply = b""
        while not reply.endswith(b"\0"):
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                break
            if not data:
                break
            reply += data
    reply = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if not reply:
        raise ProtocolError("clamd closed the connection without a verdict")
    return reply


def parse_verdict(reply):
    """("infected", signature), ("clean", None) or ("error", clamd's message)."""
    if reply.endswith(" FOUND"):
        body = reply[: -len(" FOUND")]
        return "infected", body.split(": ", 1)[1] if ": " in body else body
    if reply.endswith(": OK"):
        return "clean", None
    return "error", reply


def file_chunks(path, size=INSTREAM_CHUNK):
    with open(path, "rb") as f:
        while True:
            data = f.read(size)
            if not data:
                return
            yield data
