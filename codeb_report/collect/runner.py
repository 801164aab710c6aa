"""The one small interface every transport implements: run a shell script, get its output."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import IO, Protocol

# Probes parse English, C-locale output whatever the server's own locale is.
C_LOCALE = {"LANG": "C", "LC_ALL": "C"}

# What one server's probe script may print (stdout and stderr together) before its
# collection is given up: a server printing without end must not exhaust the collector's
# memory for the whole fleet. A server's probes print some hundred KiB even with a
# thousand containers. `[ssh] max_output_mib` in the configuration changes it.
MAX_OUTPUT = 8 * 1024 * 1024
READ_SIZE = 65536


@dataclass(frozen=True)
class CommandResult:
    stdout: str
    stderr: str
    exit_code: int


class CommandTimeout(Exception):
    """The script did not finish within its deadline."""


class OutputTooLarge(Exception):
    """The script printed more than the output limit; reading stopped there."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {mebibytes(limit)} MiB")
        self.limit = limit


def mebibytes(n: int) -> str:
    return f"{n / 1024 / 1024:g}"


class OutputBuffer:
    """stdout and stderr as they arrive, refusing to hold more than ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out = bytearray()
        self.err = bytearray()

    def add(self, data: bytes, stderr: bool = False) -> None:
        (self.err if stderr else self.out).extend(data)
        if len(self.out) + len(self.err) > self.limit:
            raise OutputTooLarge(self.limit)

    def texts(self) -> tuple[str, str]:
        return self.out.decode("utf-8", "replace"), self.err.decode("utf-8", "replace")


class Runner(Protocol):
    """Runs one POSIX shell script on one server.

    ``stdin`` carries secrets (never the command line, which other users can see in ps).
    Raises CommandTimeout past ``timeout`` and OutputTooLarge past the runner's limit.
    """

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult: ...


@dataclass
class LocalRunner:
    """Runs scripts on the machine codeb-report itself runs on."""

    max_output: int = MAX_OUTPUT

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult:
        deadline = time.monotonic() + timeout
        # Its own session, so that the script's children go with it when it is stopped.
        proc = subprocess.Popen(
            ["/bin/sh", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **C_LOCALE},
            start_new_session=True,
        )
        try:
            _feed(proc.stdin, stdin)
            buffer = OutputBuffer(self.max_output)
            _read(proc, buffer, deadline, timeout)
            code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise CommandTimeout(f"no answer within {timeout:g} s") from None
        except BaseException:
            _stop(proc)
            raise
        finally:
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        out, err = buffer.texts()
        return CommandResult(out, err, code)


def _feed(pipe: IO[bytes] | None, text: str | None) -> None:
    """Secrets are a few short lines: they fit the pipe's buffer, written at once."""
    assert pipe is not None
    try:
        if text:
            pipe.write(text.encode("utf-8"))
        pipe.close()
    except BrokenPipeError:  # the script did not read its stdin
        pass


def _read(proc: subprocess.Popen[bytes], buffer: OutputBuffer, deadline: float, timeout: float):
    with selectors.DefaultSelector() as selector:
        for pipe, is_err in ((proc.stdout, False), (proc.stderr, True)):
            assert pipe is not None
            selector.register(pipe, selectors.EVENT_READ, is_err)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandTimeout(f"no answer within {timeout:g} s")
            for key, _ in selector.select(min(left, 1.0)):
                data = os.read(key.fd, READ_SIZE)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                buffer.add(data, stderr=key.data)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the script and everything it started (its process group, by its own id)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
