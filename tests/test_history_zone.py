"""Every time the reader sees is in the report's time zone, whatever zone the snapshots
were stored in (the collector stores the machine's, UTC on most servers): sections 5 and
6, the charts' axis, the mail's changes, the run lock's message."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import history_gen as gen
import pytest
from test_history_gaps import lay_out, utc

from codeb_report.config import Config, parse_config
from codeb_report.history.section import mail_changes
from codeb_report.lock import LOCK_FILE
from codeb_report.nightly.run import NightlyOptions, run_nightly
from codeb_report.nightly.stages import night_of
from codeb_report.snapshot import Snapshot

TONIGHT = 15  # n1's container codeb-cms restarts on day 15


def config_in(zone: str) -> Config:
    text = f'[report]\ntimezone = "{zone}"\n[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n'
    return parse_config(text, "fleet.toml")


def minute(snapshot: Snapshot, zone: str) -> str:
    return snapshot.collected_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("output")
    lay_out(root, TONIGHT)  # stored in UTC: 03:00 KST is 18:00 the day before
    return root


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York"])
def test_sections_5_and_6_are_in_the_reports_time_zone(
    root: Path, tmp_path: Path, zone: str
) -> None:
    tonight = utc(gen.snapshot_for(TONIGHT))
    last_night = utc(gen.snapshot_for(TONIGHT - 1))
    stages = night_of(config_in(zone), root, gen.day_of(TONIGHT))
    analysis = stages.analyse(tonight)
    [md] = stages.render(tonight, analysis, ["md"], tmp_path)
    text = md.read_text()
    assert f"**비교 기준**: {minute(last_night, zone)} → {minute(tonight, zone)}" in text
    assert minute(tonight, "UTC") not in text  # as stored
    # The container's restart times too, in the table and in the mail's lines.
    [cms] = [c for c in tonight.server("n1").containers if c.name == "codeb-cms"]
    restarted = cms.started_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    assert f"→ {restarted} |" in text
    assert any(line.endswith(f"→ {restarted}") for line in stages.history.summary)
    # Section 6's period: the first and the last snapshot's dates in that zone.
    first = utc(gen.snapshot_for(0)).collected_at.astimezone(ZoneInfo(zone)).date()
    last = tonight.collected_at.astimezone(ZoneInfo(zone)).date()
    assert f"**기간**: {first} → {last} (스냅샷 {TONIGHT + 1}회)" in text


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York"])
def test_the_charts_axis_shows_the_reports_dates(root: Path, zone: str) -> None:
    tonight = utc(gen.snapshot_for(TONIGHT))
    stages = night_of(config_in(zone), root, gen.day_of(TONIGHT))
    stages.analyse(tonight)
    assert stages.history is not None
    labels = re.findall(r">(\d\d-\d\d)<", stages.history.charts_html)
    assert labels[-1] == tonight.collected_at.astimezone(ZoneInfo(zone)).strftime("%m-%d")


def test_the_mails_changes_are_in_the_reports_time_zone(root: Path, tmp_path: Path) -> None:
    tonight = utc(gen.snapshot_for(TONIGHT))
    folder = root / gen.day_of(TONIGHT).isoformat()  # the folder the run publishes
    [cms] = [c for c in tonight.server("n1").containers if c.name == "codeb-cms"]
    for zone in ("Asia/Seoul", "America/New_York"):
        restarted = cms.started_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        lines = mail_changes(folder, tonight, ZoneInfo(zone))
        assert any(line.endswith(f"→ {restarted}") for line in lines), lines


@pytest.mark.parametrize(("zone", "offset"), [("Asia/Seoul", "+09:00"), ("UTC", "+00:00")])
def test_the_run_lock_names_its_start_in_the_reports_time_zone(
    tmp_path: Path, zone: str, offset: str
) -> None:
    """What ``another run holds OUTPUT/.lock (pid N since ...)`` will quote."""
    root = tmp_path / "output"
    held: list[str] = []

    def collect() -> Snapshot:
        held.append((root / LOCK_FILE).read_text())
        return utc(gen.snapshot_for(0))

    def render(snapshot, analysis, formats, out: Path) -> list[Path]:
        (out / "report.md").write_text("stand-in\n")
        return [out / "report.md"]

    stages = night_of(config_in(zone), root, gen.day_of(0))
    run_nightly(NightlyOptions(root, timezone=zone), collect, stages.analyse, render)
    [text] = held
    assert re.fullmatch(
        # Padded with spaces to a fixed width: the lock file is never truncated.
        rf"pid \d+ since \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d{re.escape(offset)} *\n",
        text,
    )
