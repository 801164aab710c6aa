"""What a rule is: a named check over the snapshot that raises findings.

A rule is a plain function decorated with ``@rule("stable.id")``. The id is part of the
report's contract (diffs and mails refer to it), so it never changes once released. Rules
run in the order they are registered, and that order also breaks ties in section 5.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codeb_report.analysis.model import Finding, Level, Priority, Text
from codeb_report.snapshot import Server, Snapshot
from codeb_report.thresholds import Thresholds

if TYPE_CHECKING:
    from codeb_report.analysis.provider import ProviderView

FLEET = "전체"  # the 서버 column of a finding about the whole fleet


@dataclass(frozen=True)
class Hit:
    """A finding before it carries its rule's id, plus the server's 주의사항 bullets."""

    priority: Priority
    server: str
    title: str
    description: Text
    action: str
    level: Level = Level.WARN
    step: str | None = None
    summary: str | None = None
    notes: list[Text] = field(default_factory=list)

    def finding(self, rule_id: str) -> Finding:
        # Only High rows carry an icon, as in the reference's section 5.
        icon = self.level.icon if self.priority == Priority.HIGH else None
        return Finding(
            rule=rule_id,
            priority=self.priority,
            server=self.server,
            title=self.title,
            description=self.description,
            action=self.action,
            icon=icon,
            step=self.step,
            summary=self.summary,
        )


Check = Callable[[Snapshot, Thresholds], Iterable[Hit]]
# Provider rules read the provider view (the account joined to the servers and their
# history); they run only when the snapshot has a provider part.
ProviderCheck = Callable[["ProviderView", Snapshot, Thresholds], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    check: Check
    provider: ProviderCheck | None = None

    def run(self, snapshot: Snapshot, t: Thresholds, view: ProviderView | None) -> Iterable[Hit]:
        if self.provider is None:
            return self.check(snapshot, t)
        return self.provider(view, snapshot, t) if view is not None else ()


RULES: list[Rule] = []


def rule(rule_id: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if any(r.id == rule_id for r in RULES):
            raise ValueError(f"rule id {rule_id} registered twice")
        RULES.append(Rule(rule_id, check))
        return check

    return register


def provider_rule(rule_id: str) -> Callable[[ProviderCheck], ProviderCheck]:
    def register(check: ProviderCheck) -> ProviderCheck:
        if any(r.id == rule_id for r in RULES):
            raise ValueError(f"rule id {rule_id} registered twice")
        RULES.append(Rule(rule_id, lambda _s, _t: (), check))
        return check

    return register


def reachable(snapshot: Snapshot) -> Iterator[Server]:
    return (s for s in snapshot.servers if s.reachable)
