"""The event log: one line per event with time, level and server; secrets never written."""

from __future__ import annotations

import base64
import io
import logging
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from codeb_report.logs import (
    ServerLog,
    forget_secrets,
    get_logger,
    register_secret,
    run_log,
    setup_stderr,
    stderr_level,
)

SECRET = "pg-Pa55-" + "x7Q"
LINE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00) (INFO|WARNING|ERROR) (\S+) (\S.*)$"
)


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    handler = setup_stderr(logging.WARNING, ZoneInfo("Asia/Seoul"))
    path = tmp_path / "run.log"
    with run_log(path, ZoneInfo("Asia/Seoul")):
        yield path, stream
    get_logger().removeHandler(handler)
    forget_secrets()


def _emit() -> None:
    log = get_logger("collect")
    register_secret(SECRET)
    ServerLog(log, "n3").info("redis: AUTH with %s accepted", SECRET)
    ServerLog(log, "n3").warning("psql said:\nFATAL: password %s\nrejected", SECRET)
    encoded = base64.b64encode(SECRET.encode()).decode()
    log.warning("smtp debug: AUTH LOGIN %s", encoded)
    try:
        raise ConnectionError(f"postgresql://codeb:{SECRET}@127.0.0.1/app refused")
    except ConnectionError:
        ServerLog(log, "n3").error("probe postgresql failed", exc_info=True)


def test_every_event_is_one_line_with_time_level_and_server(
    log_file: tuple[Path, io.StringIO],
) -> None:
    path, stderr = log_file
    _emit()
    lines = path.read_text().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m[2], m[3]) for m in parsed] == [
        ("INFO", "n3"), ("WARNING", "n3"), ("WARNING", "-"), ("ERROR", "n3"),
    ]  # fmt: skip
    assert parsed[1][4] == "psql said:\\nFATAL: password ***\\nrejected"
    assert parsed[3][4].endswith("probe postgresql failed: ConnectionError: "
                                 "postgresql://codeb:***@127.0.0.1/app refused")  # fmt: skip
    # stderr got the same lines from WARNING up (the level chosen for cron).
    assert stderr.getvalue().splitlines() == lines[1:]


def test_no_secret_in_any_form_reaches_stderr_or_the_file(
    log_file: tuple[Path, io.StringIO],
) -> None:
    path, stderr = log_file
    _emit()
    written = path.read_text() + stderr.getvalue()
    assert SECRET not in written
    assert base64.b64encode(SECRET.encode()).decode() not in written
    assert written.count("***") == 4 + 3  # four lines in the file, three on stderr


def test_stderr_level_follows_the_terminal_and_the_flags() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert stderr_level(0, Tty()) == logging.INFO
    assert stderr_level(0, io.StringIO()) == logging.WARNING  # cron, systemd
    assert stderr_level(1, io.StringIO()) == logging.INFO
    assert stderr_level(-1, Tty()) == logging.ERROR


def test_lines_marked_not_to_echo_reach_only_the_file(
    log_file: tuple[Path, io.StringIO],
) -> None:
    path, stderr = log_file
    ServerLog(get_logger("run"), "n2").error("unreachable: timed out", extra={"echo": False})
    assert "unreachable: timed out" in path.read_text()
    assert stderr.getvalue() == ""


def test_database_passwords_are_redacted_once_read(
    log_file: tuple[Path, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    from codeb_report.probes.stack.settings import Secret

    path, stderr = log_file
    monkeypatch.setenv("CODEB_TEST_REDIS_PASSWORD", "redis-Pw-31337")
    assert Secret(password_env="CODEB_TEST_REDIS_PASSWORD").resolve() == ("redis-Pw-31337", None)
    ServerLog(get_logger("collect"), "n3").warning("redis: AUTH redis-Pw-31337 refused")
    assert "redis-Pw-31337" not in path.read_text() + stderr.getvalue()
    assert "n3 redis: AUTH *** refused" in path.read_text()
