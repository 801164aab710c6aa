"""Real Prometheus and node_exporter (Debian's packages) on 127.0.0.1 and random ports.

node_exporter runs with its textfile collector on a folder of the test's and only the
load, memory and filesystem collectors besides; Prometheus scrapes it every second and
loads codeb-report's alert rules. Each fixture checks that the server answering on its
port is the one it started (a packaged Prometheus left running on 9090 is never used).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers.ports import free_port, wait_listening

PROMETHEUS = "/usr/bin/prometheus"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
RULES = Path(__file__).resolve().parents[2] / "docs" / "prometheus" / "codeb-report.rules.yml"
SCRAPE_INTERVAL = "1s"


def _get(url: str, timeout: float = 10.0) -> bytes:
    # 127.0.0.1 only: the URL is built from the fixture's own port.
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.read()


@dataclass(frozen=True)
class NodeExporter:
    port: int
    textfile_dir: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def scrape(self) -> str:
        return _get(f"http://{self.target}/metrics").decode("utf-8")


@dataclass(frozen=True)
class PrometheusServer:
    port: int
    storage: Path
    node: NodeExporter

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, **params: str) -> dict[str, Any]:
        """A GET on the HTTP API; an error answer (HTTP 400/422) is returned, not raised."""
        query = urllib.parse.urlencode(params)
        try:
            body = _get(f"{self.url}/api/v1/{path}?{query}")
        except urllib.error.HTTPError as exc:
            body = exc.read()
        return json.loads(body)

    def query(self, expr: str) -> dict[str, Any]:
        return self.api("query", query=expr)

    def wait_for(self, expr: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The instant vector ``expr`` once it is not empty (scrapes come every second)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.query(expr)
            assert answer["status"] == "success", answer
            if answer["data"]["result"]:
                return answer["data"]["result"]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expr}: still empty after {timeout:g} s")
            time.sleep(0.2)


def _require(binary: str, package: str) -> None:
    if not Path(binary).exists():
        pytest.skip(f"{binary} is not installed (Debian {package}, scripts/apt-packages-test.txt)")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeExporter]:
    _require(NODE_EXPORTER, "prometheus-node-exporter")
    work = tmp_path_factory.mktemp("node-exporter")
    textfiles = work / "textfile"
    textfiles.mkdir()
    port = free_port()
    argv = [
        NODE_EXPORTER,
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.textfile",
        f"--collector.textfile.directory={textfiles}",
        "--collector.loadavg",
        "--collector.meminfo",
        "--collector.filesystem",
        "--log.level=warn",
    ]
    with (work / "log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port)
        node = NodeExporter(port, textfiles)
        # Ours, not a packaged one: it reports the mtime of a file only our folder holds.
        (textfiles / "fixture.prom").write_text("codeb_report_test_fixture 1\n")
        marker = f'node_textfile_mtime_seconds{{file="{textfiles / "fixture.prom"}"}}'
        assert marker in node.scrape(), "the node_exporter on the port is not the fixture's"
        yield node
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def prometheus_server(
    tmp_path_factory: pytest.TempPathFactory, node_exporter: NodeExporter
) -> Iterator[PrometheusServer]:
    _require(PROMETHEUS, "prometheus")
    work = tmp_path_factory.mktemp("prometheus")
    rules = work / "codeb-report.rules.yml"
    shutil.copyfile(RULES, rules)
    config = work / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {
                    "scrape_interval": SCRAPE_INTERVAL,
                    "evaluation_interval": SCRAPE_INTERVAL,
                },
                "rule_files": [str(rules)],
                "scrape_configs": [
                    {
                        "job_name": "node",
                        "static_configs": [{"targets": [node_exporter.target]}],
                    }
                ],
            }
        )
    )
    port = free_port()
    storage = work / "data"
    argv = [
        PROMETHEUS,
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with (work / "log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port, timeout=30)
        server = PrometheusServer(port, storage, node_exporter)
        _wait_ready(server)
        flags = server.api("status/flags")["data"]
        assert flags["storage.tsdb.path"] == str(storage), "not the fixture's Prometheus"
        yield server
    finally:
        _stop(proc)


def _wait_ready(server: PrometheusServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _get(f"{server.url}/-/ready")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
