"""The metrics text: names, escaping, left-out figures, the textfile and ``run``'s part."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from analysis_fleet import AT, GiB, fleet, server

from codeb_report.analysis import analyse
from codeb_report.analysis.model import Analysis
from codeb_report.errors import Exit
from codeb_report.history.trends import build_trends
from codeb_report.metrics.exposition import Family, label_value, render
from codeb_report.metrics.fleet import snapshot_families
from codeb_report.metrics.run import RunResult, run_families, run_metrics_text, write_run_metrics
from codeb_report.metrics.textfile import TextfileError, previous_last_success, write_textfile
from codeb_report.nightly.run import NightlyOptions, run_nightly
from codeb_report.provider.model import ProviderError
from codeb_report.snapshot import (
    BackupDir,
    Filesystem,
    ProbeOutcome,
    ProbeStatus,
    Redis,
    Server,
    Snapshot,
    Watched,
    load,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SAMPLE = re.compile(r"^([a-z_:]+)(\{.*\})? (\S+)$")
HOSTILE = 'evil"} 1\ncodeb_report_injected 1\n\\x\x07\x1b[31m\r\u2028end'


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool (Debian prometheus) is not installed")
    return subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )


def metrics_of(snapshot: Snapshot, analysis: Analysis | None = None, trends=None) -> str:
    return render(snapshot_families(snapshot, analysis or analyse(snapshot), trends))


def samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value, for every sample line."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        out[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return out


def test_the_example_fleet_passes_promtool_check_metrics() -> None:
    text = metrics_of(load(EXAMPLE))
    done = promtool_check(text)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == done.stderr == ""  # not even a lint warning
    values = samples(text)
    assert values['codeb_report_build_info{version="0.1.0"}'] == 1
    assert values['codeb_report_server_reachable{server="n4",role="Backup"}'] == 1
    assert values['codeb_report_centrifugo_allowed_origins_wildcard{server="n2"}'] == 1
    assert values['codeb_report_redis_up{server="n3"}'] == 1
    finding = 'codeb_report_findings{server="n4",priority="High",rule="backup.missing"}'
    assert values[finding] == 1
    assert values[
        'codeb_report_findings{server="_fleet",priority="Low",rule="resources.low_usage"}'
    ]
    assert (
        values["codeb_report_snapshot_timestamp_seconds"] == load(EXAMPLE).collected_at.timestamp()
    )


def test_names_follow_the_conventions() -> None:
    text = metrics_of(load(EXAMPLE))
    names = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE)
    assert len(names) == len({n for n, _ in names}) > 10
    for name, kind in names:
        assert name.startswith("codeb_report_"), name
        assert kind == "gauge", name
        assert not name.endswith("_total"), f"{name}: _total is for counters"
        assert not re.search(r"_(days|hours|minutes|percent|kb|mb|gb)(_|$)", name), name


def test_hostile_names_stay_inside_their_label_value() -> None:
    """A configured name with quotes, backslashes, newlines and control characters."""
    hostile = server(
        HOSTILE,
        role="App",
        watched=[Watched(kind="container", name=HOSTILE, present=True, state="running")],
        backups=[BackupDir(path=HOSTILE, exists=True, files=1, total_size=10, newest_mtime=AT)],
    )
    text = metrics_of(fleet(hostile))
    done = promtool_check(text)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "codeb_report_injected" not in samples(text)  # no line of its own
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u2028]", text)
    # Controls as the visible escapes logs use (\x07, \n), then the format's own escapes.
    escaped = r"evil\"} 1\\ncodeb_report_injected 1\\n\\x\\x07\\x1b[31m\\r\\u2028end"
    assert label_value(HOSTILE) == escaped
    assert (
        f'codeb_report_watched_running{{server="{escaped}",kind="container",name="{escaped}"}} 1'
        in text
    )
    assert f'codeb_report_backup_files{{server="{escaped}",path="{escaped}"}} 1' in text


def test_an_unreachable_server_has_no_figures_only_its_state() -> None:
    down = Server(name="n2", host="h2", role="DB", reachable=False, error="timed out")
    values = samples(metrics_of(fleet(server("n1"), down)))
    assert values['codeb_report_server_reachable{server="n2",role="DB"}'] == 0
    about_n2 = [k for k in values if 'server="n2"' in k]
    assert sorted(k.split("{")[0] for k in about_n2) == [
        "codeb_report_findings",  # server.unreachable
        "codeb_report_server_info",
        "codeb_report_server_reachable",
    ]
    assert 'codeb_report_filesystem_size_bytes{server="n1",mount="/"}' in values


def test_unknown_facts_are_left_out_not_zero() -> None:
    one = server(
        "n1",
        watched=[
            Watched(kind="unit", name="gone", present=False),
            Watched(kind="unit", name="unknown", present=None, error="permission denied"),
            Watched(kind="unit", name="up", present=True, state="active"),
            Watched(kind="container", name="stopped", present=True, state="exited"),
        ],
        backups=[
            BackupDir(path="/b/none", exists=False),
            BackupDir(path="/b/locked", exists=True, error="permission denied"),
            BackupDir(path="/b/empty", exists=True, files=0),
        ],
        redis=Redis(running=False, error="connection refused"),
        probes=[
            ProbeOutcome(probe="podman", status=ProbeStatus.SKIPPED, reason="not installed"),
            ProbeOutcome(probe="docker", status=ProbeStatus.FAILED, reason="no daemon"),
            ProbeOutcome(probe="system", status=ProbeStatus.OK),
        ],
    )
    values = samples(metrics_of(fleet(one)))
    present = {k: v for k, v in values.items() if k.startswith("codeb_report_watched_present")}
    assert present == {
        'codeb_report_watched_present{server="n1",kind="container",name="stopped"}': 1,
        'codeb_report_watched_present{server="n1",kind="unit",name="gone"}': 0,
        'codeb_report_watched_present{server="n1",kind="unit",name="up"}': 1,
    }
    running = {k: v for k, v in values.items() if k.startswith("codeb_report_watched_running")}
    assert running == {
        'codeb_report_watched_running{server="n1",kind="container",name="stopped"}': 0,
        'codeb_report_watched_running{server="n1",kind="unit",name="up"}': 1,
    }
    backups = [k for k in values if k.startswith("codeb_report_backup")]
    assert sorted(backups) == [
        'codeb_report_backup_files{server="n1",path="/b/empty"}',
        'codeb_report_backup_size_bytes{server="n1",path="/b/empty"}',
    ]  # no age without a newest file, nothing for a missing or unreadable folder
    assert values['codeb_report_redis_up{server="n1"}'] == 0
    assert not any(k.startswith("codeb_report_postgresql_up") for k in values)
    assert not any(k.startswith("codeb_report_centrifugo") for k in values)
    probes = {k: v for k, v in values.items() if k.startswith("codeb_report_probe_success")}
    assert probes == {
        'codeb_report_probe_success{server="n1",probe="docker"}': 0,
        'codeb_report_probe_success{server="n1",probe="system"}': 1,
    }
    assert not any(k.startswith("codeb_report_filesystem_seconds_until_full") for k in values)


def test_backup_age_is_measured_at_collection() -> None:
    one = server(
        "n4",
        backups=[BackupDir(path="/b", exists=True, files=3, newest_mtime=AT - timedelta(hours=30))],
    )
    values = samples(metrics_of(fleet(one)))
    assert values['codeb_report_backup_newest_age_seconds{server="n4",path="/b"}'] == 30 * 3600


def _growing(day: int, used_gib: int) -> Snapshot:
    size = 100 * GiB
    filesystems = [
        Filesystem(
            mount="/", device="/dev/vda1", size=size, used=10 * GiB, available=size - 10 * GiB
        ),
        Filesystem(
            mount="/data",
            device="/dev/vdb",
            size=size,
            used=used_gib * GiB,
            available=size - used_gib * GiB,
        ),
    ]
    snapshot = fleet(server("n3", filesystems=filesystems))
    return snapshot.model_copy(update={"collected_at": AT + timedelta(days=day)})


def test_days_until_full_only_for_a_growing_filesystem() -> None:
    history = [_growing(day, 60 + 5 * day) for day in range(5)]  # 5 GiB a day, 20 GiB left
    latest = history[-1]
    trends = build_trends(history)
    text = metrics_of(latest, trends=trends)
    values = samples(text)
    due = values['codeb_report_filesystem_seconds_until_full{server="n3",mount="/data"}']
    assert due == pytest.approx(4 * 86400)
    growth = values['codeb_report_filesystem_growth_bytes_per_second{server="n3",mount="/data"}']
    assert growth == pytest.approx(5 * GiB / 86400)
    assert 'codeb_report_filesystem_seconds_until_full{server="n3",mount="/"}' not in values
    assert values['codeb_report_filesystem_growth_bytes_per_second{server="n3",mount="/"}'] == 0
    assert promtool_check(text).returncode == 0


def test_a_duplicate_series_is_written_once() -> None:
    family = Family("codeb_report_x", "x")
    family.add(1, server="a")
    family.add(2, server="a")
    family.add(float("nan"), server="b")
    family.add(None, server="c")
    assert render([family]).splitlines()[2:] == ['codeb_report_x{server="a"} 1']


def test_no_cost_metric_without_a_provider_view() -> None:
    snapshot = load(EXAMPLE).model_copy(update={"provider": None})  # the example has an account
    assert "monthly_cost" not in metrics_of(snapshot)


def test_monthly_cost_per_server_from_the_provider_view() -> None:
    snapshot = load(ROOT / "tests" / "fixtures" / "snapshots" / "v2-2025-12-06.json")
    assert snapshot.provider is not None
    text = metrics_of(snapshot)
    values = samples(text)
    costs = {k: v for k, v in values.items() if k.startswith("codeb_report_server_monthly_cost")}
    assert costs == {
        f'codeb_report_server_monthly_cost_dollars{{server="{name}"}}': cost
        for name, cost in [("n1", 20), ("n2", 5), ("n3", 40), ("n4", 5), ("n5", 5)]
    }  # the unmatched instance "old-test" only counts in the account's total
    assert values["codeb_report_provider_monthly_cost_dollars"] == 80
    assert promtool_check(text).returncode == 0
    unreadable = snapshot.provider.model_copy(
        update={"error": ProviderError(kind="unauthorized", message="401")}
    )
    text = metrics_of(snapshot.model_copy(update={"provider": unreadable}))
    assert "monthly_cost" not in text


# --- the textfile -------------------------------------------------------------------------


def test_the_textfile_is_replaced_whole_with_mode_0644(tmp_path: Path) -> None:
    target = tmp_path / "codeb_report.prom"
    target.write_text("old\n")
    target.chmod(0o600)
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(Path(src).name)
        assert Path(src).parent == tmp_path  # the same folder: one rename
        assert Path(dst) == target
        real_replace(src, dst)

    import codeb_report.atomic as atomic

    original = atomic.os.replace
    atomic.os.replace = spy  # type: ignore[assignment]
    try:
        write_textfile(target, "codeb_report_x 1\n")
    finally:
        atomic.os.replace = original  # type: ignore[assignment]
    [temp] = seen
    assert not temp.endswith(".prom") and temp.startswith(".")  # node_exporter skips it
    assert target.read_text() == "codeb_report_x 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codeb_report.prom"]


def test_a_planted_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    folder = tmp_path / "textfile"
    folder.mkdir()
    target = folder / "codeb_report.prom"
    target.symlink_to(victim)
    assert previous_last_success(target) is None  # not read through the link either
    write_textfile(target, "codeb_report_x 1\n")
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink() and target.read_text() == "codeb_report_x 1\n"


def test_a_missing_folder_is_an_error_not_created(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "codeb_report.prom"
    with pytest.raises(TextfileError, match=r"nope/codeb_report\.prom: folder .* does not exist"):
        write_textfile(target, "x 1\n")
    assert not target.parent.exists()


def test_a_fifo_at_the_path_is_not_waited_on(tmp_path: Path) -> None:
    target = tmp_path / "codeb_report.prom"
    os.mkfifo(target)
    assert previous_last_success(target) is None


# --- run's metrics --------------------------------------------------------------------------


def _result(code: Exit, finished: float, snapshot: Snapshot | None = None) -> RunResult:
    analysis = analyse(snapshot) if snapshot is not None else None
    return RunResult(code, finished - 12.5, finished, 12.5, snapshot, analysis)


def test_a_failed_run_keeps_the_last_success_time(tmp_path: Path) -> None:
    target = tmp_path / "codeb_report.prom"
    write_run_metrics(target, _result(Exit.PARTIAL, 1_700_000_000.0, fleet(server())))
    assert previous_last_success(target) == 1_700_000_000.0
    write_run_metrics(target, _result(Exit.FAILED, 1_700_086_400.0, fleet(server())))
    values = samples(target.read_text())
    assert values["codeb_report_run_last_success_timestamp_seconds"] == 1_700_000_000.0
    assert values["codeb_report_run_timestamp_seconds"] == 1_700_086_400.0
    assert values["codeb_report_run_exit_code"] == 5
    assert values["codeb_report_run_duration_seconds"] == 12.5
    write_run_metrics(target, _result(Exit.OUTPUT, 1_700_090_000.0))  # no snapshot at all
    values = samples(target.read_text())
    assert values["codeb_report_run_last_success_timestamp_seconds"] == 1_700_000_000.0
    assert "codeb_report_snapshot_timestamp_seconds" not in values
    assert not any("server=" in k for k in values)
    assert promtool_check(target.read_text()).returncode == 0


def test_without_any_success_there_is_no_last_success_metric() -> None:
    text = run_metrics_text(_result(Exit.MAIL, 1_700_000_000.0, fleet(server())), None)
    assert "codeb_report_run_last_success_timestamp_seconds" not in text
    assert "codeb_report_run_exit_code 6" in text


def _stages(tmp_path: Path):
    def collect() -> Snapshot:
        return fleet(server("n1"))

    def render_stage(snapshot, analysis, formats, out):  # type: ignore[no-untyped-def]
        path = out / "report.md"
        path.write_text("report\n")
        return [path]

    return collect, analyse, render_stage


def test_run_writes_the_textfile(tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "codeb_report.prom"
    target.parent.mkdir()
    written: list[RunResult] = []

    def write(result: RunResult) -> None:
        written.append(result)
        write_run_metrics(target, result)

    options = NightlyOptions(tmp_path / "out", metrics=write)
    code = run_nightly(options, *_stages(tmp_path))
    assert code == Exit.OK
    values = samples(target.read_text())
    assert values["codeb_report_run_exit_code"] == 0
    assert values["codeb_report_run_last_success_timestamp_seconds"] == written[0].finished
    assert values['codeb_report_server_reachable{server="n1",role="App Server"}'] == 1
    log = (tmp_path / "out" / "latest" / "run.log").read_text()
    assert "metrics written" in log


def test_an_unwritable_textfile_is_logged_and_exit_4_with_the_report(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    target = blocker / "codeb_report.prom"  # no one can create it, root included
    options = NightlyOptions(tmp_path / "out", metrics=lambda r: write_run_metrics(target, r))
    code = run_nightly(options, *_stages(tmp_path))
    assert code == Exit.PARTIAL == 4
    latest = tmp_path / "out" / "latest"
    assert (latest / "report.md").read_text() == "report\n"
    assert (latest / "snapshot.json").is_file()
    log = (latest / "run.log").read_text()
    assert f"ERROR - metrics not written: {target}: folder {blocker} does not exist" in log
    assert log.rstrip().endswith("run finished, exit code 4")


# --- the metrics command ----------------------------------------------------------------------

CLI = str(Path(sys.executable).with_name("codeb-report"))


def test_metrics_command_to_stdout_and_into_a_file(tmp_path: Path) -> None:
    out = subprocess.run([CLI, "metrics", str(EXAMPLE)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == metrics_of(load(EXAMPLE))
    target = tmp_path / "codeb_report.prom"
    done = subprocess.run(
        [CLI, "metrics", str(EXAMPLE), "-o", str(target)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert target.read_text() == out.stdout


def test_metrics_command_errors_are_one_line(tmp_path: Path) -> None:
    target = tmp_path / "none" / "codeb_report.prom"
    done = subprocess.run(
        [CLI, "metrics", str(EXAMPLE), "-o", str(target)], capture_output=True, text=True
    )
    assert done.returncode == Exit.OUTPUT
    assert done.stderr == f"Error: {target}: folder {target.parent} does not exist\n"
    missing = subprocess.run(
        [CLI, "metrics", str(tmp_path / "x.json")], capture_output=True, text=True
    )
    assert missing.returncode == Exit.INPUT
    assert missing.stderr.count("\n") == 1 and "x.json" in missing.stderr


def test_metrics_of_a_report_folder_have_its_forecasts(tmp_path: Path) -> None:
    from codeb_report.snapshot import save

    root = tmp_path / "output"
    for day in range(5):
        snapshot = _growing(day, 60 + 5 * day)
        folder = root / snapshot.collected_at.date().isoformat()
        folder.mkdir(parents=True)
        save(snapshot, folder / "snapshot.json")
    done = subprocess.run([CLI, "metrics", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    values = samples(done.stdout)
    due = values['codeb_report_filesystem_seconds_until_full{server="n3",mount="/data"}']
    assert due == pytest.approx(4 * 86400)
    # The forecast is a finding too, as in the report (High within 7 days).
    assert values['codeb_report_findings{server="n3",priority="High",rule="disk-full-forecast"}']


def test_every_metric_is_documented() -> None:
    doc = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    # Every family, whether this snapshot fills it or not.
    snapshot = load(EXAMPLE)
    families = snapshot_families(snapshot, analyse(snapshot), build_trends([snapshot]))
    families += run_families(_result(Exit.OK, 1_700_000_000.0), None)
    names = {f.name for f in families}
    assert len(names) >= 24
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert missing == []


def test_the_textfile_setting_must_name_a_prom_file() -> None:
    from codeb_report.config import parse_config
    from codeb_report.errors import ConfigError

    base = '[[servers]]\nname = "n1"\nhost = "127.0.0.1"\n'
    good = parse_config(base + '[metrics]\ntextfile = "/var/lib/x/codeb_report.prom"\n', "f.toml")
    assert good.metrics.textfile == "/var/lib/x/codeb_report.prom"
    with pytest.raises(ConfigError, match=r"^f\.toml: metrics\.textfile: '/x/codeb\.txt': node"):
        parse_config(base + '[metrics]\ntextfile = "/x/codeb.txt"\n', "f.toml")


def test_a_device_or_fifo_is_refused_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "codeb_report.prom"
    os.mkfifo(fifo)
    with pytest.raises(TextfileError, match=r"codeb_report\.prom: not a regular file$"):
        write_textfile(fifo, "x 1\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    done = subprocess.run(
        [CLI, "metrics", str(EXAMPLE), "-o", "/dev/null"], capture_output=True, text=True
    )
    assert done.returncode == Exit.OUTPUT
    assert done.stderr == "Error: /dev/null: not a regular file\n"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_run_that_cannot_render_writes_exit_8_and_keeps_the_last_success(
    tmp_path: Path,
) -> None:
    from codeb_report.errors import OutputError

    target = tmp_path / "codeb_report.prom"
    write_run_metrics(target, _result(Exit.OK, 1_700_000_000.0, fleet(server())))
    collect, analyse_stage, _ = _stages(tmp_path)

    def broken_render(*args: object) -> list[Path]:
        raise OutputError("report.pdf: cannot render pdf: no fonts")

    options = NightlyOptions(tmp_path / "out", metrics=lambda r: write_run_metrics(target, r))
    with pytest.raises(OutputError):
        run_nightly(options, collect, analyse_stage, broken_render)
    values = samples(target.read_text())
    assert values["codeb_report_run_exit_code"] == Exit.OUTPUT == 8
    assert values["codeb_report_run_last_success_timestamp_seconds"] == 1_700_000_000.0
    assert values["codeb_report_run_timestamp_seconds"] > 1_700_000_000.0
    assert not any("server=" in k for k in values)  # no report, no figures of its own


def test_the_folders_group_rule_is_kept(tmp_path: Path) -> None:
    """A setgid folder (group prometheus, say) gives the new file its group, as for any
    file made there: the temporary file is created in the folder itself."""
    import grp

    folder = tmp_path / "textfile"
    folder.mkdir()
    group = next(
        (g for g in grp.getgrall() if g.gr_gid != os.getegid() and g.gr_gid in os.getgroups()),
        None,
    )
    if group is None and os.geteuid() == 0:
        group = grp.getgrnam("nogroup")
    if group is None:
        pytest.skip("no second group to give the folder")
    os.chown(folder, -1, group.gr_gid)
    folder.chmod(0o2775)
    target = folder / "codeb_report.prom"
    write_textfile(target, "codeb_report_x 1\n")
    assert target.stat().st_gid == group.gr_gid
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
