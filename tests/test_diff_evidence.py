"""A finding is resolved only when the new snapshot collected what its rule reads.

On the example fleet: n2 has "Centrifugo 보안" (allowed_origins: *), n4 "백업 미설정".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from codeb_report.analysis import analyse
from codeb_report.analysis.rules import RULES
from codeb_report.history.compare import diff_with_findings
from codeb_report.history.diff import FindingState, SnapshotDiff
from codeb_report.history.evidence import FORECAST_RULE, RULE_PROBES
from codeb_report.history.summary import summary_lines
from codeb_report.history.trends import FORECAST_RULE as TRENDS_FORECAST_RULE
from codeb_report.history.view import diff_view
from codeb_report.render.diff_report import diff_markdown
from codeb_report.snapshot import ProbeOutcome, ProbeStatus, Snapshot, load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"
OLD = load(EXAMPLE)
CENTRIFUGO = ("centrifugo.allowed_origins_any", "n2")
BACKUP = ("backup.missing", "n4")


def _diff(new: Snapshot) -> SnapshotDiff:
    return diff_with_findings(OLD, new, analyse)


def _state(diff: SnapshotDiff, key: tuple[str, str]) -> FindingState:
    [change] = [c for c in diff.findings if c.key == key]
    return change.state


def _changed(edit) -> Snapshot:
    new = OLD.model_copy(deep=True)
    edit(new)
    return new


def _fail(snapshot: Snapshot, server: str, prefix: str) -> None:
    target = snapshot.server(server)
    assert target is not None
    for outcome in target.probes:
        if outcome.probe.startswith(prefix):
            outcome.status, outcome.reason = ProbeStatus.FAILED, "timed out after 10s"


def test_unreachable_server_findings_are_unknown_not_resolved() -> None:
    def lose_n2(s: Snapshot) -> None:
        n2 = s.server("n2")
        assert n2 is not None
        n2.reachable, n2.error, n2.centrifugo = False, "connection timed out", None

    diff = _diff(_changed(lose_n2))
    assert _state(diff, CENTRIFUGO) == FindingState.UNKNOWN
    lines = summary_lines(diff)
    assert not [line for line in lines if "해결" in line]
    markdown = diff_markdown(diff_view(diff))
    assert "✅ 해결" not in markdown
    assert "| ❔ 확인 불가 | High | n2 | Centrifugo 보안 |" in markdown


def test_failed_centrifugo_probes_leave_its_findings_unknown() -> None:
    def fail_centrifugo(s: Snapshot) -> None:
        _fail(s, "n2", "centrifugo.")
        n2 = s.server("n2")
        assert n2 is not None
        n2.centrifugo = None

    diff = _diff(_changed(fail_centrifugo))
    assert _state(diff, CENTRIFUGO) == FindingState.UNKNOWN
    lines = summary_lines(diff)
    assert "❔ 확인 불가: n2 Centrifugo 보안 (현재 스냅샷에서 centrifugo.config 수집 실패)" in lines
    assert not [line for line in lines if line.startswith("✅")]


def test_timed_out_backup_probe_leaves_backup_missing_unknown() -> None:
    def fail_backups(s: Snapshot) -> None:
        _fail(s, "n4", "backups")
        n4 = s.server("n4")
        assert n4 is not None
        n4.backups = []

    diff = _diff(_changed(fail_backups))
    assert _state(diff, BACKUP) == FindingState.UNKNOWN
    rows = next(t for t in diff_view(diff).tables if t.title == "비교하지 못한 항목").rows
    assert ["n4", "발견 사항: 백업 미설정", "현재 스냅샷에서 backups 수집 실패"] in rows


def test_a_probe_missing_from_the_new_snapshot_is_not_proof_either() -> None:
    def drop_backups(s: Snapshot) -> None:
        n4 = s.server("n4")
        assert n4 is not None
        n4.backups = []
        n4.probes = [p for p in n4.probes if p.probe != "backups"]

    diff = _diff(_changed(drop_backups))
    assert _state(diff, BACKUP) == FindingState.UNKNOWN
    assert diff.changed


def test_findings_fixed_with_their_probes_collected_are_resolved() -> None:
    def fix(s: Snapshot) -> None:
        n2, n4 = s.server("n2"), s.server("n4")
        assert n2 is not None and n2.centrifugo is not None and n4 is not None
        n2.centrifugo.allowed_origins = ["https://app.example.com"]
        n4.backups[0].files = 3
        n4.backups[0].newest_mtime = s.collected_at

    diff = _diff(_changed(fix))
    assert _state(diff, CENTRIFUGO) == FindingState.RESOLVED
    assert _state(diff, BACKUP) == FindingState.RESOLVED
    lines = summary_lines(diff)
    assert "✅ 해결: n2 Centrifugo 보안" in lines
    assert "✅ 해결: n4 백업 미설정" in lines


def test_one_of_alternative_probes_collected_is_enough() -> None:
    # container.down reads docker or podman; n1 runs docker, podman is skipped there.
    # It judges containers nobody watches, so n1's first one is left unwatched here.
    base = OLD.model_copy(deep=True)
    watcher = base.server("n1")
    assert watcher is not None and watcher.containers
    watcher.watched = [w for w in watcher.watched if w.name != watcher.containers[0].name]
    new, old = base.model_copy(deep=True), base.model_copy(deep=True)
    n1 = old.server("n1")
    assert n1 is not None
    n1.containers[0].state = "exited"
    n1.containers[0].status = "Exited (1) 2 hours ago"
    diff = diff_with_findings(old, new, analyse)
    assert _state(diff, ("container.down", "n1")) == FindingState.RESOLVED
    skipped = new.server("n1")
    assert skipped is not None
    skipped.probes = [p for p in skipped.probes if p.probe != "docker"]
    skipped.probes.append(ProbeOutcome(probe="docker", status=ProbeStatus.FAILED, reason="x"))
    diff = diff_with_findings(old, new, analyse)
    assert _state(diff, ("container.down", "n1")) == FindingState.UNKNOWN


def test_every_rule_names_the_probes_it_reads() -> None:
    assert {r.id for r in RULES} | {FORECAST_RULE} == set(RULE_PROBES)
    assert FORECAST_RULE == TRENDS_FORECAST_RULE


def test_cli_repro_no_resolved_line_for_an_unreachable_server(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for one in data["servers"]:
        if one["name"] == "n2":
            one["reachable"] = False
    new = tmp_path / "new.json"
    new.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "codeb-report"), "diff", str(EXAMPLE), str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "해결" not in run.stdout
    assert "❔ 확인 불가 | High | n2 | Centrifugo 보안" in run.stdout
