"""``codeb-report run`` as cron runs it: whole processes, locks, kills, the real pipeline."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codeb_report.errors import Exit
from codeb_report.nightly.run import outcome
from codeb_report.outputdir import today
from codeb_report.snapshot import load

CLI = str(Path(sys.executable).with_name("codeb-report"))
LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2} (INFO|WARNING|ERROR) \S+ \S.*$"
)

# A run whose stages are small and controllable: it writes GENERATION into every file and,
# with HANG set, stops in the middle of rendering until the file HANG exists.
STAGED_RUN = textwrap.dedent(
    """
    import os, sys, time
    from datetime import datetime, UTC
    from pathlib import Path
    from codeb_report.analysis.model import Analysis
    from codeb_report.logs import setup_stderr
    from codeb_report.nightly.run import NightlyOptions, run_nightly
    from codeb_report.snapshot import Server, Snapshot

    root, generation, hang = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    def collect():
        server = Server(name="n1", host="h", role="App", reachable=True)
        return Snapshot(collected_at=datetime.now(UTC), collector_version=generation,
                        servers=[server])

    def analyse(snapshot):
        return Analysis(servers=[], findings=[], assessment=[], next_steps=[])

    def render(snapshot, analysis, formats, out):
        written = []
        for fmt in formats:
            path = out / f"report.{fmt}"
            with open(path, "w") as handle:
                handle.write(generation * 50_000)
                if fmt == "html" and hang != "-":
                    handle.flush()
                    (root / "rendering").write_text(str(os.getpid()))
                    while not Path(hang).exists():
                        time.sleep(0.01)
            written.append(path)
        return written

    setup_stderr()
    sys.exit(int(run_nightly(NightlyOptions(root), collect, analyse, render)))
    """
)


def staged_run(root: Path, generation: str, hang: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", STAGED_RUN, str(root), generation, str(hang or "-")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.005)


def generation_of(folder: Path) -> set[str]:
    """Which run wrote each file of a folder written by STAGED_RUN."""
    found = {json.loads((folder / "snapshot.json").read_text())["collector_version"]}
    for name in ("report.md", "report.html", "report.pdf"):
        text = (folder / name).read_text()
        assert len(text) == 50_000 and len(set(text)) == 1, f"{name} is not whole"
        found.add(text[0])
    return found


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "output"


def test_a_staged_run_writes_the_day_and_its_log(root: Path) -> None:
    proc = staged_run(root, "a")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == Exit.OK, err
    day = root / today().isoformat()
    assert generation_of(day) == {"a"}
    assert os.readlink(root / "latest") == day.name
    log = (day / "run.log").read_text().splitlines()
    assert all(LINE.match(line) for line in log), log
    assert any(" INFO n1 collected: 0 probes ok" in line for line in log)
    assert log[-1].endswith("run finished, exit code 0")


def test_a_second_run_waits_for_nobody_it_exits_7(root: Path, tmp_path: Path) -> None:
    release = tmp_path / "release"
    first = staged_run(root, "a", hang=release)
    try:
        wait_for(lambda: (root / "rendering").exists(), what="the first run to render")
        second = subprocess.run(
            [CLI, "run", "--output-root", str(root)], capture_output=True, text=True, timeout=60
        )
        assert second.returncode == Exit.LOCKED == 7
        assert second.stdout == ""
        [line] = second.stderr.splitlines()
        assert "another run holds" in line and str(root / ".lock") in line
        assert f"pid {first.pid}" in line
        assert [p.name for p in root.iterdir() if p.name.startswith(".20")] != []
        assert not (root / today().isoformat()).exists()  # the second run wrote nothing
    finally:
        release.touch()
        first.communicate(timeout=60)
    assert first.returncode == Exit.OK
    assert generation_of(root / today().isoformat()) == {"a"}


def test_a_run_killed_mid_render_leaves_every_folder_consistent(root: Path, tmp_path: Path) -> None:
    earlier = root / "2025-12-19"
    earlier.mkdir(parents=True)
    (earlier / "report.pdf").write_bytes(b"%PDF earlier")
    first = staged_run(root, "a")
    first.communicate(timeout=60)
    day = root / today().isoformat()
    assert generation_of(day) == {"a"}

    victim = staged_run(root, "b", hang=tmp_path / "never")
    wait_for(lambda: (root / "rendering").exists(), what="the run to render")
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL

    assert generation_of(day) == {"a"}  # the day still holds the whole first set
    assert (earlier / "report.pdf").read_bytes() == b"%PDF earlier"
    assert os.readlink(root / "latest") == day.name
    [leftover] = [p for p in root.iterdir() if p.name.startswith(f".{day.name}.new-")]
    assert (leftover / "report.md").exists()  # what the killed run got to write

    # The kill released the lock; the next run clears the leftover and replaces the day.
    (root / "rendering").unlink()
    after = staged_run(root, "c")
    _, err = after.communicate(timeout=60)
    assert after.returncode == Exit.OK, err
    assert not leftover.exists()
    assert generation_of(day) == {"c"}
    assert f"removed {leftover.name}, left by an interrupted run" in (day / "run.log").read_text()


def test_a_failing_render_keeps_the_day_and_files_its_partial_output(root: Path) -> None:
    from codeb_report.errors import OutputError
    from codeb_report.nightly.run import NightlyOptions, run_nightly
    from codeb_report.snapshot import Server, Snapshot, now

    def collect() -> Snapshot:
        server = Server(name="n1", host="h", role="App", reachable=False, error="timed out")
        return Snapshot(collected_at=now(), collector_version="x", servers=[server])

    def render(*args: object) -> list[Path]:
        raise OutputError("report.pdf: cannot render pdf: no fonts")

    day = root / today().isoformat()
    day.mkdir(parents=True)
    (day / "report.pdf").write_bytes(b"%PDF yesterday's run")
    with pytest.raises(OutputError):
        run_nightly(NightlyOptions(root), collect, lambda s: None, render)  # type: ignore[arg-type]
    assert (day / "report.pdf").read_bytes() == b"%PDF yesterday's run"
    failed = root / f".{day.name}.failed"
    assert (failed / "snapshot.json").is_file()
    log = (failed / "run.log").read_text()
    assert "ERROR n1 unreachable: timed out" in log
    assert "run failed" in log and "no fonts" in log


def test_the_real_run_end_to_end(root: Path) -> None:
    """The whole pipeline as cron runs it, twice on one day, then with retention."""
    old = root / "2020-01-01"
    old.mkdir(parents=True)
    (old / "report.pdf").write_bytes(b"%PDF old")
    first = subprocess.run(
        [CLI, "run", "--output-root", str(root)], capture_output=True, text=True, timeout=120
    )
    day = root / today().isoformat()
    snapshot = load(day / "snapshot.json")
    assert first.returncode == outcome(snapshot), first.stderr
    assert first.stdout == ""  # cron mails whatever a job prints: nothing on success
    assert sorted(p.name for p in day.iterdir()) == [
        "report.html",
        "report.md",
        "report.pdf",
        "run.log",
        "snapshot.json",
    ]
    assert (day / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert "서버 현황 요약" in (day / "report.md").read_text()
    assert os.readlink(root / "latest") == day.name
    first_log = (day / "run.log").read_text()
    assert all(LINE.match(line) for line in first_log.splitlines())
    assert all(LINE.match(line) for line in first.stderr.splitlines())
    assert old.is_dir()

    second = subprocess.run(
        [CLI, "run", "--output-root", str(root), "--keep", "30"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == outcome(load(day / "snapshot.json")), second.stderr
    assert not old.exists()
    second_log = (day / "run.log").read_text()
    assert second_log != first_log and "removed 2020-01-01 (older than 30 days)" in second_log
    assert sorted(p.name for p in root.iterdir()) == [".lock", day.name, "latest"]


def test_the_real_run_killed_while_rendering_the_pdf(root: Path) -> None:
    first = subprocess.run(
        [CLI, "run", "--output-root", str(root)], capture_output=True, timeout=120
    )
    day = root / today().isoformat()
    before = {p.name: p.read_bytes() for p in day.iterdir()}
    assert first.returncode in (Exit.OK, Exit.PARTIAL)

    victim = subprocess.Popen(
        [CLI, "run", "--output-root", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def rendering_pdf() -> bool:
        staged = [p for p in root.iterdir() if p.name.startswith(f".{day.name}.new-")]
        return any((s / "report.html").exists() and not (s / "report.pdf").exists() for s in staged)

    wait_for(rendering_pdf, what="the PDF to be rendering")
    victim.kill()
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in day.iterdir()} == before
    assert os.readlink(root / "latest") == day.name


def test_an_output_root_that_cannot_be_written_is_one_line_exit_8(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = subprocess.run([CLI, "run", "--output-root", str(blocker / "output")],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == Exit.OUTPUT == 8
    [line] = result.stderr.splitlines()
    assert f"{blocker / 'output' / '.lock'}: cannot open the run lock: Not a directory" in line


def test_a_full_disk_while_writing_is_an_output_error(root: Path) -> None:
    import errno

    from codeb_report.errors import OutputError
    from codeb_report.nightly.run import NightlyOptions, run_nightly
    from codeb_report.snapshot import Snapshot, now

    def render(*args: object) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device")

    def collect() -> Snapshot:
        return Snapshot(collected_at=now(), collector_version="x", servers=[])

    with pytest.raises(OutputError, match="No space left on device"):
        run_nightly(NightlyOptions(root), collect, lambda s: None, render)  # type: ignore[arg-type]
    assert not (root / today().isoformat()).exists()
    assert (
        "No space left on device"
        in (root / f".{today().isoformat()}.failed" / "run.log").read_text()
    )
