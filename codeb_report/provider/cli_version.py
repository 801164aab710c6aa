"""``vultr-cli version`` on the machine that writes the report, for its header line."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from codeb_report.controls import escape_controls

TIMEOUT = 5.0


def vultr_cli_version(timeout: float = TIMEOUT) -> str | None:
    """``Vultr-CLI v3.8.0``, or None when vultr-cli is not on PATH or does not answer.

    It runs with an empty temporary HOME: vultr-cli v3.8 creates ``~/.vultr-cli.yaml``
    when it finds no configuration, and the version needs none (nor a key).
    """
    path = shutil.which("vultr-cli")
    if path is None:
        return None
    with tempfile.TemporaryDirectory(prefix="codeb-vultr-cli-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VULTR")}
        env.update({"HOME": home, "XDG_CONFIG_HOME": home, "LANG": "C"})
        try:
            done = subprocess.run(
                [path, "version"],
                capture_output=True,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        return None
    return escape_controls(lines[0].strip())[:100] or None
