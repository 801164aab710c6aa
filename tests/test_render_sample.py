"""Hand-built snapshots and analyses for the renderer tests (analysis has its own tests).

Hostile names (``a|b``, ``<script>``, ``**x**``, newlines, backticks) sit in every place
collected text reaches the report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codeb_report.analysis.model import (
    Analysis,
    Assessment,
    Finding,
    Level,
    Priority,
    Resource,
    ServerAnalysis,
    Status,
    code,
    text,
)
from codeb_report.snapshot import (
    BackupDir,
    Centrifugo,
    Container,
    ListeningPort,
    Memory,
    PortMapping,
    PostgreSQL,
    ProbeOutcome,
    ProbeStatus,
    Redis,
    Server,
    Service,
    Snapshot,
    SystemInfo,
)

AT = datetime(2025, 12, 20, 9, 0, tzinfo=UTC)
GiB = 1024**3

HOSTILE = {
    "pipe": "a|b",
    "script": "<script>alert(1)</script>",
    "bold": "**x**",
    "newline": "line1\nline2",
    "backtick": "tick`name",
    "link": "[click](http://127.0.0.1:9/x)",
    "heading": "# not a heading",
    "img": '<img src="http://127.0.0.1:9/y.png">',
}


def ok(word: str) -> Status:
    return Status(level=Level.OK, word=word)


def app_server(name: str = "n1", **over: object) -> Server:
    fields: dict[str, object] = {
        "name": name,
        "host": f"{name}.example.test",
        "address": "192.0.2.10",
        "role": "App Server",
        "reachable": True,
        "system": SystemInfo(
            hostname=f"{name}-app", uptime_seconds=80 * 86400, load=(0.09, 0.05, 0.02)
        ),
        "memory": Memory(total=15 * GiB, used=GiB, available=14 * GiB),
        "containers": [
            Container(
                runtime="docker",
                name="codeb-dashboard",
                image="codeb/dashboard:1",
                state="running",
                ports=[PortMapping(host_ip="0.0.0.0", host_port=3100, container_port=3000)],
                started_at=AT - timedelta(hours=25),
            ),
            Container(runtime="docker", name="old-job", image="x", state="exited"),
        ],
        "services": [
            Service(
                unit="codeb-watchdog.service",
                active="active",
                sub="running",
                description="워치독 모니터",
            ),
        ],
        "ports": [
            ListeningPort(address="0.0.0.0", port=3100, process="docker-proxy"),
            ListeningPort(address="::", port=3100, process="docker-proxy"),
            ListeningPort(address="127.0.0.1", port=5432, process="postgres"),
        ],
        "probes": [ProbeOutcome(probe="system", status=ProbeStatus.OK)],
    }
    fields.update(over)
    return Server.model_validate(fields)


def fleet() -> Snapshot:
    stream = app_server(
        "n2",
        role="Streaming",
        containers=[],
        centrifugo=Centrifugo(
            version="5.4.9",
            go_version="1.23.4",
            engine="Memory",
            port=8000,
            active="active",
            active_since=AT - timedelta(hours=42),
            memory_bytes=95_300_000,
            cpu_seconds=203,
            allowed_origins=["*"],
        ),
        probes=[
            ProbeOutcome(probe="docker", status=ProbeStatus.SKIPPED, reason="docker not installed")
        ],
    )
    storage = app_server(
        "n3",
        role="Storage (DB)",
        postgresql=PostgreSQL(running=True, runtime="podman", container="codeb-postgres"),
        redis=Redis(running=True, runtime="podman", container="codeb-redis", auth_required=True),
    )
    backup = app_server(
        "n4",
        role="Backup",
        backups=[BackupDir(path="/opt/codeb/backups", exists=True)],
    )
    down = Server(
        name="n5", host="n5.example.test", role="Spare", reachable=False, error="connection refused"
    )
    return Snapshot(
        collected_at=AT,
        collector_version="0.1.0",
        servers=[app_server(), stream, storage, backup, down],
    )


def judged(server: Server) -> ServerAnalysis:
    if not server.reachable:
        return ServerAnalysis(name=server.name, state=Status(level=Level.CRIT, word="연결 실패"))
    return ServerAnalysis(
        name=server.name,
        state=ok("Active"),
        uptime="80일",
        resources=[
            Resource(
                item="Memory", value="15GB (Total)", usage="1.5GB 사용 (10%)", status=ok("여유")
            ),
            Resource(
                item="Load Average", value="0.09, 0.05, 0.02", usage="매우 낮음", status=ok("안정")
            ),
        ],
        container_states={"codeb-dashboard": ok("Up")},
        service_states={"codeb-watchdog.service": ok("Active")},
    )


def analysis_of(snapshot: Snapshot, notes: dict[str, list] | None = None) -> Analysis:
    servers = [judged(s) for s in snapshot.servers]
    for s in servers:
        s.notes = (notes or {}).get(s.name, [])
    return Analysis(
        servers=servers,
        findings=[
            Finding(
                rule="backup.empty",
                priority=Priority.HIGH,
                server="n4",
                title="백업 미설정",
                description=text(code("/opt/codeb/backups"), " 비어있음"),
                action="백업 자동화 설정",
                icon=Level.WARN.icon,
            ),
            Finding(
                rule="fleet.idle",
                priority=Priority.LOW,
                server="전체",
                title="리소스 여유",
                description=text("모든 서버 리소스 10% 미만 사용"),
                action="현재 스케일 적정",
            ),
        ],
        assessment=[Assessment(status=ok("안정"), topic="안정성", text="모든 4대 서버 정상 가동")],
        next_steps=["n4 백업 자동화 설정", "모니터링 대시보드 구축"],
    )


def hostile_fleet() -> tuple[Snapshot, Analysis]:
    """Every collected string the report prints, set to something that looks like markup."""
    h = HOSTILE
    server = app_server(
        "n1",
        host=h["img"],
        role=h["bold"],
        system=SystemInfo(hostname=h["pipe"]),
        containers=[
            Container(
                runtime="docker",
                name=h["script"],
                image=h["link"],
                state="running",
                started_at=AT - timedelta(hours=1),
            )
        ],
        services=[
            Service(unit=h["backtick"], active="active", sub="running", description=h["newline"])
        ],
        ports=[ListeningPort(address="0.0.0.0", port=80, process=h["heading"])],
        backups=[BackupDir(path=h["pipe"] + "`" + h["script"], exists=True)],
    )
    snapshot = Snapshot(collected_at=AT, collector_version="0.1.0", servers=[server])
    notes = {"n1": [text("경로 ", code(h["script"]), " 그리고 ", h["link"])]}
    return snapshot, analysis_of(snapshot, notes)


def test_sample_fleet_is_a_valid_snapshot() -> None:
    from codeb_report.snapshot import dumps, parse

    snapshot = fleet()
    assert parse(dumps(snapshot), "sample") == parse(dumps(parse(dumps(snapshot), "s")), "s")
    assert [s.name for s in snapshot.servers] == ["n1", "n2", "n3", "n4", "n5"]
