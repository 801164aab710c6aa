"""Control characters and bidi overrides in collected text: escaped by one function
wherever text leaves codeb-report (log lines, terminal, mail, report, JSON)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_render_md import shown

from codeb_report.analysis import analyse
from codeb_report.controls import escape_controls, one_line
from codeb_report.logs import LineFormatter, RedactSecrets, ServerLog
from codeb_report.mail.message import html_body, plain_body
from codeb_report.progress import Progress
from codeb_report.render.escape import md
from codeb_report.snapshot import Server, Snapshot, dumps, parse

# ESC (terminal sequences), BEL, NUL, DEL, CSI as a C1 control, RIGHT-TO-LEFT OVERRIDE,
# RIGHT-TO-LEFT ISOLATE, LINE SEPARATOR, ARABIC LETTER MARK, RIGHT-TO-LEFT MARK.
HOSTILE = "a\x1b[2J\x07\x00\x7f\x9b\u202e\u2067\u2028\u061c\u200fz"
ESCAPED = "a\\x1b[2J\\x07\\x00\\x7f\\x9b\\u202e\\u2067\\u2028\\u061c\\u200fz"
RAW = set("\x1b\x07\x00\x7f\x9b\u202e\u2067\u2028\u061c\u200f")


def test_every_control_and_bidi_override_is_written_as_an_escape() -> None:
    assert escape_controls(HOSTILE) == ESCAPED
    assert escape_controls("x\ny\r\tz") == "x\\ny\\r\\tz"


def test_korean_emoji_and_their_joiners_are_left_alone() -> None:
    text = "✅ 여유 ⚠️ 주의 👩\u200d💻 \u2060"
    assert escape_controls(text) == text


def test_one_line_keeps_words_apart_and_escapes_the_rest() -> None:
    assert one_line("line1\nline2\ttab\x1b") == "line1 line2 tab\\x1b"


def test_a_log_line_is_one_line_without_raw_controls() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LineFormatter(UTC))
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("codeb_report.test_controls")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        ServerLog(logger, "n\x1b1").error("failed: %s", f"x\n{HOSTILE}")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert line.count("\n") == 1 and not RAW & set(line)
    assert line.endswith(f" ERROR n\\x1b1 failed: x\\n{ESCAPED}\n")


@pytest.mark.parametrize("verbosity", [0, 1])
def test_progress_never_sends_a_servers_text_raw(verbosity: int) -> None:
    stream = io.StringIO()  # not a terminal: failures only (0) or every step as a line (1)
    progress = Progress(["n1"], verbosity=verbosity, stream=stream)
    progress.update("n1", "failed", f"수집 실패: {HOSTILE}\nforged line")
    progress.close()
    out = stream.getvalue()
    assert not RAW & set(out) and out.count("\n") == 1
    assert f"{ESCAPED}\\nforged line" in out


def test_cli_error_lines_escape_what_the_user_gave() -> None:
    name = "snap\x1b]0;owned\x07.json"
    done = subprocess.run(
        [sys.executable, "-c", "from codeb_report.cli import main; main()", "render", name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3
    assert done.stderr == "Error: snap\\x1b]0;owned\\x07.json: no such file\n"


def test_clicks_own_errors_escape_what_was_typed(tmp_path: Path) -> None:
    folder = tmp_path / "dir\x1b[2J"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", "from codeb_report.cli import main; main()", "render", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "dir\\x1b[2J" in done.stderr


def _hostile_snapshot() -> Snapshot:
    server = Server(name="n1", host="h", role=f"Role {HOSTILE}", reachable=False, error=HOSTILE)
    return Snapshot(
        collected_at=datetime(2025, 12, 20, tzinfo=UTC), collector_version="0", servers=[server]
    )


def test_the_mail_parts_escape_collected_text() -> None:
    snapshot = _hostile_snapshot()
    analysis = analyse(snapshot)
    day = date(2025, 12, 20)
    for body in (plain_body(snapshot, analysis, day), html_body(snapshot, analysis, day)):
        assert not RAW & set(body)
        # The role, on one line: the line separator is a space, the rest escapes.
        assert "Role " + ESCAPED.replace("\\u2028", " ") in body


def test_markdown_cells_show_controls_as_escapes() -> None:
    # What a reader sees in the cell; a line separator would end the row: a space.
    table = f"| a |\n|---|\n| {md(HOSTILE)} |\n"
    assert shown(table) == [ESCAPED.replace("\\u2028", " ")]


def test_snapshot_json_escapes_what_json_leaves_raw_and_reads_back_the_same() -> None:
    snapshot = _hostile_snapshot()
    text = dumps(snapshot)
    assert not RAW & set(text)
    assert "\\u009b\\u202e\\u2067\\u2028\\u061c\\u200f" in text
    assert parse(text, "s.json").servers[0].error == HOSTILE
    assert json.loads(text)["servers"][0]["error"] == HOSTILE


def test_the_report_never_holds_raw_controls(tmp_path: Path) -> None:
    from codeb_report.render import render_report

    snapshot = _hostile_snapshot()
    written = render_report(snapshot, analyse(snapshot), ["md", "html"], tmp_path)
    for path in written:
        content = path.read_text()
        assert not RAW & set(content), path.name
        assert "x1b[2J" in content


def test_the_help_for_no_command_keeps_its_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from codeb_report.cli import main; main()"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Usage: codeb-report [OPTIONS] COMMAND [ARGS]...\n\n")
    assert "\\n" not in done.stderr


def test_half_surrogate_pairs_in_parsed_json_become_replacement_characters() -> None:
    from codeb_report.controls import text_only

    raw = b'{"a": "x\\ud800y", "\\udc00k": [{"b": "\\ud83d\\ude80"}], "n": 1}'
    assert text_only(json.loads(raw), raw) == {
        "a": "x\ufffdy",
        "\ufffdk": [{"b": "\U0001f680"}],
        "n": 1,
    }
    whole = json.loads(b'{"a": "ok"}')
    assert text_only(whole, b'{"a": "ok"}') is whole  # no escape: not walked
