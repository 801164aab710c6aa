"""Progress on stderr: live lines on a terminal, failures only under cron, -q and -v."""

from __future__ import annotations

import io
import re

import pytest

from codeb_report.progress import Mode, Progress, choose_mode, fit


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def play(progress: Progress) -> None:
    """Two servers: n1 collected, n2 refused."""
    progress.update("n1", "connecting")
    progress.update("n2", "connecting")
    progress.update("n1", "collecting", "7 probes")
    progress.update("n2", "failed", "root@10.0.0.2:22: connection refused")
    progress.update("n1", "done")
    progress.close()


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.mark.parametrize(
    ("verbosity", "terminal", "mode"),
    [
        (0, True, Mode.LIVE),
        (0, False, Mode.ERRORS),
        (-1, True, Mode.ERRORS),
        (-1, False, Mode.SILENT),
        (1, True, Mode.LOG),
        (1, False, Mode.LOG),
    ],
)
def test_mode_by_terminal_and_verbosity(verbosity: int, terminal: bool, mode: Mode) -> None:
    assert choose_mode(verbosity, terminal) is mode


def test_cron_sees_only_the_failure() -> None:
    stream = io.StringIO()
    play(Progress(["n1", "n2"], stream=stream))
    assert stream.getvalue() == "codeb-report: n2: root@10.0.0.2:22: connection refused\n"


def test_quiet_cron_sees_nothing() -> None:
    stream = io.StringIO()
    play(Progress(["n1", "n2"], verbosity=-1, stream=stream))
    assert stream.getvalue() == ""


def test_terminal_redraws_one_line_per_server() -> None:
    stream = Terminal()
    play(Progress(["n1", "n2"], stream=stream))
    text = stream.getvalue()
    assert text.count("\x1b[2F") == 5  # every redraw after the first moves up two lines
    last_frame = ANSI.sub("", text.split("\x1b[2F")[-1]).splitlines()
    assert len(last_frame) == 3
    assert re.fullmatch(r"✔ n1 done \d+\.\ds", last_frame[0])
    assert re.fullmatch(
        r"✘ n2 failed \d+\.\ds  root@10\.0\.0\.2:22: connection refused", last_frame[1]
    )
    # Live lines are cut to the terminal's width: each failure follows whole.
    assert last_frame[2] == "codeb-report: n2: root@10.0.0.2:22: connection refused"


def test_a_finished_servers_time_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("codeb_report.progress.time.monotonic", lambda: now[0])
    progress = Progress(["n1"], verbosity=1, stream=io.StringIO())
    now[0] = 101.0
    progress.update("n1", "connecting")
    now[0] = 102.5
    progress.update("n1", "done")
    now[0] = 109.0
    assert progress._line("n1") == "✔ n1 done 1.5s"


@pytest.mark.parametrize(
    ("text", "columns", "cut"),
    [
        ("abcdef", 4, "abcd"),
        ("연결 실패: x", 6, "연결 "),  # Hangul takes two cells
        ("연결 실패: x", 7, "연결 실"),
        ("short", 80, "short"),
    ],
)
def test_lines_fit_the_terminal(text: str, columns: int, cut: str) -> None:
    assert fit(text, columns) == cut


def test_verbose_logs_every_step() -> None:
    stream = io.StringIO()
    play(Progress(["n1", "n2"], verbosity=1, stream=stream))
    states = [line.split()[2] for line in stream.getvalue().splitlines()]
    assert states == ["connecting", "connecting", "collecting", "failed", "done"]
