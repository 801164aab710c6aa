"""Every probe against recorded real outputs, data-driven like pyinfra's tests/facts.

Each ``tests/fixtures/probes/<probe>/<case>.json`` holds the probe's command, the
recorded output (stdout lines, and stderr and exit code where they matter) and either
the server fields the probe must fill (``expected``) or the outcome it must record
(``outcome``: skipped or failed, with words its reason must contain).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codeb_report.collect.batch import apply_run
from codeb_report.probes import default_probes
from codeb_report.probes.base import ProbeRun
from codeb_report.snapshot import ProbeStatus, Server

FIXTURES = Path(__file__).parent / "fixtures" / "probes"
PROBES = {probe.name: probe for probe in default_probes()}


def _fixtures() -> list[Path]:
    """This module's probes only: the stack probes' fixtures beside them have their own tests."""
    return sorted(path for name in PROBES for path in (FIXTURES / name).glob("*.json"))


def _cases() -> list[Any]:
    return [pytest.param(path, id=f"{path.parent.name}/{path.stem}") for path in _fixtures()]


def _text(lines: list[str] | str, ends_with_newline: bool = True) -> str:
    if isinstance(lines, str):
        return lines
    return "\n".join(lines) + ("\n" if ends_with_newline and lines else "")


def _run(case: dict[str, Any]) -> ProbeRun:
    stdout = _text(case["output"], not case.get("output_ends_without_newline", False))
    return ProbeRun(stdout, _text(case.get("stderr", [])), case.get("exit_code", 0))


def _blank_server() -> Server:
    return Server(name="n1", host="probe-test", role="test", reachable=True)


@pytest.mark.parametrize("path", _cases())
def test_probe_reads_recorded_output(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    probe = PROBES[path.parent.name]
    assert case["command"] == probe.command(), "fixture was recorded for another command"
    assert case.get("source"), "every fixture names where its output came from"

    server = _blank_server()
    outcome = apply_run(probe, _run(case), server)

    if "expected" in case:
        assert outcome.status == ProbeStatus.OK, outcome.reason
        dumped = server.model_dump(mode="json")
        for field, value in case["expected"].items():
            assert dumped[field] == value, field
    else:
        assert outcome.status == case["outcome"]["status"]
        assert case["outcome"]["reason"] in (outcome.reason or "")


@pytest.mark.parametrize("path", _cases())
def test_parse_is_pure(path: Path) -> None:
    """Parsing the same output twice gives the same value: no state, no clock, no I/O."""
    case = json.loads(path.read_text(encoding="utf-8"))
    if "expected" not in case:
        pytest.skip("output is not parsed")
    probe = PROBES[path.parent.name]
    run = _run(case)
    assert repr(probe.parse(run.stdout)) == repr(probe.parse(run.stdout))


def test_every_probe_has_recorded_outputs() -> None:
    counts = {name: len(list((FIXTURES / name).glob("*.json"))) for name in PROBES}
    assert all(count >= 1 for count in counts.values()), counts
    for name in ("docker", "podman", "services", "ports"):
        assert counts[name] >= 3, f"{name}: two versions and an odd case at least"


def test_fixtures_cover_several_versions() -> None:
    """The formats that changed between releases are each tested on both sides."""

    def stems(probe: str) -> set[str]:
        return {p.stem for p in (FIXTURES / probe).glob("*.json")}

    assert {"docker_20.10_cli_and_engine", "docker_28.2_cli_20.10_engine"} <= stems("docker")
    assert {"podman_4.3.1_debian12", "podman_4.8_plus_pod_member"} <= stems("podman")
    assert {"systemd_219_centos7_tty", "systemd_249_ubuntu2204_all"} <= stems("services")
    assert {"systemd_252_debian12"} <= stems("services")
    assert {"iproute2_6.1_debian12", "iproute2_5.5_ubuntu2004_socket_activation"} <= stems("ports")
    assert {"iproute2_4.15_ubuntu1804_unprivileged"} <= stems("ports")


def test_sources_are_documented() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for path in _fixtures():
        assert f"{path.parent.name}/{path.name}" in readme, f"{path} is not in README.md"


@pytest.mark.parametrize(
    ("probe", "output"),
    [
        ("docker", '{"ID":"1","Names":"x","Image":"y","Ports":"nonsense"}\n'),
        ("podman", "[{]\n"),
        ("memory", "MemFree: 12 kB\n"),
        ("system", "== uptime\n12.0 10.0\n"),
        ("ports", "LISTEN 0 128 0.0.0.0:http 0.0.0.0:*\n"),
    ],
)
def test_unreadable_output_fails_the_probe_with_its_reason(probe: str, output: str) -> None:
    server = _blank_server()
    outcome = apply_run(PROBES[probe], ProbeRun(output, "", 0), server)
    assert outcome.status == ProbeStatus.FAILED
    assert (outcome.reason or "").startswith("unreadable output: ")
    assert server.containers == [] and server.system is None and server.ports == []


def test_missing_systemd_skips_only_with_systemd_words() -> None:
    """A systemctl that fails for another reason is a failure, not a skip."""
    services = PROBES["services"]
    denied = ProbeRun("", "Failed to list units: Access denied\n", 1)
    outcome = apply_run(services, denied, _blank_server())
    assert outcome.status == ProbeStatus.FAILED
    assert outcome.reason == "exit 1: Failed to list units: Access denied"


def test_probes_store_into_their_own_fields_only() -> None:
    """Docker and podman both add to the container list; neither replaces the other's."""
    server = _blank_server()
    docker_case = json.loads((FIXTURES / "docker" / "docker_cli_docs_ps_only.json").read_text())
    podman_case = json.loads((FIXTURES / "podman" / "podman_4.8_plus_pod_member.json").read_text())
    apply_run(PROBES["docker"], _run(docker_case), server)
    apply_run(PROBES["podman"], _run(podman_case), server)
    assert [(c.runtime, c.name) for c in server.containers] == [
        ("docker", "boring_keldysh"),
        ("podman", "bec_redis"),
    ]
