"""What the analysis hands the renderers: judged figures, findings and the conclusion.

Texts here are what the report's reader sees (Korean); collected values inside them stay
separate ``Span``s so each output format can escape or mark them up its own way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from codeb_report.analysis.provider import ProviderView
    from codeb_report.analysis.usage import Peak


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"

    @property
    def icon(self) -> str:
        return {"ok": "✅", "warn": "⚠️", "crit": "❌"}[self.value]


class Status(BaseModel):
    """A judged figure: ``✅ 여유``."""

    level: Level
    word: str

    @property
    def icon(self) -> str:
        return self.level.icon

    @property
    def label(self) -> str:
        return f"{self.icon} {self.word}"


class Span(BaseModel):
    """A piece of report text; ``code`` marks collected values shown as code (paths, settings)."""

    text: str
    code: bool = False


Text = list[Span]


def text(*parts: str | Span) -> Text:
    """Build report text: plain strings are prose, Spans keep their own kind."""
    return [p if isinstance(p, Span) else Span(text=p) for p in parts]


def code(value: str) -> Span:
    return Span(text=value, code=True)


class Priority(StrEnum):
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"


class Finding(BaseModel):
    """One row of section 5; ``rule`` is the stable id of the rule that raised it."""

    rule: str
    priority: Priority
    server: str  # a server name, or "전체" for the whole fleet
    title: str  # 항목
    description: Text  # 설명
    action: str  # 조치
    icon: str | None = None  # shown before the title, e.g. ⚠️ or ❌
    step: str | None = None  # 다음 단계 wording when the action alone lacks its subject
    summary: str | None = None  # short phrase for 현재 상태 평가, e.g. "백업 디렉토리 비어있음"


class Resource(BaseModel):
    """One row of 리소스 현황: 항목 | 값 | 사용률 | 상태."""

    item: str  # Memory, Disk, Load Average, Swap
    value: str  # "15GB (Total)"
    usage: str  # "1.5GB 사용 (10%)" or "매우 낮음"
    status: Status


class ServerAnalysis(BaseModel):
    name: str
    state: Status  # ✅ Active / ❌ 연결 실패
    uptime: str | None = None  # "80일"
    resources: list[Resource] = Field(default_factory=list)
    container_states: dict[str, Status] = Field(default_factory=dict)  # by container name
    service_states: dict[str, Status] = Field(default_factory=dict)  # by unit
    notes: list[Text] = Field(default_factory=list)  # 주의사항 bullets
    skipped: list[str] = Field(default_factory=list)  # "containers: docker not installed"


class Assessment(BaseModel):
    """One bullet of 현재 상태 평가: ``✅ **안정성**: 모든 4대 서버 정상 가동``."""

    status: Status
    topic: str
    text: str


class Analysis(BaseModel):
    servers: list[ServerAnalysis]
    findings: list[Finding]
    assessment: list[Assessment]
    next_steps: list[str]
    # The Vultr account joined to the servers (None without a provider part).
    provider: ProviderView | None = None
    # Each server's highest use over the history (analysis/usage.py): what right-sizing
    # and the scaling advice of sections 4 and 6 weigh.
    peaks: dict[str, Peak] = Field(default_factory=dict)

    def server(self, name: str) -> ServerAnalysis:
        return next(s for s in self.servers if s.name == name)

    def by_priority(self, priority: Priority) -> list[Finding]:
        return [f for f in self.findings if f.priority == priority]
