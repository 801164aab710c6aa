"""A copy of this process, forked to run one function, with pipes on its standard streams.

Starting the PDF printer as a new interpreter costs 30-40 ms before its first import
(the interpreter's start-up, site, codeb_report's packages again); a fork of the
command, made before it has imported anything or started a thread, costs a millisecond.
``ForkedProcess`` offers what render/printer.py uses of ``subprocess.Popen``:
``communicate``, ``poll``, ``kill``, ``pid`` and ``returncode``.
"""

from __future__ import annotations

import os
import selectors
import signal
import sys
import traceback
from collections.abc import Callable
from contextlib import suppress

_CHUNK = 64 * 1024


class ForkedProcess:
    """``run()`` in a forked child whose standard input, output and error are pipes.

    The child never returns into this process' code: it leaves with ``os._exit``, with
    status 1 and the traceback on its standard error if ``run`` raised. Fork only while
    this process has a single thread.
    """

    def __init__(self, run: Callable[[], None]) -> None:
        pipes = [os.pipe() for _ in range(3)]  # (read, write) for stdin, stdout, stderr
        pid = os.fork()
        if pid == 0:  # the child
            status = 1
            try:
                for fd, end in zip((0, 1, 2), (pipes[0][0], pipes[1][1], pipes[2][1]), strict=True):
                    os.dup2(end, fd)
                for read, write in pipes:
                    os.close(read)
                    os.close(write)
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # ^C ends it with the command
                run()
                status = 0
            except BaseException:  # said on its standard error, as an interpreter would
                with suppress(Exception):
                    traceback.print_exc()
            finally:
                with suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(status)
        self.pid = pid
        self.returncode: int | None = None
        self._stdin: int | None = pipes[0][1]
        self._stdout: int | None = pipes[1][0]
        self._stderr: int | None = pipes[2][0]
        for read, write in pipes:
            os.close(write if read in (self._stdout, self._stderr) else read)

    def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]:
        """Write ``data`` to the child's input, read its output and error to their ends,
        wait for it: as ``Popen.communicate``, without a timeout."""
        found: dict[int, bytearray] = {}
        with selectors.DefaultSelector() as selector:
            pending = memoryview(data or b"")
            if self._stdin is not None:
                if pending:
                    selector.register(self._stdin, selectors.EVENT_WRITE)
                else:
                    self._stdin = _close(self._stdin)
            for fd in (self._stdout, self._stderr):
                if fd is not None:
                    found[fd] = bytearray()
                    selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                for key, _ in selector.select():
                    fd = key.fd
                    if fd == self._stdin:
                        try:
                            pending = pending[os.write(fd, pending[:_CHUNK]) :]
                        except BrokenPipeError:
                            pending = pending[:0]  # the child is gone; its status says why
                        if not pending:
                            selector.unregister(fd)
                            self._stdin = _close(fd)
                    elif chunk := os.read(fd, _CHUNK):
                        found[fd] += chunk
                    else:
                        selector.unregister(fd)
                        _close(fd)
        out = bytes(found.get(self._stdout, b"")) if self._stdout is not None else b""
        err = bytes(found.get(self._stderr, b"")) if self._stderr is not None else b""
        self._stdout = self._stderr = None
        self.wait()
        return out, err

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _close(fd: int) -> None:
    with suppress(OSError):
        os.close(fd)
