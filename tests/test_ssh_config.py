"""~/.ssh/config as ssh reads it: Include followed (globs, nested, per Host), then the
system file with lower priority; and a collection through an alias kept in an included
file, against a real sshd."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from servers.sshd import SshdFactory

from codeb_report.collect.fleet import collect_fleet
from codeb_report.collect.ssh import ConnectError, Resolver, Target
from codeb_report.config import Config, parse_config


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME: relative Include paths are under its ~/.ssh, as for ssh."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh" / "config.d").mkdir(parents=True)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def resolve(home: Path, host: str, system: Path | None = None, more: str = "") -> Target:
    text = f'[ssh]\nconfig_file = "{home / ".ssh" / "config"}"\n'
    text += f'[[servers]]\nname = "s"\nhost = "{host}"\n{more}'
    config = parse_config(text, "fleet.toml")
    return Resolver(config, system_config=system).server(config.servers[0])


def test_hosts_of_included_files_resolve(home: Path) -> None:
    write(home / ".ssh" / "config", "Include config.d/*.conf\nHost *\n  User fallback\n")
    write(
        home / ".ssh" / "config.d" / "10-app.conf",
        "Host app\n  HostName 10.1.2.3\n  Port 2222\n  User deploy\n"
        "  IdentityFile ~/.ssh/app_key\n  ProxyJump ops@gate\n",
    )
    write(home / ".ssh" / "config.d" / "20-db.conf", "Include ~/.ssh/nested/db\n")
    write(home / ".ssh" / "nested" / "db", "Host db\n  HostName 10.1.2.4\n")
    write(home / ".ssh" / "config.d" / "ignored.txt", "Host app\n  HostName 10.9.9.9\n")
    app = resolve(home, "app")
    assert (app.hostname, app.port, app.user) == ("10.1.2.3", 2222, "deploy")
    assert app.identity_files == (str(home / ".ssh" / "app_key"),)
    assert app.jump is not None and (app.jump.user, app.jump.hostname) == ("ops", "gate")
    db = resolve(home, "db")
    assert (db.hostname, db.port, db.user) == ("10.1.2.4", 22, "fallback")


def test_an_include_inside_a_host_block_applies_to_that_host_only(home: Path) -> None:
    write(
        home / ".ssh" / "config",
        "Host app\n  Include app.conf\n  Port 2200\nHost *\n  User fallback\n",
    )
    write(home / ".ssh" / "app.conf", "HostName 10.1.2.3\nHost other app\n  User deploy\n")
    app = resolve(home, "app")
    assert (app.hostname, app.port, app.user) == ("10.1.2.3", 2200, "deploy")
    other = resolve(home, "other")  # the included "Host other" sits inside "Host app"
    assert (other.hostname, other.port, other.user) == ("other", 22, "fallback")


def test_the_system_file_comes_after_the_users(home: Path, tmp_path: Path) -> None:
    write(home / ".ssh" / "config", "Host app\n  User deploy\n")
    system = write(
        tmp_path / "etc" / "ssh_config",
        "Host app\n  User admin\n  Port 2201\nHost *\n  IdentityFile /keys/shared\n",
    )
    app = resolve(home, "app", system)
    assert (app.user, app.port, app.identity_files) == ("deploy", 2201, ("/keys/shared",))
    assert resolve(home, "app").port == 22  # without it, nothing of it


def test_an_include_loop_is_a_named_configuration_error(home: Path) -> None:
    config = write(home / ".ssh" / "config", "Include config\n")
    with pytest.raises(ConnectError, match=f"설정 오류: {config}:1: too many nested Include"):
        resolve(home, "app")


def test_collection_connects_through_an_alias_from_an_included_file(
    sshd_factory: SshdFactory, home: Path, tmp_path: Path
) -> None:
    sshd = sshd_factory.start("included-alias")
    write(home / ".ssh" / "config", "Include config.d/*\n")
    # The alias is a loopback address no sshd listens on (port 22): were the Include
    # missed, the attempt would stay on this machine, with no name to look up.
    write(
        home / ".ssh" / "config.d" / "fleet",
        f"Host 127.0.0.9\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n"
        f"  IdentityFile {sshd_factory.client_key.private}\n",
    )
    known = write(tmp_path / "known_hosts", sshd.known_hosts_line())
    text = (
        f'[ssh]\nknown_hosts = "{known}"\nconfig_file = "~/.ssh/config"\nuse_agent = false\n'
        '[[servers]]\nname = "n9"\nhost = "127.0.0.9"\n'
    )
    config: Config = parse_config(text, "fleet.toml")
    server = collect_fleet(config, lambda c, s: []).server("n9")
    assert server.reachable, server.error
    assert server.error is None


def test_a_system_file_paramiko_cannot_parse_is_left_out(home: Path, tmp_path: Path) -> None:
    """Fedora's /etc/ssh/ssh_config.d/50-redhat.conf holds ``Match final all``: ssh reads
    it, paramiko refuses it. The system file is then skipped; the user's never is."""
    write(home / ".ssh" / "config", "Host app\n  HostName 10.1.2.3\n")
    system = write(tmp_path / "etc" / "ssh_config", "Match final all\n  User admin\n")
    assert resolve(home, "app", system).hostname == "10.1.2.3"
    write(home / ".ssh" / "config", "Match final all\n  User admin\n")
    with pytest.raises(ConnectError, match=f"설정 오류: {home / '.ssh' / 'config'}: "):
        resolve(home, "app", system)


# Run in a fresh interpreter: paramiko must not have been imported yet (other tests do).
RESOLVE_FRESH = """
import sys
from pathlib import Path
from codeb_report.collect.ssh import Resolver
from codeb_report.config import parse_config
home = Path(sys.argv[1])
text = f'[ssh]\\nconfig_file = "{home / ".ssh" / "config"}"\\n'
text += '[[servers]]\\nname = "s"\\nhost = "app"\\n'
config = parse_config(text, "fleet.toml")
target = Resolver(config, system_config=None).server(config.servers[0])
print(target.hostname, "invoke" in sys.modules)
"""


def resolve_fresh(home: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", RESOLVE_FRESH, str(home)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_match_exec_runs_its_command_as_ssh_does(home: Path) -> None:
    """paramiko is imported without invoke (start-up time); a ``Match exec`` line gets it
    back, so the command runs and decides whether the block applies."""
    write(
        home / ".ssh" / "config",
        'Match host app exec "test -e ~/.ssh/flag"\n  HostName 10.1.2.5\n'
        "Host app\n  HostName 10.1.2.3\n",
    )
    assert resolve_fresh(home) == ["10.1.2.3", "True"]
    write(home / ".ssh" / "flag", "")
    assert resolve_fresh(home) == ["10.1.2.5", "True"]


def test_without_match_exec_invoke_is_not_imported(home: Path) -> None:
    write(home / ".ssh" / "config", "Host app\n  HostName 10.1.2.3\n")
    assert resolve_fresh(home) == ["10.1.2.3", "False"]


def test_an_included_fifo_is_left_out_not_waited_on(home: Path) -> None:
    """ssh itself would block on it; a nightly run must not."""
    write(home / ".ssh" / "config", "Include config.d/*\nHost app\n  HostName 10.1.2.3\n")
    os.mkfifo(home / ".ssh" / "config.d" / "planted")
    found: list[Target] = []
    worker = threading.Thread(target=lambda: found.append(resolve(home, "app")), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the configuration reader waited on a FIFO"
    assert found[0].hostname == "10.1.2.3"
