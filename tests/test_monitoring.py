"""The metrics through real node_exporter and Prometheus: a run, hostile names, the
alert rules loaded and firing, and every PromQL expression of the Grafana dashboard."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from analysis_fleet import fleet, server
from servers.ports import free_port
from servers.prometheus import PrometheusServer
from servers.sshd import SshdFactory

from codeb_report.analysis import analyse
from codeb_report.controls import escape_controls
from codeb_report.errors import Exit
from codeb_report.history.trends import build_trends
from codeb_report.metrics.exposition import render
from codeb_report.metrics.fleet import snapshot_families
from codeb_report.metrics.run import RunResult, run_metrics_text
from codeb_report.snapshot import Snapshot, Watched, load

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("codeb-report"))
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"
DASHBOARD = ROOT / "docs" / "grafana" / "codeb-report.json"
TEXTFILE = "codeb_report.prom"
HOSTILE = 'evil"} 1\ncodeb_report_injected 1\n\\x\x07\x1b[31m\r end'


def _value(prometheus: PrometheusServer, expr: str) -> float:
    [sample] = prometheus.wait_for(expr)
    return float(sample["value"][1])


def _publish(prometheus: PrometheusServer, text: str, marker: str) -> None:
    """Write the textfile and wait until Prometheus has scraped ``marker`` from it."""
    path = prometheus.node.textfile_dir / TEXTFILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    prometheus.wait_for(marker)


def test_a_run_is_read_back_through_prometheus(
    prometheus_server: PrometheusServer, tmp_path: Path
) -> None:
    textfile = prometheus_server.node.textfile_dir / TEXTFILE
    done = subprocess.run(
        [CLI, "run", "--output-root", str(tmp_path / "out"), "--metrics", str(textfile)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode in (Exit.OK, Exit.PARTIAL), done.stderr
    written = textfile.read_text()
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=written, capture_output=True, text=True
    )
    assert (check.returncode, check.stdout, check.stderr) == (0, "", ""), check
    finished = re.search(r"^codeb_report_run_timestamp_seconds (\S+)$", written, re.MULTILINE)
    assert finished, written
    # This run's figures, not an earlier file's: wait for its own finish time.
    marker = f"codeb_report_run_timestamp_seconds == {finished.group(1)}"
    prometheus_server.wait_for(marker)
    assert _value(prometheus_server, "codeb_report_run_exit_code") == done.returncode
    last = _value(prometheus_server, "codeb_report_run_last_success_timestamp_seconds")
    assert last == float(finished.group(1))
    snapshot = load(tmp_path / "out" / "latest" / "snapshot.json")
    [me] = snapshot.servers
    reachable = prometheus_server.wait_for("codeb_report_server_reachable")
    assert [r["metric"]["server"] for r in reachable] == [me.name]
    assert reachable[0]["metric"]["job"] == "node"  # scraped from node_exporter
    assert float(reachable[0]["value"][1]) == 1
    collected = _value(prometheus_server, "codeb_report_snapshot_timestamp_seconds")
    assert collected == pytest.approx(snapshot.collected_at.timestamp())
    mounts = prometheus_server.wait_for("codeb_report_filesystem_size_bytes")
    assert {r["metric"]["mount"] for r in mounts} == {fs.mount for fs in me.filesystems}
    assert "metrics written" in (tmp_path / "out" / "latest" / "run.log").read_text()


def test_hostile_names_arrive_as_the_same_text(prometheus_server: PrometheusServer) -> None:
    hostile = server(
        HOSTILE,
        role="hostile-role",
        watched=[Watched(kind="container", name=HOSTILE, present=True, state="running")],
    )
    text = render(snapshot_families(fleet(hostile), analyse(fleet(hostile))))
    _publish(prometheus_server, text, 'codeb_report_server_reachable{role="hostile-role"}')
    [sample] = prometheus_server.wait_for('codeb_report_watched_running{kind="container"}')
    # Quotes and backslashes travel as themselves; controls as the visible escapes that
    # logs and reports show (\n, \x07), never raw.
    shown = escape_controls(HOSTILE)
    assert "\n" not in shown and "\\x07" in shown
    assert sample["metric"]["server"] == shown
    assert sample["metric"]["name"] == shown
    assert prometheus_server.query("codeb_report_injected")["data"]["result"] == []


def _alerts(prometheus: PrometheusServer) -> list[dict[str, Any]]:
    return prometheus.api("alerts")["data"]["alerts"]


def test_the_rules_load_and_fire_on_the_example_fleet(prometheus_server: PrometheusServer) -> None:
    snapshot = load(EXAMPLE)
    text = render(snapshot_families(snapshot, analyse(snapshot)))
    _publish(prometheus_server, text, 'codeb_report_server_info{server="n4"}')
    groups = prometheus_server.api("rules")["data"]["groups"]
    [group] = [g for g in groups if g["name"] == "codeb-report"]
    assert sorted(r["name"] for r in group["rules"]) == [
        "CodeBReportDiskFullSoon",
        "CodeBReportHighFinding",
        "CodeBReportMetricsAbsent",
        "CodeBReportNotSucceeded",
        "CodeBReportServerUnreachable",
    ]
    prometheus_server.wait_for('ALERTS{alertname="CodeBReportHighFinding",server="n4"}')
    high = {
        (a["labels"]["server"], a["labels"]["rule"])
        for a in _alerts(prometheus_server)
        if a["labels"]["alertname"] == "CodeBReportHighFinding"
    }
    assert high == {("n2", "centrifugo.allowed_origins_any"), ("n4", "backup.missing")}
    firing = {a["labels"]["alertname"] for a in _alerts(prometheus_server)}
    assert "CodeBReportServerUnreachable" not in firing  # all four were collected
    assert all(r["health"] == "ok" for r in group["rules"]), group["rules"]


# --- the Grafana dashboard -----------------------------------------------------------------

# What Grafana puts in for the dashboard's variables when "All" is chosen, and its own
# interval variables.
VARIABLES = {
    "server": ".*",
    "node": ".*",
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_LABEL_VALUES = re.compile(r"^label_values\((.+),\s*(\w+)\)$")


def substitute(expr: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in VARIABLES, f"unknown variable ${name} in {expr}"
        return VARIABLES[name]

    return _VARIABLE.sub(one, expr)


def dashboard_expressions(node: Any) -> Iterator[str]:
    """Every PromQL expression: panel targets (rows included) and variable queries."""
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            yield node["expr"]
        if node.get("type") == "query" and "definition" in node:
            match = _LABEL_VALUES.match(node["definition"])
            assert match, f"variable query Grafana would not read: {node['definition']}"
            yield match.group(1)  # label_values(selector, label) asks for the series
        for value in node.values():
            yield from dashboard_expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_expressions(item)


def _growing_history(snapshot: Snapshot) -> list[Snapshot]:
    """Four daily copies of ``snapshot`` whose n1 root filesystem grows 10 GB a day."""
    history = []
    for day in range(4):
        servers = []
        for one in snapshot.servers:
            if one.name == "n1":
                fs = one.filesystems[0]
                grown = fs.used - (3 - day) * 10**10
                fs = fs.model_copy(update={"used": grown, "available": fs.size - grown})
                one = one.model_copy(update={"filesystems": [fs]})
            servers.append(one)
        history.append(
            snapshot.model_copy(
                update={
                    "servers": servers,
                    "collected_at": snapshot.collected_at + timedelta(days=day - 3),
                }
            )
        )
    return history


@pytest.fixture
def dashboard_data(prometheus_server: PrometheusServer) -> PrometheusServer:
    """A run's metrics over the example fleet, with one growing disk and its account."""
    history = _growing_history(load(EXAMPLE))
    # The provider part of a recorded v2 snapshot: its servers n1-n4 are the example's.
    provider = load(ROOT / "tests" / "fixtures" / "snapshots" / "v2-2025-12-06.json").provider
    snapshot = history[-1].model_copy(update={"provider": provider})
    result = RunResult(
        Exit.OK, 1.7e9, 1.7e9 + 30, 30.0, snapshot, analyse(snapshot), build_trends(history)
    )
    text = run_metrics_text(result, None)
    _publish(prometheus_server, text, "codeb_report_filesystem_seconds_until_full")
    prometheus_server.wait_for("node_load1")
    return prometheus_server


def _values_of(key: str, node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for k, value in node.items():
            if k == key:
                yield value
            yield from _values_of(key, value)
    elif isinstance(node, list):
        for item in node:
            yield from _values_of(key, item)


def test_the_dashboard_is_importable_with_a_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "codeb-report" and "id" not in dashboard
    [source] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert source["name"] == "datasource" and source["query"] == "prometheus"
    sources = list(_values_of("datasource", dashboard))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(sources) > len(panels)  # every panel, target and query variable names one
    assert all(s == {"type": "prometheus", "uid": "${datasource}"} for s in sources), sources
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells = set()  # no two panels on one grid cell, none past Grafana's 24 columns
    for p in dashboard["panels"]:
        pos = p["gridPos"]
        assert pos["x"] + pos["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not mine & cells, f"{p['title']} overlaps another panel"
        cells |= mine
    titles = {p["title"] for p in dashboard["panels"] if p["type"] == "row"}
    assert titles == {"Fleet status", "Findings", "Per server", "Disk forecasts", "Backups"}


def test_every_dashboard_expression_runs_on_prometheus(dashboard_data: PrometheusServer) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = list(dict.fromkeys(dashboard_expressions(dashboard)))
    assert len(expressions) >= 25
    empty = []
    for expr in expressions:
        answer = dashboard_data.query(substitute(expr))
        assert answer["status"] == "success", (expr, answer)
        if not answer["data"]["result"]:
            empty.append(expr)
    # The example fleet has no failed probe and no backup file to date: nothing to show.
    assert empty == [
        'count by (server) (codeb_report_probe_success{server=~"$server"} == 0)',
        'codeb_report_backup_newest_age_seconds{server=~"$server"}',
    ]
    # Expressions for several time steps, as the time series panels ask.
    ranged = dashboard_data.api(
        "query_range",
        query=substitute('sum by (priority) (codeb_report_findings{server=~"$server|_fleet"})'),
        start=str(int(time.time()) - 60),
        end=str(int(time.time())),
        step="15",
    )
    assert ranged["status"] == "success"
    assert {s["metric"]["priority"] for s in ranged["data"]["result"]} == {"High", "Medium", "Low"}


def test_a_broken_expression_would_be_caught(prometheus_server: PrometheusServer) -> None:
    answer = prometheus_server.query(substitute("sum by (server (codeb_report_findings)"))
    assert answer["status"] == "error"


def test_a_configured_run_over_ssh_alerts_on_the_unreachable_server(
    prometheus_server: PrometheusServer, sshd_factory: SshdFactory, tmp_path: Path
) -> None:
    """[metrics] textfile from the configuration; n2 has nothing listening on its port."""
    sshd = sshd_factory.start("metrics-n1")
    (tmp_path / "known_hosts").write_text(sshd.known_hosts_line())
    textfile = prometheus_server.node.textfile_dir / TEXTFILE
    config = tmp_path / "fleet.toml"
    config.write_text(
        f"""
[ssh]
known_hosts = "{tmp_path / "known_hosts"}"
config_file = "{tmp_path / "no-ssh-config"}"
use_agent = false
connect_timeout = 5.0
connect_attempts = 1

[[servers]]
name = "n1"
host = "127.0.0.1"
port = {sshd.port}
user = "root"
role = "app"
identity_file = "{sshd_factory.client_key.private}"

[[servers]]
name = "n2"
host = "127.0.0.1"
port = {free_port()}
user = "root"
role = "db"
identity_file = "{sshd_factory.client_key.private}"

[output]
root = "{tmp_path / "out"}"

[metrics]
textfile = "{textfile}"
"""
    )
    done = subprocess.run(
        [CLI, "run", "--config", str(config), "-q"], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == Exit.PARTIAL, done.stderr
    prometheus_server.wait_for('codeb_report_server_reachable{server="n2",role="db"} == 0')
    assert _value(prometheus_server, 'codeb_report_server_reachable{server="n1"}') == 1
    assert _value(prometheus_server, "codeb_report_run_exit_code") == Exit.PARTIAL
    [alert] = prometheus_server.wait_for('ALERTS{alertname="CodeBReportServerUnreachable"}')
    assert alert["metric"]["server"] == "n2" and alert["metric"]["alertstate"] == "firing"
    unreachable = 'codeb_report_findings{server="n2",priority="High",rule="server.unreachable"}'
    assert _value(prometheus_server, unreachable) == 1
