"""Runs the user's Python file inside the sandbox and reports the line being executed.

Self-contained (standard library only): it is copied into every sandbox and image. The
parent reads newline-separated messages on the descriptor named by the second argument
(default 3): `line N` at most every
REPORT_INTERVAL seconds while the line changes, and `limit NAME` when the program died of
a resource limit the interpreter reports as an exception (memory, file size, processes),
and `usage CPU_S PEAK_BYTES` at the end.

Usage: python3 -I tracer.py /work/main.py [REPORT_FD]
       python3 -I tracer.py - (the source on stdin, a NUL byte, then the program's input)
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import sys
import threading
import traceback
from types import FrameType
from typing import Any

REPORT_FD = 3
REPORT_INTERVAL = 0.1


class LineReporter:
    """Samples the line the main thread is executing in the user's file, every interval.

    Sampling (`sys._current_frames()`) instead of `sys.settrace` costs the user's program
    nothing between samples: a traced program runs several times slower and would spend
    its CPU limit on the tracer.
    """

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.sent = 0
        self.stop = threading.Event()
        self.main_thread = threading.get_ident()

    def current_line(self) -> int:
        """The line of the innermost frame of the user's file on the main thread's stack."""
        frame: FrameType | None = sys._current_frames().get(self.main_thread)
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                return frame.f_lineno or 0
            frame = frame.f_back
        return 0

    def send(self, message: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, (message + "\n").encode())

    def run(self) -> None:
        while not self.stop.wait(REPORT_INTERVAL):
            line = self.current_line()
            if line and line != self.sent:
                self.sent = line
                self.send(f"line {line}")


def limit_of(exc: BaseException) -> str | None:
    """The resource limit an uncaught exception stands for, if any."""
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, OSError):
        if exc.errno == errno.EFBIG:
            return "file_size"
        if exc.errno == errno.ENOSPC:
            return "disk_space"
        if exc.errno == errno.EAGAIN and isinstance(exc, BlockingIOError):
            return "processes"
        if exc.errno == errno.EMFILE:
            return "open_files"
    return None


def report_usage(reporter: LineReporter) -> None:
    """CPU seconds and peak resident bytes of this process and the children it waited for."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    peak = max(own.ru_maxrss, children.ru_maxrss) * 1024
    reporter.send(f"usage {cpu:.3f} {peak}")


def source_from_stdin(path: str = "/work/main.py") -> str:
    """Docker images get the program on stdin ahead of its input, ended by a NUL byte."""
    source = bytearray()
    while (byte := sys.stdin.buffer.read(1)) not in (b"", b"\0"):
        source += byte
    with open(path, "wb") as handle:
        handle.write(source)
    return path


def main() -> int:
    path = sys.argv[1]
    if path == "-":
        path = source_from_stdin()
    report_fd = int(sys.argv[2]) if len(sys.argv) > 2 else REPORT_FD
    reporter = LineReporter(path, report_fd)
    with open(path, encoding="utf-8", errors="replace") as handle:
        source = handle.read()
    try:
        code = compile(source, path, "exec")
    except SyntaxError:
        traceback.print_exc(limit=0)
        return 1
    sys.argv = [path]
    sys.path[0:0] = [os.path.dirname(path)]
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
    thread = threading.Thread(target=reporter.run, name="line-reporter", daemon=True)
    thread.start()
    try:
        exec(code, namespace)  # noqa: S102 - running the user's program is the point
    except SystemExit:
        raise
    except BaseException as exc:
        limit = limit_of(exc)
        if limit:
            reporter.send(f"limit {limit}")
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        traceback.print_exception(type(exc), exc, tb)
        return 1
    finally:
        reporter.stop.set()
        report_usage(reporter)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
