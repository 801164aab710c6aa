"""The provider part of the snapshot: what it holds, what it refuses, its stable text."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from codeb_report import snapshot as snap
from codeb_report.errors import SnapshotError
from codeb_report.provider.model import Instance

RECORDED = Path(__file__).parent / "fixtures" / "snapshots" / "v2-2025-12-06.json"


def _data() -> dict[str, Any]:
    return json.loads(RECORDED.read_text(encoding="utf-8"))


def test_the_recorded_account_round_trips_to_the_same_data() -> None:
    # Only the provider part: other optional version-2 fields may be added beside it.
    loaded = snap.parse(RECORDED.read_text(encoding="utf-8"), "v2.json")
    assert loaded.provider is not None
    assert json.loads(snap.dumps(loaded))["provider"] == _data()["provider"]


def test_matched_and_unmatched_instances_and_the_monthly_total() -> None:
    provider = snap.load(RECORDED).provider
    assert provider is not None
    assert provider.instance_of("n3").plan == "vc2-4c-8gb"
    assert provider.instance_of("n3").auto_backups
    assert not provider.instance_of("n1").auto_backups
    unmatched = [i.label for i in provider.instances if i.server is None]
    assert unmatched == ["old-test"]
    assert provider.monthly_total == pytest.approx(20 + 5 + 40 + 5 + 5 + 5)
    assert provider.bandwidth.current_month_projected.allowance_gb == 9216 + 2048


def test_lists_are_written_in_a_fixed_order() -> None:
    data = _data()
    shuffled = copy.deepcopy(data)
    shuffled["provider"]["instances"].reverse()
    shuffled["provider"]["regions"][0]["options"].reverse()
    shuffled["provider"]["plans"].reverse()
    assert snap.dumps(snap.parse(json.dumps(shuffled), "s.json")) == snap.dumps(
        snap.parse(json.dumps(data), "d.json")
    )


@pytest.mark.parametrize("secret", ["default_password", "kvm"])
def test_an_instance_cannot_carry_its_password_or_console_url(secret: str) -> None:
    data = _data()
    data["provider"]["instances"][0][secret] = "s3cret-value"
    with pytest.raises(SnapshotError, match=rf"provider\.instances\[0\]\.{secret}: Extra inputs"):
        snap.parse(json.dumps(data), "leak.json")
    raw = _data()["provider"]["instances"][0]
    with pytest.raises(ValueError, match=secret):
        Instance.model_validate({**raw, secret: "x"})


def test_a_startup_script_body_is_not_part_of_the_model() -> None:
    data = _data()
    data["provider"]["startup_scripts"][0]["script"] = "IyEvYmluL3NoCg=="
    with pytest.raises(SnapshotError, match=r"startup_scripts\[app-boot\]\.script: Extra inputs"):
        snap.parse(json.dumps(data), "script.json")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("instances", 0, "monthly_cost"), "Infinity", "finite number"),
        (("account", "balance"), "NaN", "finite number"),
        (("instances", 0, "monthly_cost"), -5, "greater than or equal to 0"),
        (("instances", 0, "label"), "x" * 257, "at most 256 characters"),
        (("instances", 0, "tags"), ["t"] * 65, "at most 64 items"),
        (("regions", 0, "id"), "", "at least 1 character"),
    ],
)
def test_impossible_values_are_refused(path: tuple[Any, ...], value: Any, message: str) -> None:
    data = _data()
    node = data["provider"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    # json.dumps writes Infinity/NaN for float values; pass strings through as JSON literals
    text = json.dumps(data).replace('"Infinity"', "Infinity").replace('"NaN"', "NaN")
    with pytest.raises(SnapshotError, match=message):
        snap.parse(text, "bad.json")


def test_two_instances_with_one_id_are_refused() -> None:
    data = _data()
    instances = data["provider"]["instances"]
    instances[1]["id"] = instances[0]["id"]
    with pytest.raises(SnapshotError, match="duplicate instance id"):
        snap.parse(json.dumps(data), "dup.json")
