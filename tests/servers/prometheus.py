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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

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


# Synthetic fleets and Prometheus processes of the tests' own making (the Prometheus source,
# bench/prometheus_collect.py): ``start_prometheus`` runs Debian's prometheus on a random
# port with its own data folder; ``load_openmetrics`` turns OpenMetrics text into TSDB
# blocks with ``promtool tsdb create-blocks-from openmetrics`` before it starts, so tests
# read a synthetic fleet's history through the real HTTP API. ``SyntheticNode`` describes
# one node_exporter target; ``write_fleet`` writes every target's history-relevant series
# (memory, load, filesystems) every ``step`` seconds over ``days``, and the rest (uname,
# OS, boot time, CPUs, up) at the last two points only, which keeps a 1,000-target month
# small enough to build in seconds. ``canned_http`` answers like a broken Prometheus.

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
GIB = 1024**3


@dataclass
class LocalPrometheus:
    url: str
    port: int
    data: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_prometheus(
    work: Path,
    config: str = "global:\n  scrape_interval: 1m\n",
    data: Path | None = None,
    extra_args: list[str] | None = None,
    web_config: str | None = None,
    ca_file: Path | None = None,
) -> LocalPrometheus:
    """Prometheus on 127.0.0.1 and a random port, ready (``/-/ready``) when returned."""
    _require(PROMETHEUS, "prometheus")
    work.mkdir(parents=True, exist_ok=True)
    data = data or work / "data"
    data.mkdir(exist_ok=True)
    (work / "prometheus.yml").write_text(config)
    port = free_port()
    argv = [
        PROMETHEUS,
        f"--config.file={work / 'prometheus.yml'}",
        f"--storage.tsdb.path={data}",
        "--storage.tsdb.retention.time=3650d",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
        *(extra_args or []),
    ]
    if web_config is not None:
        (work / "web.yml").write_text(web_config)
        argv.append(f"--web.config.file={work / 'web.yml'}")
    log = work / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    scheme = "https" if web_config and "tls_server_config" in web_config else "http"
    server = LocalPrometheus(f"{scheme}://127.0.0.1:{port}", port, data, process, log)
    try:
        _wait_until_ready(server, ca_file)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(
    server: LocalPrometheus, ca_file: Path | None = None, timeout: float = 60.0
) -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {server.log.read_text()[-2000:]}")
        try:
            ready = f"{server.url}/-/ready"
            with urllib.request.urlopen(ready, timeout=2, context=context) as answer:
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # behind basic auth: it answers, so it is up
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"prometheus not ready after {timeout:g} s")


@pytest.fixture(scope="session")
def full_node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeExporter]:
    """prometheus-node-exporter with its default collectors (uname, os, cpu, time…): what
    a fleet's exporters report, for the tests that read real metric names."""
    _require(NODE_EXPORTER, "prometheus-node-exporter")
    work = tmp_path_factory.mktemp("node-exporter-full")
    port = free_port()
    argv = [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    with (work / "log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port)
        yield NodeExporter(port, work)
    finally:
        _stop(proc)


def load_openmetrics(source: Path, data: Path) -> None:
    """TSDB blocks from OpenMetrics text, into a (not yet running) Prometheus' data folder."""
    _require(PROMTOOL, "prometheus")
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            PROMTOOL,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            "--max-block-duration=2400h",
            str(source),
            str(data),
        ],
        check=True,
        capture_output=True,
    )


@dataclass
class SyntheticFilesystem:
    mount: str
    device: str
    size: int
    used_start: int  # bytes used at the first point
    growth_per_day: int  # bytes a day (used grows linearly; available shrinks)
    fstype: str = "ext4"
    reserved: int = 0  # root's reserve: free - available


@dataclass
class SyntheticNode:
    """One node_exporter target of a synthetic fleet and the figures it reports."""

    instance: str
    labels: dict[str, str] = field(default_factory=dict)  # job and target labels
    nodename: str = "node"
    memory_total: int = 16 * GIB
    memory_used_pct: float = 20.0
    swap_total: int = 2 * GIB
    swap_free: int = 2 * GIB
    load: tuple[float, float, float] = (0.2, 0.3, 0.25)
    cpus: int = 4
    boot_time: float | None = None  # default: 40 days before the fleet's end
    release: str = "6.1.0-28-amd64"
    pretty_name: str = "Debian GNU/Linux 12 (bookworm)"
    filesystems: list[SyntheticFilesystem] = field(default_factory=list)
    last_seen: float = 0.0  # seconds before the fleet's end when its last sample was taken
    up: int = 1

    def all_labels(self) -> dict[str, str]:
        return {"instance": self.instance, "job": "node", **self.labels}


def _labels(labels: dict[str, str]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in sorted(labels.items())
    )
    return "{" + inner + "}"


def history_times(end: float, days: float, step: float) -> list[float]:
    """The grid of points: multiples of ``step`` over ``days`` before ``end``, then ``end``."""
    last = end - end % step
    count = int(days * 86400 // step)
    return [last - i * step for i in range(count, -1, -1)]


def write_fleet(
    path: Path, nodes: list[SyntheticNode], end: float, days: float, step: float
) -> None:
    """OpenMetrics text for every node: history every ``step`` seconds up to ``end``."""
    grid = history_times(end, days, step)
    with path.open("w") as out:
        _history(out, nodes, grid, end)
        _current(out, nodes, grid, end)
        out.write("# EOF\n")


def _times(node: SyntheticNode, grid: list[float], end: float) -> list[float]:
    until = end - node.last_seen
    times = [t for t in grid if t < until]
    return [*times, until]


def _history(out: TextIO, nodes: list[SyntheticNode], grid: list[float], end: float) -> None:
    start = grid[0]

    def memory_available(n: SyntheticNode, _t: float) -> float:
        return n.memory_total * (1 - n.memory_used_pct / 100)

    gauges = {
        "node_memory_MemTotal_bytes": lambda n, _t: n.memory_total,
        "node_memory_MemAvailable_bytes": memory_available,
        "node_memory_SwapTotal_bytes": lambda n, _t: n.swap_total,
        "node_memory_SwapFree_bytes": lambda n, _t: n.swap_free,
        "node_load1": lambda n, _t: n.load[0],
        "node_load5": lambda n, _t: n.load[1],
        "node_load15": lambda n, _t: n.load[2],
    }
    for metric, value in gauges.items():
        out.write(f"# TYPE {metric} gauge\n")
        for node in nodes:
            labels = _labels(node.all_labels())
            for t in _times(node, grid, end):
                out.write(f"{metric}{labels} {value(node, t):.15g} {t:.3f}\n")
    for metric in ("size", "free", "avail"):
        name = f"node_filesystem_{metric}_bytes"
        out.write(f"# TYPE {name} gauge\n")
        for node in nodes:
            for fs in node.filesystems:
                fs_labels = {"device": fs.device, "fstype": fs.fstype, "mountpoint": fs.mount}
                labels = _labels({**node.all_labels(), **fs_labels})
                for t in _times(node, grid, end):
                    used = min(fs.size, fs.used_start + fs.growth_per_day * (t - start) / 86400)
                    free = fs.size - used
                    value = {"size": fs.size, "free": free, "avail": max(free - fs.reserved, 0)}
                    out.write(f"{name}{labels} {value[metric]:.0f} {t:.3f}\n")


def _current(out: TextIO, nodes: list[SyntheticNode], grid: list[float], end: float) -> None:
    """Series only the latest figures read: at the last two points of each node."""

    def recent(node: SyntheticNode) -> list[float]:
        return _times(node, grid, end)[-2:]

    families: dict[str, list[str]] = {
        "up": [],
        "node_uname_info": [],
        "node_os_info": [],
        "node_boot_time_seconds": [],
        "node_time_seconds": [],
        "node_cpu_seconds_total": [],
    }
    for node in nodes:
        base = node.all_labels()
        boot = end - 40 * 86400 if node.boot_time is None else node.boot_time
        uname = _labels({**base, "nodename": node.nodename, "release": node.release,
                         "sysname": "Linux", "machine": "x86_64"})  # fmt: skip
        os_info = _labels({**base, "pretty_name": node.pretty_name, "id": "debian"})
        for t in recent(node):
            families["up"].append(f"up{_labels(base)} {node.up} {t:.3f}")
            families["node_uname_info"].append(f"node_uname_info{uname} 1 {t:.3f}")
            families["node_os_info"].append(f"node_os_info{os_info} 1 {t:.3f}")
            families["node_boot_time_seconds"].append(
                f"node_boot_time_seconds{_labels(base)} {boot:.3f} {t:.3f}"
            )
            families["node_time_seconds"].append(
                f"node_time_seconds{_labels(base)} {t:.3f} {t:.3f}"
            )
            for cpu in range(node.cpus):
                labels = _labels({**base, "cpu": str(cpu), "mode": "idle"})
                families["node_cpu_seconds_total"].append(
                    f"node_cpu_seconds_total{labels} {t - boot:.3f} {t:.3f}"
                )
    for family, lines in families.items():
        out.write(f"# TYPE {family} unknown\n")
        out.writelines(line + "\n" for line in lines)


@dataclass
class CannedAnswer:
    """What ``canned_http`` answers every request with."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0  # seconds before answering: longer than the client waits = timeout
    requests: list[str] = field(default_factory=list)  # paths asked, in order
    headers: list[dict[str, str]] = field(default_factory=list)  # their headers


@pytest.fixture
def canned_http() -> Iterator[tuple[str, CannedAnswer]]:
    """A real HTTP server on 127.0.0.1 answering every request with one canned answer
    (a Prometheus error shape as its API documents it, an HTML page, a slow answer)."""
    import http.server
    import threading

    answer = CannedAnswer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self) -> None:
            answer.requests.append(self.path)
            answer.headers.append(dict(self.headers.items()))
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            time.sleep(answer.delay)
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = _reply

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answer
    finally:
        server.shutdown()
        server.server_close()
