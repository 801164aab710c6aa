"""History keeps loading as the schema grows: recorded snapshots of every version load,
and the migration chain behaves (order, gaps, steps that do not advance)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from codeb_report import snapshot as snap
from codeb_report.errors import SnapshotError

RECORDED = Path(__file__).parent / "fixtures" / "snapshots"
VERSION_FILE = re.compile(r"^v(\d+)-.*\.json$")


def recorded() -> list[tuple[int, Path]]:
    files = [(int(m.group(1)), p) for p in RECORDED.iterdir() if (m := VERSION_FILE.match(p.name))]
    return sorted(files)


def test_a_snapshot_of_every_version_is_recorded() -> None:
    versions = {v for v, _ in recorded()}
    assert versions == set(range(1, snap.SCHEMA_VERSION + 1))


@pytest.mark.parametrize(("version", "path"), recorded(), ids=lambda x: getattr(x, "name", x))
def test_recorded_snapshot_loads_with_todays_code(version: int, path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] == version
    loaded = snap.load(path)
    assert loaded.schema_version == snap.SCHEMA_VERSION
    assert [s.name for s in loaded.servers] == [s["name"] for s in raw["servers"]]
    assert loaded.collected_at.isoformat() == raw["collected_at"]


def test_every_older_version_has_a_step() -> None:
    oldest = min(v for v, _ in recorded())
    assert all(v in snap.MIGRATIONS for v in range(oldest, snap.SCHEMA_VERSION))


def _v1() -> dict[str, Any]:
    return json.loads((RECORDED / "v1-2025-12-06.json").read_text(encoding="utf-8"))


def _rename_role(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 -> v2 step of the kind a real one would be: a field renamed, the version bumped."""
    data = copy.deepcopy(data)
    for server in data["servers"]:
        server["role"] = server.pop("legacy_role", server.get("role"))
    data["schema_version"] = 2
    return data


@pytest.fixture
def at_version_2(monkeypatch: pytest.MonkeyPatch) -> dict[int, Any]:
    """Pretend this codeb-report writes schema 2; steps registered only for the test."""
    steps: dict[int, Any] = {}
    monkeypatch.setattr(snap, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(snap, "MIGRATIONS", steps)
    return steps


def test_an_older_snapshot_goes_through_its_step(at_version_2: dict[int, Any]) -> None:
    data = _v1()
    for server in data["servers"]:
        server["legacy_role"] = server.pop("role") + " (v1)"
    at_version_2[1] = _rename_role
    loaded = snap.parse(json.dumps(data), "old.json")
    assert loaded.schema_version == 2
    assert loaded.server("n1").role == "App Server (v1)"


def test_steps_run_in_order_from_the_oldest(at_version_2: dict[int, Any]) -> None:
    seen: list[int] = []

    def step(version: int):
        def run(data: dict[str, Any]) -> dict[str, Any]:
            seen.append(version)
            return {**data, "schema_version": version + 1}

        return run

    at_version_2.update({0: step(0), 1: step(1)})
    snap.parse(json.dumps({**_v1(), "schema_version": 0}), "v0.json")
    assert seen == [0, 1]


def test_a_version_without_a_step_is_refused_naming_the_file(
    at_version_2: dict[int, Any],
) -> None:
    with pytest.raises(SnapshotError, match=r"^old\.json: schema_version: 1 is too old"):
        snap.parse(json.dumps(_v1()), "old.json")


def test_a_step_that_does_not_advance_is_an_error_not_a_hang(
    at_version_2: dict[int, Any],
) -> None:
    at_version_2[1] = lambda data: data
    with pytest.raises(SnapshotError, match="migration from 1 did not yield 2"):
        snap.parse(json.dumps(_v1()), "old.json")


def test_a_newer_snapshot_is_refused() -> None:
    data = {**_v1(), "schema_version": snap.SCHEMA_VERSION + 1}
    with pytest.raises(SnapshotError, match="newer than this codeb-report"):
        snap.parse(json.dumps(data), "new.json")


def test_version_1_becomes_2_without_a_provider() -> None:
    data = _v1()
    migrated = snap.MIGRATIONS[1](copy.deepcopy(data))
    assert migrated == {**data, "schema_version": 2}
    assert snap.Snapshot.model_validate(migrated).provider is None


def test_version_1_step_joins_ranges_without_changing_what_it_was_given() -> None:
    """The step copies only the path to each port list: the data it was handed (a caller's
    parsed file) is left as it was, the result holds the joined range."""
    data = _v1()
    dashboard = data["servers"][0]["containers"][1]
    first = dashboard["ports"][0]
    dashboard["ports"] = [
        {
            **first,
            "host_port": first["host_port"] + i,
            "container_port": first["container_port"] + i,
        }
        for i in range(3)
    ]
    before = copy.deepcopy(data)
    migrated = snap.MIGRATIONS[1](data)
    assert data == before
    assert migrated["servers"][0]["containers"][1]["ports"] == [{**first, "range": 3}]
    assert snap.Snapshot.model_validate(migrated).servers[0].containers[1].ports[0].range == 3
