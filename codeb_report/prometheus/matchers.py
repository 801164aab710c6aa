"""PromQL label matchers: ``instance="{host}:9100", job="node"``.

A server's series are found by a list of matchers. The fleet's figures are fetched with
one query per figure for all servers at once, narrowed by the one label every server
matches by equality (``instance=~"a:9100|b:9100"``); each returned series is then given
to the server whose matchers it satisfies. Matching here follows PromQL: a missing label
is the empty string, and a regular expression must match the whole value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

DEFAULT_TEMPLATE = 'instance="{host}:9100"'
# The placeholders a template may use, filled in per server (escaped for PromQL).
PLACEHOLDERS = ("{host}", "{name}")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_MATCHER = re.compile(rf'\s*({_NAME})\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_UNESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, !=, =~, !~
    value: str

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(self.value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        have = labels.get(self.label, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = self._regex.fullmatch(have) is not None
        return found if self.op == "=~" else not found

    def promql(self) -> str:
        return f'{self.label}{self.op}"{quote(self.value)}"'


def quote(value: str) -> str:
    """``value`` inside a PromQL double-quoted string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """``a="x", b=~"y.*"`` (braces optional); ValueError names what is wrong."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[Matcher] = []
    position = 0
    while position < len(body) and body[position:].strip():
        m = _MATCHER.match(body, position)
        if m is None:
            raise ValueError(f'not a label matcher list at {body[position:]!r} (e.g. job="node")')
        value = _UNESCAPE.sub(lambda e: "\n" if e[1] == "n" else e[1], m[3])
        matcher = Matcher(m[1], m[2], value)
        if matcher.op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{m[1]}: bad regular expression: {exc}") from None
        matchers.append(matcher)
        position = m.end()
    if not matchers:
        raise ValueError('no label matcher (e.g. instance="{host}:9100")')
    return tuple(matchers)


def fill_template(template: str, host: str, name: str) -> tuple[Matcher, ...]:
    """The template with ``{host}`` and ``{name}`` filled in, as matchers."""
    text = template.replace("{host}", quote(host)).replace("{name}", quote(name))
    return parse_matchers(text)


def check_template(template: str) -> str:
    """A template that parses for any host (used by the configuration's validator)."""
    fill_template(template, "host.example", "name")
    return template


def selector(metric: str, matchers: Iterable[Matcher]) -> str:
    inner = ",".join(m.promql() for m in matchers)
    return f"{metric}{{{inner}}}"


def fleet_filter(servers: Iterable[tuple[Matcher, ...]]) -> tuple[Matcher, ...]:
    """One matcher selecting every server's series at once, or none when the servers
    share no label they match by equality (then the whole metric is read)."""
    matcher_sets = list(servers)
    if not matcher_sets:
        return ()
    common = None
    for matchers in matcher_sets:
        labels = {m.label for m in matchers if m.op == "="}
        common = labels if common is None else common & labels
    if not common:
        return ()
    label = "instance" if "instance" in common else sorted(common)[0]
    values = sorted(
        {m.value for ms in matcher_sets for m in ms if m.label == label and m.op == "="}
    )
    if len(values) == 1:
        return (Matcher(label, "=", values[0]),)
    return (Matcher(label, "=~", "|".join(re.escape(v) for v in values)),)


class Index:
    """Finds the server a series belongs to: by the filter label's value, then the rest."""

    def __init__(self, servers: Mapping[str, tuple[Matcher, ...]], key: str | None) -> None:
        self.key = key
        self._by_value: dict[str, list[tuple[str, tuple[Matcher, ...]]]] = {}
        self._all: list[tuple[str, tuple[Matcher, ...]]] = []
        for name, matchers in servers.items():
            value = next((m.value for m in matchers if m.label == key and m.op == "="), None)
            if key is not None and value is not None:
                self._by_value.setdefault(value, []).append((name, matchers))
            else:
                self._all.append((name, matchers))

    def owners(self, labels: Mapping[str, str]) -> list[str]:
        candidates = self._all
        if self.key is not None:
            candidates = [*self._by_value.get(labels.get(self.key, ""), []), *self._all]
        return [name for name, ms in candidates if all(m.matches(labels) for m in ms)]


_SELECTOR = re.compile(rf"^\s*({_NAME}(?::{_NAME})*)?\s*(\{{.*\}})?\s*$", re.S)


def parse_selector(text: str) -> tuple[str | None, tuple[Matcher, ...]]:
    """``up{job="node"}`` -> ("up", (job="node",)); a metric name, matchers or both."""
    m = _SELECTOR.match(text)
    if m is None or not (m[1] or m[2]):
        raise ValueError(f'{text!r} is not a series selector (e.g. up{{job="node"}})')
    return m[1], parse_matchers(m[2]) if m[2] else ()
