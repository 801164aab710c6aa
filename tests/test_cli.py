"""The command line as users meet it: help, version, one-line errors with their exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from servers.ports import free_port

from codeb_report import __version__
from codeb_report.cli import cli
from codeb_report.snapshot import ProbeStatus, load

COMMANDS = sorted(cli.commands)
ROOT = Path(__file__).resolve().parent.parent
PROGRAM = str(Path(sys.executable).parent / "codeb-report")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="codeb-report")


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"codeb-report, version {__version__}\n"


def test_every_command_is_listed() -> None:
    assert COMMANDS == [
        "check-config",
        "collect",
        "diff",
        "init",
        "metrics",
        "render",
        "run",
        "send",
    ]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_ends_with_an_example(command: str | None) -> None:
    args = ["-h"] if command is None else [command, "-h"]
    result = invoke(*args)
    assert result.exit_code == 0
    lines = result.output.rstrip("\n").splitlines()
    start = lines.index("Example:")
    assert lines.index("Options:") < start
    example = lines[start + 1 :]
    assert example, "an example follows the heading"
    assert all(line.startswith("  codeb-report ") for line in example)
    if command is not None:
        assert f"codeb-report {command}" in example[0]


def test_unknown_format_is_a_usage_error() -> None:
    result = invoke("render", "x.json", "--format", "md,doc")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '-f' / '--format': unknown format doc; choose from md, html, pdf"
    )


def test_bad_snapshot_is_one_line_with_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "collected_at": "yesterday"}')
    result = invoke("render", str(bad), "--out", str(tmp_path))
    assert result.exit_code == 3
    reason = "Input should be a valid datetime or date, input is too short"
    assert result.output == f"Error: {bad}: collected_at: {reason}\n"


def test_missing_snapshot_is_named(tmp_path: Path) -> None:
    result = invoke("render", str(tmp_path / "none.json"))
    assert result.exit_code == 3
    assert result.output == f"Error: {tmp_path / 'none.json'}: no such file\n"


def test_help_does_not_load_the_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from codeb_report.cli import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='codeb-report')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('weasyprint', 'paramiko', 'pygal', 'pydantic', 'httpx')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stderr


def test_collect_over_ssh_loads_only_what_collecting_needs(tmp_path: Path) -> None:
    """The imports before the first connection are time the machine's other CPU waits:
    collect leaves out the analysis and the report, which only run needs, and paramiko's
    invoke, which only ssh_config's Match exec needs."""
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        f'[ssh]\nknown_hosts = "{tmp_path / "known_hosts"}"\n'
        f'config_file = "{tmp_path / "no_ssh_config"}"\nuse_agent = false\n'
        f'[[servers]]\nname = "n1"\nhost = "127.0.0.1"\nport = {free_port()}\n'
    )
    argv = ["collect", "-q", "--config", str(fleet), "-o", str(tmp_path / "s.json")]
    code = (
        "import sys\n"
        "from codeb_report.cli import cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    print('EXIT', exc.code, file=sys.stderr)\n"
        "loaded = ('paramiko', 'invoke', 'codeb_report.analysis', 'codeb_report.render')\n"
        "print('LOADED', [m for m in loaded if m in sys.modules], file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "EXIT 5" in done.stderr  # nothing listens there: collected, as a failure
    assert "LOADED ['paramiko']" in done.stderr


EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"


def _unwritable(tmp_path: Path) -> Path:
    """A folder no one can create, root included: its parent is a regular file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    return blocker / "out"


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["collect", "-o", "{dir}/snapshot.json"], "{dir}/snapshot.json"),
        (["init", "{dir}/fleet.toml"], "{dir}/fleet.toml"),
    ],
)
def test_unwritable_output_is_one_line_with_exit_8(
    tmp_path: Path, args: list[str], target: str
) -> None:
    folder = _unwritable(tmp_path)
    argv = [a.format(dir=folder) for a in args]
    done = subprocess.run([PROGRAM, *argv], capture_output=True, text=True)
    assert done.returncode == 8, done.stderr
    # collect also logs the probes that failed on this machine (e.g. docker without its
    # daemon) as WARNING lines, as run does; the error itself is one line.
    lines = [line for line in done.stderr.splitlines() if " WARNING local probe " not in line]
    assert lines == [f"Error: {target.format(dir=folder)}: cannot write: Not a directory"]


def test_diff_output_that_cannot_be_written_is_trouble_as_diff1(tmp_path: Path) -> None:
    target = _unwritable(tmp_path) / "changes.md"
    done = subprocess.run(
        [PROGRAM, "diff", str(EXAMPLE), str(EXAMPLE), "-o", str(target)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2  # diff's documented code for any trouble
    assert done.stderr.splitlines() == [f"Error: {target}: cannot write: Not a directory"]


def test_send_dry_run_that_cannot_file_the_message_is_one_line_with_exit_6(
    tmp_path: Path,
) -> None:
    day = tmp_path / "2025-12-20"
    day.mkdir()
    (day / "snapshot.json").write_bytes(EXAMPLE.read_bytes())
    (day / "report.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")  # attached as bytes, not read
    (day / "report.eml").mkdir()  # in the way of the message, even for root
    config = tmp_path / "fleet.toml"
    config.write_text(
        '[[servers]]\nname = "n1"\nhost = "127.0.0.1"\n'
        '[mail]\nhost = "127.0.0.1"\nsender = "report@example.com"\nto = ["ops@example.com"]\n'
    )
    done = subprocess.run(
        [PROGRAM, "send", "-c", str(config), "--dry-run", str(day)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 6  # mail not delivered; the report stays
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].endswith(f"mail: {day}/report.eml: cannot write: Is a directory")


def test_local_collect_exit_code_says_a_probe_failed(tmp_path: Path, monkeypatch) -> None:
    # A docker whose daemon is down, as on a server where dockerd died: that probe fails.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.'"
        " >&2\nexit 1\n"
    )
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    out = tmp_path / "s.json"
    result = invoke("collect", "-o", str(out))
    assert result.exit_code == 4
    snapshot = load(out)
    assert snapshot.servers[0].outcome("docker").status is ProbeStatus.FAILED
    assert snapshot.servers[0].outcome("system").status is ProbeStatus.OK
