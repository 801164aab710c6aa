"""The output folder: whole-day swaps, ``latest``, retention and leftovers of killed runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from codeb_report.outputdir import OutputRoot, today

DAY = date(2025, 12, 20)


def _stage(root: OutputRoot, day: date, token: str, size: int = 1000) -> Path:
    staging = root.stage(day)
    for name in ("snapshot.json", "report.md", "report.pdf"):
        (staging / name).write_text(token * size)
    return staging


def _publish(root: OutputRoot, staging: Path, day: date) -> Path:
    """As a run does: the day's folder in place, then ``latest`` pointed at it."""
    folder = root.publish(staging, day)
    root.point_latest(folder)
    return folder


def _tokens(folder: Path) -> set[str]:
    return {p.read_text()[:1] for p in folder.iterdir()}


def test_the_day_follows_the_configured_zone() -> None:
    evening_utc = datetime(2025, 12, 19, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert today("Asia/Seoul", evening_utc) == date(2025, 12, 20)
    assert today("Europe/Berlin", evening_utc) == date(2025, 12, 19)


def test_first_publish_creates_the_day_and_latest(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path / "output")
    folder = _publish(root, _stage(root, DAY, "a"), DAY)
    assert folder == tmp_path / "output" / "2025-12-20"
    assert _tokens(folder) == {"a"}
    assert os.readlink(root.latest) == "2025-12-20"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"  # staged 0700, kept 0700
    assert sorted(p.name for p in root.root.iterdir()) == ["2025-12-20", "latest"]


def test_a_second_publish_replaces_the_whole_set(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path)
    first = _publish(root, _stage(root, DAY, "a"), DAY)
    (first / "report.eml").write_text("only in the first set")
    second = root.stage(DAY)
    (second / "snapshot.json").write_text("b")
    inode_before = first.stat().st_ino
    _publish(root, second, DAY)
    assert sorted(p.name for p in first.iterdir()) == ["snapshot.json"]
    assert (first / "snapshot.json").read_text() == "b"
    assert first.stat().st_ino != inode_before
    assert not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-12-20", "latest"]


def test_latest_points_at_the_run_just_published_not_the_newest_name(tmp_path: Path) -> None:
    """A stray future-dated folder (a clock set wrong once) is not what ``send`` mails."""
    root = OutputRoot(tmp_path)
    _publish(root, _stage(root, date(2026, 3, 1), "f"), date(2026, 3, 1))
    _publish(root, _stage(root, DAY, "a"), DAY)
    assert os.readlink(root.latest) == "2025-12-20"
    assert _tokens(root.latest) == {"a"}


def test_prune_removes_old_days_and_never_the_newest(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path)
    for day in (date(2025, 11, 1), date(2025, 12, 1), date(2025, 12, 10)):
        _publish(root, _stage(root, day, "x"), day)
    (tmp_path / "notes").mkdir()  # not a dated folder: not ours to remove
    (tmp_path / ".2025-11-01.failed").mkdir()
    removed = root.prune(20, DAY)  # older than 2025-11-30
    assert [p.name for p in removed] == ["2025-11-01"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2025-12-01",
        "2025-12-10",
        "latest",
        "notes",
    ]
    # Far beyond every folder's age, the newest still stays and latest still resolves.
    root.prune(1, date(2026, 6, 1))
    assert [d.isoformat() for d, _ in root.days()] == ["2025-12-10"]
    assert (root.latest / "report.md").is_file()


def test_clean_stale_removes_only_staging_leftovers(tmp_path: Path) -> None:
    root = OutputRoot(tmp_path)
    _publish(root, _stage(root, DAY, "a"), DAY)
    leftover = _stage(root, DAY, "z")
    failed = root.keep_failed(_stage(root, DAY, "f"), DAY)
    assert leftover.name.startswith(".2025-12-20.new-")
    assert root.clean_stale() == [leftover]
    assert not leftover.exists() and failed.is_dir()
    assert _tokens(root.day_dir(DAY)) == {"a"}


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    from codeb_report.outputdir import OutputRoot

    root = OutputRoot(Path(sys.argv[1]))
    day = date(2025, 12, 20)
    for generation in range(int(sys.argv[2])):
        token = "abcdefghij"[generation % 10]
        staging = root.stage(day)
        for name in ("snapshot.json", "report.md", "report.html", "report.pdf"):
            with open(staging / name, "w") as handle:
                for _ in range(32):  # written in pieces: a torn file would show
                    handle.write(token * 4096)
        root.publish(staging, day)
    """
)


def _read_pinned(day_dir: Path) -> list[str] | None:
    """All files of the folder the day's name points at, through one directory descriptor.

    None when the set was replaced while being read (the reader would simply read again):
    a replaced set is deleted, so it shrinks under a reader that still holds it.
    """
    fd = os.open(day_dir, os.O_RDONLY | os.O_DIRECTORY)  # the day's name always exists
    try:
        contents = []
        for name in sorted(os.listdir(fd)):
            with open(name, opener=lambda n, f: os.open(n, f, dir_fd=fd)) as handle:
                contents.append(handle.read())
        still_live = os.stat(day_dir).st_ino == os.fstat(fd).st_ino
        return contents if still_live else None
    except FileNotFoundError:
        return None
    finally:
        os.close(fd)


def test_readers_never_see_a_mixed_or_partial_set(tmp_path: Path) -> None:
    """While another process keeps replacing the day, a reader finds the folder and its
    PDF by name every time, and every set it reads is complete and of one generation."""
    size = 32 * 4096
    root = OutputRoot(tmp_path)
    _publish(root, _stage(root, DAY, "z", size), DAY)  # three files of "z"
    day_dir = root.day_dir(DAY)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "15"])
    seen: set[str] = set()
    reads = 0
    try:
        while writer.poll() is None or reads == 0:
            pdf = (day_dir / "report.pdf").read_text()  # by path: never missing
            assert len(pdf) == size and pdf == pdf[0] * size
            contents = _read_pinned(day_dir)
            if contents is None:
                continue
            tokens = {c[:1] for c in contents}
            assert len(tokens) == 1, f"mixed set {tokens}"
            assert all(len(c) == size and c == c[0] * size for c in contents)
            assert len(contents) == 4 or (tokens == {"z"} and len(contents) == 3)
            seen |= tokens | {pdf[0]}
            reads += 1
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0
    assert len(seen) >= 3 and reads > 10  # the reader really raced the writer


def test_publish_without_rename_exchange_still_never_shows_a_partial_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filesystems without RENAME_EXCHANGE: the old set is moved aside, then the new in."""
    import codeb_report.outputdir as outputdir

    monkeypatch.setattr(outputdir, "_exchange", lambda a, b: False)
    root = OutputRoot(tmp_path)
    _publish(root, _stage(root, DAY, "a"), DAY)
    _publish(root, _stage(root, DAY, "b"), DAY)
    assert _tokens(root.day_dir(DAY)) == {"b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-12-20", "latest"]


def test_exchange_is_used_where_the_kernel_has_it(tmp_path: Path) -> None:
    import codeb_report.outputdir as outputdir

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").touch()
    (b / "y").touch()
    assert outputdir._exchange(a, b) is True
    assert sorted(a.iterdir()) == [a / "y"] and sorted(b.iterdir()) == [b / "x"]  # swapped
