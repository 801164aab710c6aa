"""Leaving without Python's teardown keeps what a normal exit does (quick_exit.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codeb_report.quick_exit import exit_code


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_threads_atexit_handlers_and_streams_are_done_before_leaving(tmp_path: Path) -> None:
    done = run(
        """
        import atexit, sys, threading, time
        from pathlib import Path
        from codeb_report.quick_exit import leave
        folder = Path(sys.argv[1])
        def late():
            time.sleep(0.3)
            (folder / "thread").write_text("done")
        threading.Thread(target=late).start()
        atexit.register(lambda: (folder / "atexit").write_text("ran"))
        sys.stdout.write("buffered, not yet flushed")
        leave(5)
        """,
        str(tmp_path),
    )
    assert done.returncode == 5
    assert done.stdout == "buffered, not yet flushed"
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_reader_gone_is_no_traceback() -> None:
    # `codeb-report --help | true`: the reader is gone before the help is flushed
    process = subprocess.Popen(
        [sys.executable, "-c", "from codeb_report.cli import main; main()", "--help"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    said = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1  # click's status for a broken pipe
    assert said == ""


@pytest.mark.parametrize(
    ("code", "status", "said"),
    [(None, 0, ""), (0, 0, ""), (4, 4, ""), (256, 0, ""), ("Error: boom", 1, "Error: boom\n")],
)
def test_exit_codes_are_those_of_sys_exit(
    code: object, status: int, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(code) == status
    assert capsys.readouterr().err == said


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"


def render_with_closed(streams: str, fmt: str, out: Path) -> subprocess.CompletedProcess[str]:
    """``codeb-report render`` of the example as a shell starts it with ``streams``
    closed (``>&-``, ``2>&-``, ``<&- >&-``)."""
    command = ["-c", "from codeb_report.entry import main; main()"]
    render = ["render", str(EXAMPLE), "--format", fmt, "--out", str(out)]
    return subprocess.run(
        ["sh", "-c", f'exec "$@" {streams}', "sh", sys.executable, *command, *render],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_command_started_with_its_output_or_error_closed_succeeds(tmp_path: Path) -> None:
    for closed in (">&-", "2>&-"):
        out = tmp_path / closed.strip(">&-")
        done = render_with_closed(closed, "md", out)
        assert done.returncode == 0, (closed, done.stderr)
        assert (out / "report.md").is_file()
