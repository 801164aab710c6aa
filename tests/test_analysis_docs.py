"""docs/analysis.md states the real defaults and lists every rule."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from codeb_report.analysis.rules import RULES
from codeb_report.thresholds import Thresholds

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysis.md"


def test_documented_defaults_are_the_defaults() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.S)
    assert block, "no TOML block"
    documented = tomllib.loads(block.group(1))["report"]["thresholds"]
    assert Thresholds.model_validate(documented) == Thresholds()
    assert set(documented) == set(Thresholds.model_fields)  # every key shown


def test_every_rule_is_documented_in_order() -> None:
    text = DOC.read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z_.]+)` \|", text, re.M)
    assert listed == [r.id for r in RULES]


def test_the_documented_table_is_a_valid_configuration() -> None:
    from codeb_report.config import parse_config

    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block
    config = parse_config(
        block.group(1) + '\n[[servers]]\nname = "n1"\nhost = "192.0.2.1"\n', "analysis.md"
    )
    assert config.report.thresholds == Thresholds()
