"""The run's event log: one line per event, to stderr and to the day's ``run.log``.

A line reads ``2025-12-20T03:00:04+09:00 WARNING n4 backup folder is empty``: time in the
report's time zone, level, the server the event concerns (``-`` for the run as a whole),
then the message. Newlines and every other control character inside a message or a server
name are escaped (``codeb_report.controls``), so ``grep`` and log shippers see one event
per line and no server can forge a line or send its terminal an escape sequence.

Every secret codeb-report reads (SMTP and database passwords) is registered here with
``register_secret`` the moment it is read; a filter on every handler replaces it, and
every base64 form in which SMTP AUTH sends it (a server may echo the AUTH line in its
error reply), with ``***`` before anything is written.
"""

from __future__ import annotations

import base64
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

from codeb_report.controls import escape_controls
from codeb_report.errors import OutputError

LOGGER = "codeb_report"
NO_SERVER = "-"
REDACTED = "***"

_secrets: set[str] = set()


def get_logger(name: str | None = None) -> logging.Logger:
    """The package's logger (or a child of it): every handler set up here receives it."""
    return logging.getLogger(f"{LOGGER}.{name}" if name else LOGGER)


class ServerLog(logging.LoggerAdapter):
    """A logger whose lines name one server: ``ServerLog(log, "n1").warning("...")``."""

    def __init__(self, logger: logging.Logger, server: str) -> None:
        super().__init__(logger, {"server": server})

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**kwargs.get("extra", {}), "server": self.extra["server"]}  # type: ignore[index]
        return msg, kwargs


# A base64 run this long (six bytes of the secret) is not found by chance in a log line.
MIN_ENCODED = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def secret_forms(value: str, login: str | None = None) -> set[str]:
    """``value`` and the forms in which it travels: base64 of it alone (SMTP AUTH LOGIN),
    of ``\0login\0value`` (AUTH PLAIN), and, wherever else it sits inside base64 text, the
    characters that encode only its bytes, for each of the three alignments."""
    data = value.encode()
    forms = {value, _b64(data)}
    if login is not None:
        forms.add(_b64(b"\0" + login.encode() + b"\0" + data))
    for offset, mixed in ((0, 0), (1, 2), (2, 3)):
        # After `offset` bytes of something else, the first `mixed` characters also
        # carry those bytes, and a last partial character carries what follows.
        encoded = _b64(b"\0" * offset + data).rstrip("=")
        core = encoded[mixed : (offset + len(data)) * 8 // 6]
        if len(core) >= MIN_ENCODED:
            forms.add(core)
    return forms


def register_secret(value: str | None, login: str | None = None) -> None:
    """Never let ``value`` reach a log line, in any of its ``secret_forms``. Call it
    wherever a secret is read; ``login``: the user name it is sent with (SMTP AUTH)."""
    if not value:
        return
    _secrets.update(secret_forms(value, login))


def forget_secrets() -> None:
    _secrets.clear()


def redact(text: str) -> str:
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Renders the message, replaces known secrets and stores the result as the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message = f"{message}: {type(exc).__name__}: {exc}"
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        if not hasattr(record, "server"):
            record.server = NO_SERVER
        return True


class LineFormatter(logging.Formatter):
    """``TIME LEVEL SERVER MESSAGE`` on a single line."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, self.zone).astimezone(self.zone)
        message = escape_controls(record.getMessage())
        server = escape_controls(str(getattr(record, "server", NO_SERVER)))
        return f"{when.isoformat(timespec='seconds')} {record.levelname} {server} {message}"


class OnlyEchoed(logging.Filter):
    """Keeps records logged with ``extra={"echo": False}`` off stderr (they went there already,
    e.g. as the fleet's progress lines) while the run's log still gets them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "echo", True)


def _handler(handler: logging.Handler, level: int, zone: tzinfo | None) -> logging.Handler:
    handler.setLevel(level)
    handler.setFormatter(LineFormatter(zone))
    handler.addFilter(RedactSecrets())
    return handler


def default_stderr_level(stream: TextIO | None = None) -> int:
    """Everything on a terminal; under cron or systemd only warnings and errors.

    The day's run.log always gets everything, so a quiet night mails nothing from cron.
    """
    stream = stream or sys.stderr
    return logging.INFO if stream.isatty() else logging.WARNING


def stderr_level(verbosity: int = 0, stream: TextIO | None = None) -> int:
    """``-v``: every event; ``-q``: errors only; neither: as ``default_stderr_level``."""
    if verbosity > 0:
        return logging.INFO
    if verbosity < 0:
        return logging.ERROR
    return default_stderr_level(stream)


def setup_stderr(level: int | None = None, zone: tzinfo | None = None) -> logging.Handler:
    """Send the package's events to stderr; call once per process (the CLI does)."""
    logger = get_logger()
    logger.setLevel(logging.DEBUG)
    for old in [h for h in logger.handlers if getattr(h, "_codeb_stderr", False)]:
        logger.removeHandler(old)
    level = default_stderr_level() if level is None else level
    handler = _handler(logging.StreamHandler(sys.stderr), level, zone)
    handler.addFilter(OnlyEchoed())
    handler._codeb_stderr = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    return handler


class LogFile(logging.FileHandler):
    """The run's log file. A write that fails (a full disk) is remembered in ``failure``
    for the run to report in one line, instead of logging's traceback on stderr for every
    event; stderr still gets each event."""

    failure: OSError | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
        elif self.failure is None:
            self.failure = exc

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:
            self.failure = self.failure or exc


@contextmanager
def run_log(path: Path, zone: tzinfo | None = None) -> Iterator[LogFile]:
    """Append the package's events at INFO and above to ``path`` (created 0600, as every
    file of the run) while the block runs; ``path``'s folder must exist."""
    from codeb_report.atomic import create_private

    logger = get_logger()
    logger.setLevel(logging.DEBUG)
    try:
        create_private(path)
        file_handler = LogFile(path, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the log: {exc.strerror or exc}") from None
    _handler(file_handler, logging.INFO, zone)
    logger.addHandler(file_handler)
    try:
        yield file_handler
    finally:
        logger.removeHandler(file_handler)
        file_handler.close()
