# llmsbx_runner_python.py: the Python adapter of llmsbx-runner: a started
# interpreter that forks a fresh child per run, and keeps the state of
# interactive sessions in a forked kernel.
#
# llmsbx-runner starts it once (`python3 llmsbx_runner_python.py 3`, the
# runner's socket on descriptor 3) and speaks the frames of
# runner/llmsbx-runner-protocol.h with it; the numbers below mirror that
# header. Each ADAPTER_RUN carries the run's stdin, stdout and stderr as
# descriptors, so the code's output goes straight into the runner's pipes and
# never through this process.
#
# Stateless runs: the adapter forks; the child becomes what `python3 FILE ARGS`
# would be (own session, default signal handlers, a fresh __main__, sys.argv,
# sys.path[0], cwd, environment, standard streams over descriptors 0-2 and no
# other descriptor) and then leaves the adapter's frames entirely: it returns
# to the bottom of this file and runs the code there, so SystemExit,
# uncaught exceptions, atexit and threads end it exactly as they end the
# interpreter. Modules imported below (stdlib only, none that starts threads,
# opens files or registers atexit) are already in sys.modules.
#
# Interactive runs (STATEFUL): the state lives in a kernel, a child forked
# from the adapter on the first cell. Cells run in its one namespace; the
# value of a final expression is shown by sys.displayhook, as a REPL shows it.
# The adapter stays clean, so it can always fork a fresh kernel: on RESET, or
# when a timed-out cell did not come back from its KeyboardInterrupt and the
# runner killed the kernel (the result then says the state was lost).
#
# The adapter trusts only the runner. The kernel runs user code, so what it
# says is checked like any input; it can only lie about its own cell.

import os
import sys

# Cheap, safe imports that user code often needs: pure or C modules with no
# threads, no open files and no atexit handlers.
import abc, ast, base64, bisect, builtins, codecs, collections, collections.abc  # noqa: E401,F401
import contextlib, copy, dataclasses, datetime, decimal, enum, errno, fnmatch  # noqa: E401,F401
import fractions, functools, glob, hashlib, heapq, importlib, importlib.machinery  # noqa: E401,F401
import io, itertools, json, keyword, linecache, locale, math, numbers, operator  # noqa: E401,F401
import pathlib, pickle, pprint, random, re, select, shlex, shutil, signal, socket  # noqa: E401,F401
import statistics, string, struct, subprocess, tempfile, textwrap, threading, time  # noqa: E401,F401
import tokenize, traceback, types, typing, warnings, weakref, zlib  # noqa: E401,F401
import gc
import atexit
try:
    import ctypes
    _libc = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):
    _libc = None

# What the adapter imported: a run's child leaves these standing when it
# ends (see finish()); everything imported later is the run's own.
_PREIMPORTED = frozenset(sys.modules)

PROTOCOL_VERSION = 1
MAGIC = 0x4C585246
HEADER = struct.Struct(">IBBHII")
FIELD = struct.Struct(">HI")
FRAME_MAX = 64 * 1024 * 1024

ADAPTER_HELLO = 0x40
ADAPTER_RUN = 0x41
ADAPTER_STARTED = 0x42
ADAPTER_EXITED = 0x43
ADAPTER_RESET = 0x44
ADAPTER_RESET_DONE = 0x45

F_PID = 0x0004
F_VERSION = 0x0006
F_ARGV = 0x0100
F_ENV = 0x0101
F_CWD = 0x0102
F_STATEFUL = 0x010A
F_EXIT_CODE = 0x0200
F_SIGNAL = 0x0201
F_FLAGS = 0x0203
F_FAILURE = 0x0204
F_ERRNO = 0x0205
F_MESSAGE = 0x0206

STATE_KEPT = 1 << 6
STATE_LOST = 1 << 7
STATE_FRESH = 1 << 8
FAILURE_SPAWN = 3
FAILURE_ADAPTER = 5

KERNEL_REPLY_MAX = 64 * 1024
MAXFD = 1 << 20


class ProtocolError(Exception):
    pass


# Frames ---------------------------------------------------------------------

def field_int(tag, value):
    return FIELD.pack(tag, 8) + struct.pack(">Q", value & 0xFFFFFFFFFFFFFFFF)


def field_bytes(tag, value):
    if isinstance(value, str):
        value = os.fsencode(value)
    return FIELD.pack(tag, len(value)) + value


def send_frame(sock, kind, ident, payload=b"", fds=()):
    data = HEADER.pack(MAGIC, kind, 0, 0, ident, len(payload)) + payload
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    if data:
        sock.sendall(data)


def recv_exact(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock, limit=FRAME_MAX):
    """(kind, id, payload, fds); EOFError at a clean end of file."""
    data, fds, _flags, _addr = socket.recv_fds(sock, HEADER.size, 3)
    if not data:
        for fd in fds:
            os.close(fd)
        raise EOFError
    try:
        if len(data) < HEADER.size:
            data += recv_exact(sock, HEADER.size - len(data))
        magic, kind, _stream, flags, ident, length = HEADER.unpack(data)
        if magic != MAGIC or flags != 0 or length > limit:
            raise ProtocolError("malformed frame header")
        payload = recv_exact(sock, length) if length else b""
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return kind, ident, payload, fds


def parse_fields(payload):
    fields = []
    offset = 0
    while offset < len(payload):
        if len(payload) - offset < FIELD.size:
            raise ProtocolError("a field header runs past the frame")
        tag, length = FIELD.unpack_from(payload, offset)
        offset += FIELD.size
        if len(payload) - offset < length:
            raise ProtocolError("a field runs past the frame")
        fields.append((tag, payload[offset:offset + length]))
        offset += length
    return fields


def as_int(value):
    if len(value) != 8:
        raise ProtocolError("an integer field is not 8 bytes")
    return struct.unpack(">Q", value)[0]


class Job:
    """One ADAPTER_RUN: argv is the code file and its arguments."""

    def __init__(self, payload, fds):
        self.argv = []
        self.env = {}
        self.cwd = None
        self.stateful = False
        for tag, value in parse_fields(payload):
            if tag == F_ARGV:
                self.argv.append(os.fsdecode(value))
            elif tag == F_ENV:
                name, _, val = os.fsdecode(value).partition("=")
                self.env[name] = val
            elif tag == F_CWD:
                self.cwd = os.fsdecode(value)
            elif tag == F_STATEFUL:
                self.stateful = as_int(value) != 0
            else:
                raise ProtocolError("unknown field 0x%04x" % tag)
        if not self.argv or len(fds) != 3:
            raise ProtocolError("a run needs a file and three descriptors")
        self.fds = fds


def exit_fields(status=None, code=None, flags=0):
    """EXITED fields for a wait status, or for an exit code."""
    sig = 0
    if status is not None:
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            code = 128 + sig
        else:
            code = os.WEXITSTATUS(status)
    return field_int(F_EXIT_CODE, code & 0xFF) + field_int(F_SIGNAL, sig) + field_int(F_FLAGS, flags)


def failure_fields(failure, err, message):
    return (exit_fields(code=126) + field_int(F_FAILURE, failure) + field_int(F_ERRNO, err)
            + field_bytes(F_MESSAGE, message[:400]))


# The process a run becomes ---------------------------------------------------

def set_dumpable(value):
    """The adapter is not dumpable, so code of the same user cannot ptrace it;
    the processes that run code are, like any program."""
    if _libc is not None:
        _libc.prctl(4, value, 0, 0, 0)  # PR_SET_DUMPABLE


def default_signals():
    """The dispositions the interpreter starts with."""
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def make_stdio(env):
    """sys.stdin, sys.stdout and sys.stderr over descriptors 0-2, made as
    CPython makes them (create_stdio in Python/pylifecycle.c)."""
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    encoding = sys.__stdout__.encoding if sys.__stdout__ else "utf-8"
    errors = sys.__stdout__.errors if sys.__stdout__ else "strict"

    def stream(fd, mode, name, errs, line_buffering):
        raw = io.FileIO(fd, mode, closefd=False)
        raw.name = name
        if mode == "r":
            buf = io.BufferedReader(raw)
        elif unbuffered:
            buf = raw
        else:
            buf = io.BufferedWriter(raw)
        interactive = raw.isatty()
        text = io.TextIOWrapper(buf, encoding=encoding, errors=errs, newline="\n",
                                line_buffering=line_buffering or (interactive and not unbuffered),
                                write_through=unbuffered and mode != "r")
        text.mode = mode
        return text

    sys.stdin = sys.__stdin__ = stream(0, "r", "<stdin>", errors, False)
    sys.stdout = sys.__stdout__ = stream(1, "w", "<stdout>", errors, False)
    sys.stderr = sys.__stderr__ = stream(2, "w", "<stderr>", "backslashreplace", True)


def take_descriptors(fds):
    """Makes @fds (a run's stdin, stdout and stderr) descriptors 0-2."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)


def become(job, keep=()):
    """Turns a freshly forked child into the process that runs @job."""
    take_descriptors(job.fds)
    for sock in keep:
        sock.close()
    os.closerange(3, MAXFD)
    default_signals()
    set_dumpable(1)
    if job.cwd:
        os.chdir(job.cwd)
    os.environ.clear()
    os.environ.update(job.env)
    make_stdio(job.env)
    importlib.invalidate_caches()


def exit_code_of(exc):
    """What the interpreter exits with for SystemExit(exc.code)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def report(e, skip=1):
    """Prints @e as the interpreter would for an uncaught exception, without
    the adapter's own frames (the first @skip of its traceback)."""
    tb = e.__traceback__
    if isinstance(e, SyntaxError):
        tb = None  # a file that does not compile: no frame is the user's
    else:
        for _ in range(skip):
            tb = tb.tb_next if tb is not None else None
    sys.excepthook(type(e), e.with_traceback(tb), tb)


def flush_stdio():
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass


def finish(code):
    """Ends a run's child as Py_FinalizeEx ends the interpreter, for all
    that code can observe: non-daemon threads are waited for, atexit
    handlers run, standard streams are flushed (a failure makes the exit
    status 120, as there), and the run's own modules and __main__ are
    cleared and collected, so __del__ methods run and files left open are
    flushed. The adapter's pre-imported modules are not torn down: in a
    forked child that would only copy their pages to free them."""
    try:
        threading._shutdown()
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    status = code
    for f in (sys.stdout, sys.stderr):
        try:
            if f is not None and not f.closed:
                f.flush()
        except Exception as e:
            status = 120
            if f is sys.stdout:
                try:
                    print("Exception ignored in: %r" % (f,), file=sys.stderr)
                    traceback.print_exception(type(e), e, None, file=sys.stderr)
                except Exception:
                    pass
    # __main__ first, so the code's own __del__ methods run (and their errors
    # show) as at the interpreter's exit; then the modules the run imported,
    # whose weakref callbacks (logging's _removeHandlerRef, ...) would find
    # their globals gone: CPython's finalization keeps those quiet, and so
    # does this, with the unraisable hook silenced for that part only.
    try:
        main = sys.modules.get("__main__")
        if isinstance(main, types.ModuleType):
            main.__dict__.clear()
        gc.collect()
    except BaseException:
        pass
    try:
        sys.unraisablehook = lambda unraisable: None
        for name in reversed(list(sys.modules)):
            if name not in _PREIMPORTED and name != "__main__":
                module = sys.modules.get(name)
                if isinstance(module, types.ModuleType):
                    module.__dict__.clear()
        gc.collect()
    except BaseException:
        pass
    for f in (sys.stdout, sys.stderr):
        try:
            if f is not None and not f.closed:
                f.flush()
        except Exception:
            status = 120
    os._exit(status & 0xFF)


def run_main(job):
    """Runs the code file as `python3 FILE ARGS` would; never returns."""
    path = job.argv[0]
    sys.argv = list(job.argv)
    sys.orig_argv = [sys.executable] + list(job.argv)
    if not os.environ.get("PYTHONSAFEPATH"):
        sys.path[0] = os.path.dirname(os.path.realpath(path))
    else:
        del sys.path[0]
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        print("%s: can't open file %r: [Errno %d] %s" % (sys.executable, path, e.errno, e.strerror),
              file=sys.stderr)
        finish(2)

    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main.__spec__ = None
    sys.modules["__main__"] = main
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as e:
        finish(exit_code_of(e))
    except KeyboardInterrupt as e:
        # Like the interpreter: the traceback, then death by SIGINT (exit 130).
        report(e)
        flush_stdio()
        try:
            atexit._run_exitfuncs()
        except BaseException:
            pass
        flush_stdio()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        os._exit(130)
    except BaseException as e:
        report(e)
        finish(1)
    finish(0)


# The kernel of interactive sessions -----------------------------------------

def run_cell(job, namespace):
    """Runs one cell in @namespace; returns its exit code."""
    path = job.argv[0]
    sys.argv = list(job.argv)
    try:
        with open(path, "rb") as f:
            source = f.read()
        tree = ast.parse(source, path)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, path, "exec", dont_inherit=True), namespace)
        if last is not None:
            value = eval(compile(last, path, "eval", dont_inherit=True), namespace)
            sys.displayhook(value)
        return 0
    except SystemExit as e:
        return exit_code_of(e)
    except KeyboardInterrupt as e:
        report(e)
        return 130
    except BaseException as e:
        report(e)
        return 1


def kernel_main(first, channel):
    """The kernel's loop: one namespace for every cell; never returns."""
    devnull = os.open(os.devnull, os.O_RDWR)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    job = first
    while True:
        take_descriptors(job.fds)
        make_stdio(os.environ)
        try:
            try:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                code = run_cell(job, main.__dict__)
            finally:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        except KeyboardInterrupt:
            code = 130  # arrived as the cell ended
        flush_stdio()
        # The cell's pipes close here, so the runner sees their end.
        for target in (0, 1, 2):
            os.dup2(devnull, target)
        try:
            send_frame(channel, ADAPTER_EXITED, 0, exit_fields(code=code, flags=STATE_KEPT))
            kind, _ident, payload, fds = recv_frame(channel)
            if kind != ADAPTER_RUN:
                raise ProtocolError("unexpected frame")
            job = Job(payload, fds)
        except BaseException:
            os._exit(0)


class Kernel:
    def __init__(self, pid, channel):
        self.pid = pid
        self.channel = channel
        self.fresh = True


# The adapter's loop ----------------------------------------------------------

def reap(pid):
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:
            return None


def kill_kernel(kernel):
    try:
        os.kill(kernel.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    kernel.channel.close()
    reap(kernel.pid)


def serve_stateless(sock, ident, job, keep):
    """Forks the run's process. Returns the job in the child, None in the adapter."""
    try:
        pid = os.fork()
    except OSError as e:
        for fd in job.fds:
            os.close(fd)
        send_frame(sock, ADAPTER_EXITED, ident,
                   failure_fields(FAILURE_SPAWN, e.errno or 0, "cannot start the program: fork: %s%s"
                                  % (e.strerror, " (the sandbox's process limit is reached)"
                                     if e.errno == errno.EAGAIN else "")))
        return None
    if pid == 0:
        os.setsid()
        become(job, keep)
        return job
    for fd in job.fds:
        os.close(fd)
    send_frame(sock, ADAPTER_STARTED, ident, field_int(F_PID, pid))
    status = reap(pid)
    send_frame(sock, ADAPTER_EXITED, ident,
               exit_fields(status=status) if status is not None else exit_fields(code=137))
    return None


def serve_stateful(sock, ident, job, kernel):
    """Runs a cell in the kernel (forked when there is none). Returns
    (kernel, None) in the adapter, (None, (job, channel)) in a new kernel."""
    if kernel is not None:
        # A kernel that died between cells (a thread of an earlier cell
        # ended it) cannot run this one: it goes to a fresh kernel.
        try:
            done, _status = os.waitpid(kernel.pid, os.WNOHANG)
        except ChildProcessError:
            done = kernel.pid
        if done == kernel.pid:
            kernel.channel.close()
            kernel = None
    if kernel is None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = os.fork()
        except OSError as e:
            parent_end.close()
            child_end.close()
            for fd in job.fds:
                os.close(fd)
            send_frame(sock, ADAPTER_EXITED, ident,
                       failure_fields(FAILURE_SPAWN, e.errno or 0, "cannot start the kernel: fork: %s"
                                      % e.strerror))
            return None, None
        if pid == 0:
            os.setsid()
            parent_end.close()
            fds = list(job.fds)
            job.fds = [os.dup(fd) for fd in fds]
            for fd in fds:
                os.close(fd)
            sock.close()
            keep = {child_end.fileno()} | set(job.fds)
            for fd in range(3, 256):
                if fd not in keep:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            os.closerange(256, MAXFD)
            default_signals()
            set_dumpable(1)
            if job.cwd:
                os.chdir(job.cwd)
            os.environ.clear()
            os.environ.update(job.env)
            importlib.invalidate_caches()
            return None, (job, child_end)
        child_end.close()
        kernel = Kernel(pid, parent_end)
        for fd in job.fds:
            os.close(fd)
        send_frame(sock, ADAPTER_STARTED, ident, field_int(F_PID, pid))
    else:
        try:
            send_frame(kernel.channel, ADAPTER_RUN, ident,
                       b"".join(field_bytes(F_ARGV, a) for a in job.argv), job.fds)
        except OSError:
            pass  # it died; the read below says how
        for fd in job.fds:
            os.close(fd)
        send_frame(sock, ADAPTER_STARTED, ident, field_int(F_PID, kernel.pid))

    flags = STATE_FRESH if kernel.fresh else 0
    kernel.fresh = False
    try:
        kind, _ident, payload, fds = recv_frame(kernel.channel, KERNEL_REPLY_MAX)
        for fd in fds:
            os.close(fd)
        if kind != ADAPTER_EXITED:
            raise ProtocolError("the kernel sent an unexpected frame")
        code = 0
        for tag, value in parse_fields(payload):
            if tag == F_EXIT_CODE:
                code = as_int(value) & 0xFF
        send_frame(sock, ADAPTER_EXITED, ident, exit_fields(code=code, flags=flags | STATE_KEPT))
        return kernel, None
    except (EOFError, OSError, ProtocolError, struct.error):
        # The kernel died (or broke its word): its state is gone.
        try:
            os.kill(kernel.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kernel.channel.close()
        status = reap(kernel.pid)
        send_frame(sock, ADAPTER_EXITED, ident,
                   exit_fields(status=status, code=137, flags=flags | STATE_LOST)
                   if status is not None else exit_fields(code=137, flags=flags | STATE_LOST))
        return None, None


def adapter_main(fd):
    """Serves the runner. Returns ('run', job) in a forked run child and
    ('kernel', (job, channel)) in a new kernel; in the adapter it never returns."""
    sock = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    set_dumpable(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    gc.freeze()  # the imported modules stay shared with the children, uncopied
    send_frame(sock, ADAPTER_HELLO, 0, field_int(F_VERSION, PROTOCOL_VERSION) + field_int(F_PID, os.getpid()))
    kernel = None
    while True:
        try:
            kind, ident, payload, fds = recv_frame(sock)
        except EOFError:
            if kernel is not None:
                kill_kernel(kernel)
            os._exit(0)
        if kind == ADAPTER_RESET:
            for fd in fds:
                os.close(fd)
            if kernel is not None:
                kill_kernel(kernel)
                kernel = None
            send_frame(sock, ADAPTER_RESET_DONE, ident)
            continue
        if kind != ADAPTER_RUN:
            raise ProtocolError("unexpected frame 0x%02x" % kind)
        job = Job(payload, fds)
        if job.stateful:
            kernel, new_kernel = serve_stateful(sock, ident, job, kernel)
            if new_kernel is not None:
                return "kernel", new_kernel
        else:
            keep = (sock,) if kernel is None else (sock, kernel.channel)
            child = serve_stateless(sock, ident, job, keep)
            if child is not None:
                return "run", child


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: llmsbx_runner_python.py FD (started by llmsbx-runner)")
    what, job = adapter_main(int(sys.argv[1]))
    if what == "run":
        run_main(job)
    else:
        kernel_main(*job)
