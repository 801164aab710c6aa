"""리소스 추세 and disk-full forecasts from Prometheus' range queries (a real TSDB).

A synthetic fleet with 90 days of history is loaded into a real Prometheus: the first
night, with no stored snapshot at all, already has 90-day trends; a disk filling at a
known pace is forecast from Prometheus' points; stored snapshots become points of their
own, so the diff finds last night's forecast; without Prometheus the snapshots serve.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from servers.ports import free_port
from servers.prometheus import (
    GIB,
    LocalPrometheus,
    SyntheticFilesystem,
    SyntheticNode,
    load_openmetrics,
    start_prometheus,
    write_fleet,
)

from codeb_report.analysis import analyse
from codeb_report.config import Config, parse_config
from codeb_report.history.section import build_history
from codeb_report.history.settings import TrendSettings
from codeb_report.history.trends import forecast_findings, forecasts_at
from codeb_report.prometheus import history as prometheus_history
from codeb_report.prometheus.history import PrometheusTrends, step_for
from codeb_report.prometheus.sources import collect_with_prometheus, history_targets, trend_source
from codeb_report.snapshot import Snapshot

HISTORY_DAYS = 90
FILLING = 20 * GIB  # bytes a day on db1:/data, 1 TiB with 300 GiB used at the start


def nodes() -> list[SyntheticNode]:
    return [
        SyntheticNode(
            instance="10.5.0.1:9100",
            labels={"name": "db1", "role": "db"},
            memory_used_pct=40.0,
            load=(0.5, 0.8, 0.7),
            filesystems=[
                SyntheticFilesystem("/", "/dev/vda1", 100 * GIB, 30 * GIB, 0),
                SyntheticFilesystem("/data", "/dev/vdb", 4096 * GIB, 300 * GIB, FILLING),
            ],
        ),
        SyntheticNode(
            instance="10.5.0.2:9100",
            labels={"name": "web1", "role": "app"},
            filesystems=[SyntheticFilesystem("/", "/dev/vda1", 100 * GIB, 10 * GIB, GIB // 10)],
        ),
    ]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> LocalPrometheus:
    work: Path = tmp_path_factory.mktemp("prometheus-history")
    write_fleet(work / "fleet.om", nodes(), time.time(), days=HISTORY_DAYS + 1, step=6 * 3600)
    load_openmetrics(work / "fleet.om", work / "data")
    server = start_prometheus(work, data=work / "data", extra_args=["--query.lookback-delta=1h"])
    yield server
    server.stop()


def config(url: str) -> Config:
    text = (
        f'[prometheus]\nurl = "{url}"\nservers = \'up{{job="node"}}\'\n'
        f"scrape_interval = 600.0\nhistory_days = {HISTORY_DAYS}.0\nhistory_points = 120\n"
    )
    return parse_config(text, "fleet.toml")


def tonight(conf: Config) -> Snapshot:
    return collect_with_prometheus(conf, lambda *_: pytest.fail("no SSH here"))


def test_first_night_has_the_whole_window(prometheus: LocalPrometheus) -> None:
    conf = config(prometheus.url)
    snapshot = tonight(conf)
    source = trend_source(conf)
    assert isinstance(source, PrometheusTrends)
    trends = source.trends([snapshot], TrendSettings())
    assert trends.source == "prometheus" and trends.step == step_for(conf.prometheus) == 64800
    span = trends.times[-1] - trends.times[0]
    assert timedelta(days=HISTORY_DAYS - 1) < span <= timedelta(days=HISTORY_DAYS)
    assert trends.times[-1] == snapshot.collected_at  # the charts end at tonight's figures
    assert len(trends.times) == 121  # 120 steps of 18 h, and tonight
    db1 = next(s for s in trends.servers if s.name == "db1")
    assert all(v == pytest.approx(40.0) for v in db1.memory_pct)
    assert set(db1.load5) == {0.8}
    used = [p.used for p in db1.disks["/data"] if p is not None]
    assert len(used) == len(trends.times)
    per_day = (used[-2] - used[0]) / ((trends.times[-2] - trends.times[0]) / timedelta(days=1))
    assert per_day == pytest.approx(FILLING, rel=0.001)
    # The forecast: 4 TiB - 300 GiB - 91 days x 20 GiB left, at 20 GiB a day: 98.8 days.
    [forecast] = [f for f in trends.forecasts if (f.server, f.mount) == ("db1", "/data")]
    assert forecast.source == "prometheus" and forecast.points == 121
    expected = snapshot.server("db1").filesystems[1].available / FILLING
    assert forecast.days_left == pytest.approx(expected, rel=0.01)
    assert 90 < expected < 110  # not a finding (30 days), but a row of the table
    quiet = [f for f in trends.forecasts if f.server == "web1"]
    assert quiet and quiet[0].days_left is not None and quiet[0].days_left > 365


def test_forecast_finding_names_its_basis(prometheus: LocalPrometheus) -> None:
    conf = config(prometheus.url)
    snapshot = tonight(conf)
    trends = trend_source(conf).trends([snapshot], TrendSettings(horizon_days=200))
    [finding] = forecast_findings(trends, TrendSettings(horizon_days=200))
    words = "".join(s.text for s in finding.description)
    assert finding.server == "db1" and "Prometheus 기록 90일, 121개 지점 기준" in words


def test_stored_snapshots_are_points_and_last_nights_forecast_is_found(
    prometheus: LocalPrometheus,
) -> None:
    conf = config(prometheus.url)
    snapshot = tonight(conf)
    past = [
        snapshot.model_copy(update={"collected_at": snapshot.collected_at - timedelta(days=d)})
        for d in (2, 1)
    ]
    settings = TrendSettings(horizon_days=200)
    trends = trend_source(conf).trends([*past, snapshot], settings)
    for one in past:
        assert one.collected_at in trends.times
    assert forecasts_at(trends, past[-1].collected_at, settings)[0].server == "db1"
    history = build_history(
        snapshot,
        analyse(snapshot),
        Path("/nonexistent-output-root"),
        analyse,
        trend_settings=settings,
        source=trend_source(conf),
    )
    assert history.basis == f"Prometheus 18시간 간격 {len(history.trends.times)}개 지점"
    assert [f.server for f in history.forecasts] == ["db1"]


def test_prometheus_down_falls_back_to_the_snapshots(prometheus: LocalPrometheus) -> None:
    snapshot = tonight(config(prometheus.url))
    down = config(f"http://127.0.0.1:{free_port()}")
    source = trend_source(down)
    trends = source.trends([snapshot], TrendSettings())
    assert trends.source == "snapshots" and trends.times == [snapshot.collected_at]
    assert source.failed.startswith("cannot connect")


def test_history_targets_follow_the_snapshot(prometheus: LocalPrometheus) -> None:
    conf = config(prometheus.url)
    targets = history_targets(conf, tonight(conf))
    assert {t.name: t.describe() for t in targets} == {
        "db1": 'instance="10.5.0.1:9100"',
        "web1": 'instance="10.5.0.2:9100"',
    }


def test_run_writes_the_report_from_prometheus_alone(
    prometheus: LocalPrometheus, tmp_path: Path
) -> None:
    """The whole nightly run, first night, no [[servers]]: figures and 90-day trends."""
    toml = tmp_path / "fleet.toml"
    toml.write_text(
        f'[prometheus]\nurl = "{prometheus.url}"\nservers = \'up{{job="node"}}\'\n'
        f"scrape_interval = 600.0\nhistory_days = {HISTORY_DAYS}.0\n"
        '[roles.db]\nlabel = "DB Server"\n'
    )
    out = tmp_path / "out"
    command = "from codeb_report.cli import main; main()"
    argv = [sys.executable, "-c", command, "run", "--config", str(toml), "--output-root", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    report = (out / "latest" / "report.md").read_text(encoding="utf-8")
    assert "Prometheus 18시간 간격 121개 지점" in report
    assert "Prometheus(node_exporter)에서만 수집" in report
    assert "| /data |" in report or "`/data`" in report  # the forecast table names the disk
    assert (out / "latest" / "report.pdf").stat().st_size > 10_000
    snapshot = (out / "latest" / "snapshot.json").read_text(encoding="utf-8")
    assert '"source": "prometheus"' in snapshot and '"discovered": 2' in snapshot


def test_range_queries_in_chunks_give_the_same_series(
    prometheus: LocalPrometheus, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = config(prometheus.url)
    snapshot = tonight(conf)

    def series() -> list[tuple]:
        trends = trend_source(conf).trends([snapshot], TrendSettings())
        return [
            (
                s.name,
                s.memory_pct,
                s.load1,
                s.load5,
                {m: [p and p.used for p in v] for m, v in s.disks.items()},
            )
            for s in trends.servers
        ]

    whole = series()
    monkeypatch.setattr(prometheus_history, "CHUNK", 1)  # one server per range query
    assert series() == whole
    assert len(whole) == 2 and all(v is not None for v in whole[0][1])
