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
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import suppress

_CHUNK = 64 * 1024


class ForkedProcess:
    """``run()`` in a forked child whose standard input, output and error are pipes.

    The child never returns into this process' code: it leaves with ``os._exit``, with
    status 1 and the traceback on its standard error if ``run`` raised. It is killed
    when this process ends, however it ends. Fork only while this process has a single
    thread.
    """

    def __init__(self, run: Callable[[], None]) -> None:
        _fill_standard_descriptors()
        pipes = [os.pipe() for _ in range(3)]  # (read, write) for stdin, stdout, stderr
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            for fd in (fd for pair in pipes for fd in pair):
                _close(fd)
            raise
        if pid == 0:  # the child (inline: as a function call it measured 0.08 s slower)
            status = 1
            try:
                die_with_parent(parent)
                for fd, end in zip((0, 1, 2), (pipes[0][0], pipes[1][1], pipes[2][1]), strict=True):
                    os.dup2(end, fd)  # every pipe is above 2: _fill_standard_descriptors
                for read, write in pipes:
                    os.close(read)
                    os.close(write)
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    signal.signal(signal.SIGINT, signal.SIG_DFL)  # ^C ends it with the command
                run()
                status = 0
            except BaseException:  # said on its standard error, as an interpreter would
                with suppress(Exception):
                    os.write(2, traceback.format_exc().encode("utf-8", "replace"))
            finally:
                for stream in (sys.stdout, sys.stderr):  # None if the command had none
                    with suppress(Exception):
                        stream.flush()  # type: ignore[union-attr]
                os._exit(status)
        self.pid = pid
        self.returncode: int | None = None
        self._stdin: int | None = pipes[0][1]
        self._stdout: int | None = pipes[1][0]
        self._stderr: int | None = pipes[2][0]
        self._found = {"out": bytearray(), "err": bytearray()}
        for read, write in pipes:
            os.close(write if read in (self._stdout, self._stderr) else read)

    def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]:
        """Write ``data`` to the child's input, read its output and error to their ends,
        wait for it: as ``Popen.communicate``, without a timeout. Interrupted, it can be
        called again."""
        with selectors.DefaultSelector() as selector:
            pending = memoryview(data or b"")
            if self._stdin is not None:
                if pending:
                    selector.register(self._stdin, selectors.EVENT_WRITE)
                else:
                    self._stdin = _close(self._stdin)
            for fd, name in ((self._stdout, "out"), (self._stderr, "err")):
                if fd is not None:
                    selector.register(fd, selectors.EVENT_READ, name)
            while selector.get_map():
                for key, _ in selector.select():
                    if key.data is None:  # the child's input
                        pending = self._write(key.fd, pending, selector)
                    elif chunk := os.read(key.fd, _CHUNK):
                        self._found[key.data] += chunk
                    else:
                        selector.unregister(key.fd)
                        self._closed(key.data)
        self.wait()
        return bytes(self._found["out"]), bytes(self._found["err"])

    def _write(self, fd: int, pending: memoryview, selector: selectors.BaseSelector) -> memoryview:
        try:
            pending = pending[os.write(fd, pending[:_CHUNK]) :]
        except BrokenPipeError:
            pending = pending[:0]  # the child is gone; its status says why
        if not pending:
            selector.unregister(fd)
            self._stdin = _close(fd)
        return pending

    def _closed(self, name: str) -> None:
        # The number is forgotten as the descriptor is closed: a later call never
        # reads or closes whatever file reuses it.
        if name == "out" and self._stdout is not None:
            self._stdout = _close(self._stdout)
        elif name == "err" and self._stderr is not None:
            self._stderr = _close(self._stderr)

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


def _fill_standard_descriptors() -> None:
    """/dev/null on any of fds 0-2 this process started without, so that no pipe takes
    their numbers (the child's dup2 onto 0-2 would then close its own pipe)."""
    while (fd := os.open(os.devnull, os.O_RDWR)) <= 2:
        pass
    os.close(fd)


def die_with_parent(parent: int) -> None:
    """End this process soon after ``parent`` ends, however it ends (SIGTERM to the
    command alone, SIGKILL): a daemon thread looks every half second, so that no
    printer lays out a page for nobody."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="codeb-report: parent watch", daemon=True).start()


def _close(fd: int) -> None:
    with suppress(OSError):
        os.close(fd)
