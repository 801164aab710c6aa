"""The shipped alert rules: valid for promtool, and proven by promtool's rule unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[1] / "docs" / "prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

pytestmark = pytest.mark.skipif(
    not Path(PROMTOOL).exists(), reason="promtool (Debian prometheus) is not installed"
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=60
    )


def test_rules_pass_promtool_check() -> None:
    done = _promtool("check", "rules", "codeb-report.rules.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


def test_rule_unit_tests_pass() -> None:
    done = _promtool("test", "rules", "codeb-report.rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_each_alert_has_a_firing_and_a_silent_case() -> None:
    tests = (RULES_DIR / "codeb-report.rules.test.yml").read_text()
    rules = (RULES_DIR / "codeb-report.rules.yml").read_text()
    alerts = [line.split(":", 1)[1].strip() for line in rules.splitlines() if "- alert:" in line]
    assert len(alerts) == 5
    for alert in alerts:
        blocks = tests.split(f"alertname: {alert}\n")[1:]
        silent = [b for b in blocks if b.lstrip().startswith("exp_alerts: []")]
        assert silent, f"{alert}: no case where it stays silent"
        assert len(silent) < len(blocks), f"{alert}: no case where it fires"


def test_a_broken_threshold_fails_the_unit_tests(tmp_path: Path) -> None:
    """The unit tests can fail: 27 hours instead of 26 is caught."""
    for name in ("codeb-report.rules.yml", "codeb-report.rules.test.yml"):
        shutil.copyfile(RULES_DIR / name, tmp_path / name)
    rules = tmp_path / "codeb-report.rules.yml"
    rules.write_text(rules.read_text().replace("> 26 * 3600", "> 27 * 3600"))
    done = subprocess.run(
        [PROMTOOL, "test", "rules", "codeb-report.rules.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "CodeBReportNotSucceeded" in done.stdout + done.stderr
