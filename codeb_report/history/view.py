"""A diff as the report shows it: titled tables of Korean cells, ready for a template.

Cells are plain strings of collected text; the Markdown template escapes every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo

from codeb_report.history import summary as s
from codeb_report.history.diff import FindingState, SnapshotDiff


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class DiffView:
    old_label: str  # "2025-12-19 03:00"
    new_label: str
    summary: list[str]
    tables: list[Table] = field(default_factory=list)
    note: str | None = None  # said instead of tables, e.g. when there is no earlier snapshot


def _tables(diff: SnapshotDiff, zone: tzinfo | None) -> list[Table]:
    tables = [
        Table(
            "서버",
            ["서버", "변경", "내용"],
            [[c.server, s.SERVER_EVENTS[c.event], c.error or c.role or ""] for c in diff.servers],
        ),
        Table(
            "리소스 사용률",
            ["서버", "항목", "이전", "현재", "변화"],
            [
                [
                    c.server,
                    s.resource_item(c),
                    s.percent(c.before_pct, c.before_used),
                    s.percent(c.after_pct, c.after_used),
                    s.delta(c),
                ]
                for c in diff.resources
            ],
        ),
        Table(
            "컨테이너",
            ["서버", "컨테이너", "변경", "이전 → 현재"],
            [
                [c.server, c.name, s.CONTAINER_EVENTS[c.event], s.container_detail(c, zone)]
                for c in diff.containers
            ],
        ),
        Table(
            "서비스",
            ["서버", "서비스", "이전", "현재"],
            [
                [c.server, s.unit_name(c.unit), c.before or s.ABSENT, c.after or s.ABSENT]
                for c in diff.services
            ],
        ),
        Table(
            "포트",
            ["서버", "포트", "주소", "변경", "프로세스"],
            [
                [
                    c.server,
                    f"{c.port}/{c.protocol}",
                    c.address,
                    s.PORT_EVENTS[c.event],
                    c.process or "-",
                ]
                for c in diff.ports
            ],
        ),
        Table(
            "발견 사항",
            ["상태", "우선순위", "서버", "항목", "경과"],
            [
                [
                    ("➖ 서버 제거" if c.server_gone else s.finding_state(c)),
                    c.finding.priority.value,
                    c.finding.server,
                    c.finding.title,
                    _days(c.state, c.days_open),
                ]
                for c in diff.findings
            ],
        ),
        Table("비교하지 못한 항목", ["서버", "항목", "이유"], _not_compared(diff)),
    ]
    return [t for t in tables if t.rows]


SECTIONS = {
    "all": "전체",
    "memory": "메모리",
    "disk": "디스크",
    "containers": "컨테이너",
    "services": "서비스",
    "ports": "포트",
}


def _not_compared(diff: SnapshotDiff) -> list[list[str]]:
    """Sections one side did not see, then findings the new snapshot could not check
    (unless their whole server is listed already)."""
    rows = [[c.server, SECTIONS.get(c.section, c.section), c.reason] for c in diff.not_compared]
    whole = {c.server for c in diff.not_compared if c.section == "all"}
    rows += [
        [c.finding.server, f"발견 사항: {c.finding.title}", c.unseen or ""]
        for c in diff.findings_in(FindingState.UNKNOWN)
        if c.finding.server not in whole
    ]
    return rows


def _days(state: FindingState, days: int | None) -> str:
    if state in (FindingState.RESOLVED, FindingState.UNKNOWN) or days is None:
        return "-"
    if days == 0:  # open on both sides yet counted from the old snapshot: less than a day
        return "오늘 발생" if state == FindingState.NEW else "1일 미만"
    return f"{days}일째"


def diff_view(diff: SnapshotDiff, zone: tzinfo | None = None) -> DiffView:
    """``zone``: the report's time zone, in which every time is shown."""
    return DiffView(
        old_label=s.when(diff.old_at, zone),
        new_label=s.when(diff.new_at, zone),
        summary=s.summary_lines(diff, zone),
        tables=_tables(diff, zone),
    )


def no_previous_view(before: date) -> DiffView:
    """The section when output/ holds no snapshot older than this report."""
    return DiffView(
        old_label="-",
        new_label=before.isoformat(),
        summary=[],
        note=f"{before.isoformat()} 이전의 스냅샷이 없어 비교할 수 없습니다.",
    )
