"""The fleet configuration: the shipped examples, field-naming errors, ~/.ssh/config."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeb_report.collect.ssh import ConnectError, Resolver
from codeb_report.config import example_config, load_config, parse_config
from codeb_report.errors import ConfigError, Exit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "codeb-report.toml"


def codeb_report(*args: str, cwd: Path, env: dict[str, str] | None = None):
    code = "from codeb_report.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_reference_fleet_example_describes_n1_to_n4() -> None:
    config = load_config(EXAMPLE)
    hosts = {s.name: s.host for s in config.servers}
    assert hosts == {
        "n1": "158.247.203.55",
        "n2": "141.164.42.213",
        "n3": "64.176.226.119",
        "n4": "141.164.37.63",
    }
    labels = {s.name: config.role_label(s) for s in config.servers}
    assert labels == {"n1": "App Server", "n2": "Streaming", "n3": "Storage (DB)", "n4": "Backup"}
    assert config.descriptions.ports[3101] == "SSOT Registry"
    assert config.descriptions.units["codeb-watchdog"] == "워치독 모니터"
    backup = config.role(config.server("n4"))
    assert [(b.path, b.max_age_hours) for b in backup.backups] == [("/opt/codeb/backups", 26.0)]
    storage = config.role(config.server("n3"))
    assert storage.redis is not None and storage.redis.password_env == "CODEB_REDIS_PASSWORD"
    assert config.report.timezone == "Asia/Seoul"


def test_defaults_of_a_minimal_file() -> None:
    config = parse_config('[[servers]]\nname = "a"\nhost = "h"\n', "min.toml")
    assert config.report.timezone == "Asia/Seoul"
    assert config.report.title == "CodeB 서버 인프라 현황 리포트"
    assert config.ssh.parallel == 16 and config.ssh.known_hosts == "~/.ssh/known_hosts"
    server = config.servers[0]
    assert (server.port, server.user, server.sudo, server.jump) == (None, None, False, None)
    assert config.role_label(server) == "server"


def test_thresholds_section_reaches_the_analysis_model() -> None:
    text = (
        '[report.thresholds.memory]\nwarn_at = 70\ncrit_at = 85\n[[servers]]\nname="a"\nhost="h"\n'
    )
    config = parse_config(text, "t.toml")
    assert (config.report.thresholds.memory.warn_at, config.report.thresholds.memory.crit_at) == (
        70,
        85,
    )


SERVERS = '[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n[[servers]]\nname = "n2"\nhost = "h2"\n'

BAD = [
    (
        SERVERS + 'port = "x"\n',
        "fleet.toml: servers[n2].port: Input should be a valid integer",
    ),
    (SERVERS + "port = 70000\n", "fleet.toml: servers[n2].port: Input should be less than"),
    (SERVERS + "prot = 22\n", "fleet.toml: servers[n2].prot: unknown setting"),
    (SERVERS.replace('host = "h2"\n', ""), "fleet.toml: servers[n2].host: missing (required)"),
    ("", "fleet.toml: servers: missing (required)"),
    (SERVERS.replace('"n2"', '"n1"'), "fleet.toml: servers: name 'n1' is used twice"),
    (SERVERS + 'jump = "n2"\n', "fleet.toml: servers[n2].jump: jump hosts loop (n2 -> n2)"),
    (
        SERVERS.replace('host = "10.0.0.1"\n', 'host = "10.0.0.1"\njump = "n2"\n')
        + 'jump = "n1"\n',
        "fleet.toml: servers[n1].jump: jump hosts loop (n1 -> n2 -> n1)",
    ),
    ('[report]\ntimezone = "Mars/Olympus"\n' + SERVERS, "fleet.toml: report.timezone: unknown"),
    ("[ssh]\nparallel = 0\n" + SERVERS, "fleet.toml: ssh.parallel: Input should be greater"),
    (
        '[roles.backup]\nbackups = [{ path = "relative" }]\n' + SERVERS,
        "fleet.toml: roles.backup.backups[0].path: String should match pattern",
    ),
    (
        "[descriptions.ports]\nhttp = 'x'\n" + SERVERS,
        "fleet.toml: descriptions.ports.http: Input should be a valid integer",
    ),
    ("servers = [\n", "fleet.toml: not valid TOML: "),
    (SERVERS + 'sudo = "yes"\n', "fleet.toml: servers[n2].sudo: Input should be a valid boolean"),
    (SERVERS + "port = 22.0\n", "fleet.toml: servers[n2].port: Input should be a valid integer"),
    (
        '[ssh]\nparallel = "16"\n' + SERVERS,
        "fleet.toml: ssh.parallel: Input should be a valid integer",
    ),
    (
        "[ssh]\nuse_agent = 1\n" + SERVERS,
        "fleet.toml: ssh.use_agent: Input should be a valid boolean",
    ),
    (
        '[ssh]\nconnect_timeout = "10"\n' + SERVERS,
        "fleet.toml: ssh.connect_timeout: Input should be a valid number",
    ),
    (
        SERVERS + '[mail]\nhost = "h"\nsender = "s@h"\nto = ["t@h"]\nallow_plain = "yes"\n',
        "fleet.toml: mail.allow_plain: Input should be a valid boolean",
    ),
    (
        SERVERS + '[mail]\nhost = "h"\nsender = "s@h"\nto = ["t@h"]\nport = "587"\n',
        "fleet.toml: mail.port: Input should be a valid integer",
    ),
    (
        '[output]\nkeep_days = "90"\n' + SERVERS,
        "fleet.toml: output.keep_days: Input should be a valid integer",
    ),
    (
        '[trends]\nsnapshots = "30"\n' + SERVERS,
        "fleet.toml: trends.snapshots: Input should be a valid integer",
    ),
    (
        '[roles.app]\nci_runner = "yes"\n' + SERVERS,
        "fleet.toml: roles.app.ci_runner: Input should be a valid boolean",
    ),
    (
        '[roles.db.redis]\nport = "6379"\n' + SERVERS,
        "fleet.toml: roles.db.redis.port: Input should be a valid integer",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_errors_name_file_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "fleet.toml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == Exit.INPUT


def test_init_writes_a_commented_file_that_check_config_accepts(tmp_path: Path) -> None:
    made = codeb_report("init", "fleet.toml", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "fleet.toml").read_text()
    assert text == example_config()
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 10
    checked = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert (checked.returncode, checked.stdout) == (0, "fleet.toml: ok, 2 servers (app1, db1)\n")
    again = codeb_report("init", "fleet.toml", cwd=tmp_path)
    assert again.returncode == Exit.INPUT
    assert "already exists" in again.stderr


def test_check_config_prints_one_line_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "fleet.toml").write_text(SERVERS + 'port = "x"\n')
    done = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert done.returncode == Exit.INPUT
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "fleet.toml: servers[n2].port: Input should be a valid integer" in lines[0]
    missing = codeb_report("check-config", "nothere.toml", cwd=tmp_path)
    assert missing.returncode == Exit.INPUT and "nothere.toml: no such file" in missing.stderr


def test_check_config_names_an_unset_password_variable(tmp_path: Path) -> None:
    env = {"CODEB_REDIS_PASSWORD": ""}
    done = codeb_report("check-config", str(EXAMPLE), cwd=tmp_path, env=env)
    assert done.returncode == Exit.INPUT
    assert "roles.storage.redis.password_env: environment variable CODEB_REDIS_PASSWORD" in (
        done.stderr
    )
    ok = codeb_report("check-config", str(EXAMPLE), cwd=tmp_path, env={"CODEB_REDIS_PASSWORD": "s"})
    assert ok.returncode == 0 and "4 servers (n1, n2, n3, n4)" in ok.stdout


def _resolver(tmp_path: Path, servers: str, ssh_config: str) -> tuple[Resolver, object]:
    (tmp_path / "ssh_config").write_text(ssh_config)
    text = f'[ssh]\nconfig_file = "{tmp_path / "ssh_config"}"\n' + servers
    config = parse_config(text, "fleet.toml")
    return Resolver(config), config


SSH_CONFIG = """\
Host app
    HostName 10.1.2.3
    User deploy
    Port 2222
    IdentityFile ~/.ssh/app_key
    ProxyJump ops@bastion.example:2200

Host db
    HostName 10.1.2.4

Host *
    User fallback
"""


def test_ssh_config_aliases_fill_what_the_file_leaves_unset(tmp_path: Path) -> None:
    servers = '[[servers]]\nname = "n1"\nhost = "app"\n'
    resolver, config = _resolver(tmp_path, servers, SSH_CONFIG)
    target = resolver.server(config.servers[0])
    assert (target.hostname, target.port, target.user) == ("10.1.2.3", 2222, "deploy")
    assert target.identity_files == (str(Path("~/.ssh/app_key").expanduser()),)
    assert target.jump is not None
    assert (target.jump.hostname, target.jump.port, target.jump.user) == (
        "bastion.example",
        2200,
        "ops",
    )


def test_the_file_wins_over_ssh_config_and_jump_names_a_server(tmp_path: Path) -> None:
    servers = (
        '[[servers]]\nname = "n1"\nhost = "app"\nport = 22\nuser = "root"\njump = "none"\n'
        '[[servers]]\nname = "n3"\nhost = "db"\njump = "n1"\nsudo = true\n'
    )
    resolver, config = _resolver(tmp_path, servers, SSH_CONFIG)
    n1 = resolver.server(config.servers[0])
    assert (n1.hostname, n1.port, n1.user, n1.jump) == ("10.1.2.3", 22, "root", None)
    n3 = resolver.server(config.servers[1])
    assert (n3.hostname, n3.port, n3.user, n3.sudo) == ("10.1.2.4", 22, "fallback", True)
    assert n3.jump == n1


def test_without_ssh_config_the_host_is_used_as_is(tmp_path: Path) -> None:
    text = f'[ssh]\nconfig_file = "{tmp_path / "none"}"\n'
    config = parse_config(text + '[[servers]]\nname = "a"\nhost = "h.example"\n', "t.toml")
    target = Resolver(config).server(config.servers[0])
    assert (target.hostname, target.port, target.user) == ("h.example", 22, getpass.getuser())
    assert target.jump is None and target.identity_files == ()


def test_proxyjump_loops_and_bad_ports_are_named(tmp_path: Path) -> None:
    looping = "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n"
    resolver, config = _resolver(tmp_path, '[[servers]]\nname = "n1"\nhost = "a"\n', looping)
    with pytest.raises(ConnectError, match="ProxyJump loops through"):
        resolver.server(config.servers[0])
    bad = '[[servers]]\nname = "n1"\nhost = "h"\njump = "root@gate:ssh"\n'
    resolver, config = _resolver(tmp_path, bad, "")
    with pytest.raises(ConnectError, match="ProxyJump 'root@gate:ssh': the port is not a number"):
        resolver.server(config.servers[0])


def test_the_commented_thresholds_of_the_example_are_valid() -> None:
    lines = example_config().splitlines()
    start = lines.index("# [report.thresholds]")
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        block.append(line.removeprefix("# "))
    config = parse_config("\n".join(block) + "\n" + SERVERS, "t.toml")
    assert config.report.thresholds.disk.warn_at == 80
    assert config.report.thresholds.backup_max_age_hours == 26


def test_a_mistyped_role_is_named_with_the_known_roles(tmp_path: Path) -> None:
    text = example_config()
    assert text.count('role = "app"\n') == 1
    (tmp_path / "fleet.toml").write_text(text.replace('role = "app"\n', 'role = "appp"\n'))
    done = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert done.returncode == Exit.INPUT
    assert done.stderr.strip().splitlines() == [
        "Error: fleet.toml: servers[app1].role: unknown role 'appp' "
        "(known: app, storage, streaming)"
    ]


def test_a_server_left_at_the_default_role_needs_no_roles_entry() -> None:
    text = SERVERS + '\n[roles.app]\nlabel = "App Server"\n'
    config = parse_config(text, "fleet.toml")
    assert {s.role for s in config.servers} == {"server"}


def test_numbers_and_flags_of_the_right_type_and_port_keys_are_accepted() -> None:
    text = (
        "[ssh]\nparallel = 4\nconnect_timeout = 5\nuse_agent = false\n"
        '[descriptions.ports]\n3000 = "web"\n' + SERVERS + "sudo = true\nport = 2222\n"
    )
    config = parse_config(text, "fleet.toml")
    assert (config.ssh.parallel, config.ssh.connect_timeout, config.ssh.use_agent) == (
        4,
        5.0,
        False,
    )
    assert config.descriptions.ports == {3000: "web"}
    assert (config.servers[1].sudo, config.servers[1].port) == (True, 2222)


def test_check_config_names_a_missing_identity_file(tmp_path: Path) -> None:
    key = tmp_path / "id_test"
    text = SERVERS + f'identity_file = "{key}"\n'
    (tmp_path / "fleet.toml").write_text(text)
    done = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert done.returncode == Exit.INPUT
    assert done.stderr.strip().splitlines() == [
        f"Error: fleet.toml: servers[n2].identity_file: {key}: no such file"
    ]
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    ok = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert (ok.returncode, ok.stdout) == (0, "fleet.toml: ok, 2 servers (n1, n2)\n")


def test_check_config_counts_one_server_in_the_singular(tmp_path: Path) -> None:
    (tmp_path / "fleet.toml").write_text('[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n')
    done = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "fleet.toml: ok, 1 server (n1)\n")
