"""Servers found by ``[prometheus] servers``: every series of a selector is one server.

The rule, documented in docs/prometheus.md:

* name: the value of the first of ``name_labels`` (default ``name``, ``nodename``) the
  series has, else its ``instance`` without the port (``10.0.0.7:9100`` -> ``10.0.0.7``);
* role: the ``role_label`` (default ``role``) value, else ``default_role``;
* its series: those with the same ``instance`` and ``job`` (all labels when it has neither);
* found: every series the selector had in the last day (a target silent since is
  reported stale rather than dropped);
* duplicates: one instance found under several jobs is one server (the first job by name);
  a server the configuration's ``[[servers]]`` already selects is left to that entry; two
  different instances with one name become ``name@host`` (``name@instance`` if still equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from codeb_report.logs import get_logger
from codeb_report.prometheus.client import Labels, PrometheusClient
from codeb_report.prometheus.collect import SILENT_WINDOW, Target
from codeb_report.prometheus.matchers import Index, Matcher, parse_selector, selector
from codeb_report.prometheus.settings import PrometheusSettings

log = get_logger("prometheus")
IDENTITY = ("instance", "job")
WINDOW = SILENT_WINDOW


@dataclass(frozen=True)
class Found:
    target: Target
    host: str
    role: str
    instance: str


def host_of(instance: str) -> str:
    """``10.0.0.7:9100`` -> ``10.0.0.7``; ``[::1]:9100`` -> ``::1``; no port: as it is."""
    if instance.startswith("["):
        return instance[1:].partition("]")[0]
    head, sep, port = instance.rpartition(":")
    return head if sep and port.isdigit() and ":" not in head else instance


def _identity(labels: Labels) -> tuple[Matcher, ...]:
    keys = [k for k in IDENTITY if k in labels] or sorted(k for k in labels if k != "__name__")
    return tuple(Matcher(k, "=", labels[k]) for k in keys)


def discover(
    client: PrometheusClient,
    settings: PrometheusSettings,
    at: float,
    configured: list[Target],
) -> list[Found]:
    """The selector's series as servers, named and deduplicated by the rule above."""
    assert settings.servers is not None
    metric, matchers = parse_selector(settings.servers)
    # Over the last day, not the instant: a target that went silent tonight stays a
    # server, reported as stale, instead of quietly leaving the report.
    samples = client.query(f"last_over_time({selector(metric or '', matchers)}[{WINDOW}])", at)
    taken = {t.name for t in configured}
    # By their instance label first: a thousand [[servers]] beside a thousand discovered
    # targets would otherwise be a million matches.
    collected = Index({t.name: t.matchers for t in configured}, "instance")
    by_instance: dict[str, Labels] = {}
    ordered = sorted(samples, key=lambda s: (s.labels.get("job", ""), sorted(s.labels.items())))
    for sample in ordered:
        labels = {k: v for k, v in sample.labels.items() if k != "__name__"}
        key = labels.get("instance") or repr(sorted(labels.items()))
        if key in by_instance:
            log.info("discovered %s again under job %s: counted once", key, labels.get("job"))
            continue
        if collected.owners(labels):
            continue  # a [[servers]] entry already collects it
        by_instance[key] = labels
    found: list[Found] = []
    names = set(taken)
    for instance, labels in sorted(by_instance.items()):
        host = host_of(labels.get("instance", instance))
        name = next((labels[k] for k in settings.name_labels if labels.get(k)), host)
        for candidate in (name, f"{name}@{host}", f"{name}@{instance}"):
            if candidate not in names:
                break
        else:
            log.warning("discovered target %s left out: its name %s is taken", instance, name)
            continue
        if candidate != name:
            log.warning("discovered target %s named %s: %s is taken", instance, candidate, name)
        names.add(candidate)
        role = labels.get(settings.role_label) or settings.default_role
        found.append(Found(Target(candidate, _identity(labels)), host, role, instance))
    return found
