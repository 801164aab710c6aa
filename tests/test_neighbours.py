"""A shared machine: under a careless umask every folder codeb-report creates on the way
to its output, lock or known_hosts is 0700, as the README promises, not the umask's 0777;
and nothing a neighbour plants in a shared output folder is followed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from codeb_report.history.store import stored_snapshots
from codeb_report.lock import run_lock
from codeb_report.outputdir import OutputRoot


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_output_root_and_its_missing_parents_are_private(tmp_path: Path, umask_000: None) -> None:
    root = tmp_path / "var" / "lib" / "output"
    staging = OutputRoot(root).stage(date(2026, 11, 30))
    for folder in (tmp_path / "var", root.parent, root, staging):
        assert oct(mode(folder)) == "0o700", folder


def test_the_lock_folder_made_on_the_way_is_private(tmp_path: Path, umask_000: None) -> None:
    with run_lock(tmp_path / "shared" / "out" / ".lock"):
        pass
    assert oct(mode(tmp_path / "shared")) == oct(mode(tmp_path / "shared" / "out")) == "0o700"
    assert oct(mode(tmp_path / "shared" / "out" / ".lock")) == "0o600"


def test_an_existing_folder_keeps_its_mode(tmp_path: Path, umask_000: None) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o775)
    OutputRoot(shared / "out").stage(date(2026, 11, 30))
    assert oct(mode(shared)) == "0o775"
    assert oct(mode(shared / "out")) == "0o700"


def test_a_planted_snapshot_link_is_not_read_as_history(tmp_path: Path) -> None:
    root = tmp_path / "out"
    victim = tmp_path / "victim.json"
    victim.write_text('{"schema_version": 2}')
    planted = root / "2020-01-02"
    planted.mkdir(parents=True)
    (planted / "snapshot.json").symlink_to(victim)
    ours = root / "2020-01-03"
    ours.mkdir()
    (ours / "snapshot.json").write_text("{}")
    assert [s.day.isoformat() for s in stored_snapshots(root)] == ["2020-01-03"]
