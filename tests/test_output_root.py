"""Commands that look dates up under the output folder take it from the configuration's
``[output] root`` when ``--output-root`` is not given, as ``run`` and ``send`` do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import history_gen as gen

from codeb_report.outputdir import OutputSettings, output_root_of

CLI = [sys.executable, "-c", "from codeb_report.cli import main; main()"]


def test_the_option_wins_then_the_configuration_then_output(tmp_path: Path) -> None:
    configured = OutputSettings(root=str(tmp_path / "configured"))
    assert output_root_of(tmp_path / "given", configured) == tmp_path / "given"
    assert output_root_of(None, configured) == tmp_path / "configured"
    assert output_root_of(None, None) == Path("output")


def test_metrics_finds_a_date_under_the_configured_root(tmp_path: Path) -> None:
    root = tmp_path / "var" / "output"
    gen.write_history(root, days=3)
    config = tmp_path / "fleet.toml"
    config.write_text(f'[output]\nroot = "{root}"\n[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n')
    day = gen.day_of(2).isoformat()
    done = subprocess.run(
        [*CLI, "metrics", day, "-c", str(config)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert 'server="n1"' in done.stdout
