"""Progress on stderr: live lines on a terminal, failures only under cron, -q and -v."""

from __future__ import annotations

import io
import re

import pytest

from codeb_report.progress import Mode, Progress, choose_mode


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
    assert len(last_frame) == 2
    assert re.fullmatch(r"✔ n1 done \d+\.\ds", last_frame[0])
    assert re.fullmatch(
        r"✘ n2 failed \d+\.\ds  root@10\.0\.0\.2:22: connection refused", last_frame[1]
    )


def test_verbose_logs_every_step() -> None:
    stream = io.StringIO()
    play(Progress(["n1", "n2"], verbosity=1, stream=stream))
    states = [line.split()[2] for line in stream.getvalue().splitlines()]
    assert states == ["connecting", "connecting", "collecting", "failed", "done"]
