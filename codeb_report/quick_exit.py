"""Leaving the process without Python's teardown of every module and object.

At exit the interpreter frees what the command built, object by object: the snapshot and
report models, Jinja's templates, WeasyPrint's boxes when the PDF was printed in this
process. That took 60-70 ms of a 0.35 s ``render --format md`` and is of no use to
anyone once the files are written. What exit must still do is done first: the threads
the command started are waited for as at a normal exit, atexit handlers run (logging
flushes and closes its files, temporary folders are removed), and the standard streams
are flushed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_code(code: object) -> int:
    """``sys.exit``'s argument as the process' exit status (a text is printed, then 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def leave(code: int) -> NoReturn:
    """Exit with ``code`` now: what a normal exit does that matters, then ``os._exit``."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # the handlers a normal exit would run
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed
            continue
        # a reader gone (| head), or a stream closed
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
