"""The CI-runner lookup's shell, run here: unit files globbed, the unit listing read.

systemd cannot run here, so ``systemctl`` is a script on PATH: ``list-units`` prints
lines in the format of the recorded listings (tests/fixtures/probes/services: plain
rows, a ``●`` not-found row), ``show`` one record per unit it is asked for, and every
call is logged. The unit directories are folders of this test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeb_report.collect.batch import run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.probes.services import LIST_UNITS, ServicesProbe
from codeb_report.probes.stack.watched import WatchedUnits
from codeb_report.snapshot import ProbeStatus, Server

LISTING = (
    "cron.service loaded active running Regular background program processing daemon\n"
    "actions.runner.org.loaded.service loaded active running GitHub Actions Runner (org.loaded)\n"
    "● actions.runner.org.gone.service not-found inactive dead actions.runner.org.gone.service\n"
    "actions.runner.org.file.service loaded inactive dead GitHub Actions Runner (org.file)\n"
)

FAKE_SYSTEMCTL = """\
#!/bin/sh
echo "$*" >> {log}
case $1 in
list-units) printf '%s' '{listing}' ;;
show)
  shift 5  # --no-pager -p PROPERTIES --
  for u in "$@"; do
    case $u in *gone*) state=not-found ;; *) state=loaded ;; esac
    printf 'Id=%s\\nLoadState=%s\\nActiveState=active\\nSubState=running\\n' "$u" "$state"
    printf 'ActiveEnterTimestamp=Sat 2025-12-20 01:02:03 UTC\\n\\n'
  done ;;
esac
"""


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A systemctl on PATH and two unit folders; returns the folder holding both."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL.format(log=tmp_path / "calls", listing=LISTING))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    etc, lib = tmp_path / "etc", tmp_path / "lib"
    etc.mkdir()
    lib.mkdir()
    (etc / "actions.runner.org.file.service").write_text("[Service]\n")  # also loaded
    (etc / "actions.runner.org.idle.service").write_text("[Service]\n")  # installed only
    (etc / "actions.runner.org.idle.service.d").mkdir()  # a drop-in folder: no unit
    (etc / "actions.runner.org.idle.service~").write_text("")  # an editor's backup: no unit
    (lib / "actions.runner.org.masked.service").symlink_to("/dev/null")  # masked
    return tmp_path


def _collect(*probes: Probe) -> Server:
    server = Server(name="n2", host="localhost", role="app", reachable=True)
    run_probes(LocalRunner(), probes, server, timeout=30)
    for probe in probes:
        outcome = server.outcome(probe.name)
        assert outcome is not None and outcome.status == ProbeStatus.OK, outcome
    return server


def test_runners_from_unit_files_and_the_listing_each_once(systemd: Path) -> None:
    dirs = (str(systemd / "etc"), str(systemd / "lib"), str(systemd / "missing"))
    server = _collect(WatchedUnits(["codeb-watchdog"], ci_runner=True, unit_dirs=dirs))

    found = [(w.name, w.ci_runner, w.present) for w in server.watched]
    assert found == [
        ("codeb-watchdog", False, True),
        ("actions.runner.org.file.service", True, True),
        ("actions.runner.org.gone.service", True, False),
        ("actions.runner.org.idle.service", True, True),
        ("actions.runner.org.loaded.service", True, True),
        ("actions.runner.org.masked.service", True, True),
    ]
    calls = (systemd / "calls").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["list-units", "show"]
    asked = calls[1].split(" -- ", 1)[1].split()
    assert asked[0] == "codeb-watchdog" and len(asked) == len(set(asked)) == 6


def test_no_runner_anywhere_is_an_entry_when_one_is_expected(systemd: Path) -> None:
    (systemd / "bin" / "systemctl").write_text(
        FAKE_SYSTEMCTL.format(log=systemd / "calls", listing="")
    )
    server = _collect(WatchedUnits([], ci_runner=True, unit_dirs=(str(systemd / "missing"),)))

    assert [(w.name, w.present) for w in server.watched] == [("actions.runner.*", False)]
    # The listing, and no `show` of nothing.
    assert (systemd / "calls").read_text().splitlines() == [LIST_UNITS.removeprefix("systemctl ")]


def test_runners_not_looked_for_when_turned_off(systemd: Path) -> None:
    dirs = (str(systemd / "etc"),)
    server = _collect(WatchedUnits(["codeb-watchdog"], ci_runner=False, unit_dirs=dirs))

    assert [w.name for w in server.watched] == ["codeb-watchdog"]
    calls = (systemd / "calls").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["show"]


def test_the_services_listing_is_asked_for_once_and_read_by_both(systemd: Path) -> None:
    dirs = (str(systemd / "etc"),)
    server = _collect(ServicesProbe(), WatchedUnits([], ci_runner=None, unit_dirs=dirs))

    assert [s.unit for s in server.services] == [
        "cron.service",
        "actions.runner.org.loaded.service",
        "actions.runner.org.file.service",
    ]  # not-found units are not services the server has
    assert [w.name for w in server.watched] == [
        "actions.runner.org.file.service",
        "actions.runner.org.gone.service",
        "actions.runner.org.idle.service",
        "actions.runner.org.loaded.service",
    ]
    calls = (systemd / "calls").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["list-units", "show"]
