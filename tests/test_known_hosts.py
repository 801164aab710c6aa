"""known_hosts read as OpenSSH reads it: patterns, negations, hashed names, markers, and
HashKnownHosts when --accept-new records a key. Real sshd on 127.0.0.1, real ssh-keygen."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from servers.sshd import Sshd, SshdFactory, keygen
from test_config import codeb_report
from test_ssh_transport import Whoami, config_for

from codeb_report.collect.fleet import collect_fleet
from codeb_report.collect.hostkeys import KnownHosts
from codeb_report.collect.known_hosts_format import hashed_name, hosts_match
from codeb_report.collect.ssh import ConnectError, Connector, ConnectSettings, Resolver, Target
from codeb_report.config import parse_config
from codeb_report.errors import Exit

# (name as ssh looks it up, hostnames field, covered?) -- sshd(8), SSH_KNOWN_HOSTS FILE FORMAT
MATCHES = [
    ("[127.0.0.1]:2222", "[127.0.0.1]:2222", True),  # brackets are literal, not a class
    ("[127.0.0.1]:2222", "[127.0.0.*]:2222", True),
    ("[127.0.0.9]:2222", "[127.0.0.?]:2222", True),
    ("[127.0.0.10]:2222", "[127.0.0.?]:2222", False),
    ("[127.0.0.1]:2223", "[127.0.0.*]:2222", False),  # the port is part of the name
    ("127.0.0.1", "[127.0.0.*]:2222", False),  # port 22: the bare name
    ("web1.example.com", "*.example.com", True),
    ("WEB1.Example.COM", "*.example.com", True),  # case does not matter
    ("example.com", "*.example.com", False),
    ("a", "?", True),
    ("ab", "?", False),
    ("n2", "n1,n2", True),
    ("n3", "n1,n2", False),
    ("db.example.com", "*.example.com,!bastion.example.com", True),
    ("bastion.example.com", "*.example.com,!bastion.example.com", False),
    ("bastion.example.com", "!bastion.example.com,*.example.com", False),  # order is no matter
    ("bastion.example.com", "!bastion.example.com", False),
    ("other.example.com", "!bastion.example.com", False),  # a negation alone covers nothing
]


@pytest.mark.parametrize(("name", "hosts", "covered"), MATCHES)
def test_host_patterns_match_as_sshd_8_says(name: str, hosts: str, covered: bool) -> None:
    assert hosts_match(hosts, name) is covered


@pytest.fixture(scope="module")
def four_keys(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("keys")
    return [keygen(folder / f"k{i}").public_line() for i in range(4)]


@pytest.mark.parametrize(("name", "hosts", "covered"), MATCHES)
def test_the_keys_of_a_host_are_those_of_the_lines_covering_it(
    tmp_path: Path, four_keys: list[str], name: str, hosts: str, covered: bool
) -> None:
    """Plain names are looked up by name, the rest matched line by line: both agree."""
    known = tmp_path / "known_hosts"
    known.write_text(f"{hosts} {four_keys[0]}\nother {four_keys[1]}\n")
    keys = KnownHosts(known, system=tmp_path / "none").keys_for(name)
    assert [k.get_base64() for k in keys] == ([four_keys[0].split()[1]] if covered else [])


def test_the_keys_of_a_host_keep_the_order_of_their_lines(
    tmp_path: Path, four_keys: list[str]
) -> None:
    """paramiko takes the first key of a type: a pattern line before a plain one, and a
    hashed line after it, must stay in that order."""
    name = "[127.0.0.1]:2222"
    known = tmp_path / "known_hosts"
    known.write_text(
        f"[127.0.0.*]:2222 {four_keys[0]}\n"
        f"[127.0.0.1]:2222,[127.0.0.1]:2222 {four_keys[1]}\n"  # listed twice: one key
        f"{hashed_name(name)} {four_keys[2]}\n"
        f"{name} {four_keys[3]}\n"
        f"@revoked [127.0.0.1]:2223 {four_keys[3]}\n"  # revoked for every host
    )
    keys = KnownHosts(known, system=tmp_path / "none").keys_for(name.upper())
    assert [k.get_base64() for k in keys] == [k.split()[1] for k in four_keys[:3]]


def test_hashed_names_agree_with_ssh_keygen(tmp_path: Path) -> None:
    """ssh-keygen -H hashes what we match; ssh-keygen -F finds what we hash."""
    theirs = tmp_path / "theirs"
    theirs.write_text("[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(theirs)], check=True, capture_output=True)
    field = theirs.read_text().split()[0]
    assert field.startswith("|1|")
    assert hosts_match(field, "[127.0.0.1]:2222") and not hosts_match(field, "[127.0.0.1]:2223")

    ours = tmp_path / "ours"
    ours.write_text(f"{hashed_name('[127.0.0.1]:2222')} ssh-ed25519 AAAAC3Nza\n")
    found = subprocess.run(
        ["ssh-keygen", "-F", "[127.0.0.1]:2222", "-f", str(ours)], capture_output=True, text=True
    )
    assert found.returncode == 0 and "ssh-ed25519 AAAAC3Nza" in found.stdout


@pytest.fixture(scope="module")
def host(sshd_factory: SshdFactory) -> Sshd:
    return sshd_factory.start("known-hosts")


def connect_with(factory: SshdFactory, sshd: Sshd, known_text: str, tmp_path: Path) -> str:
    """``ok``, or the reason the connection was refused."""
    known = tmp_path / "known_hosts"
    known.write_text(known_text)
    target = Target("k", "127.0.0.1", sshd.port, "root", (str(factory.client_key.private),))
    connector = Connector(KnownHosts(known, system=tmp_path / "none"), ConnectSettings())
    try:
        connector.connect(target, time.monotonic() + 10).close()
    except ConnectError as exc:
        return str(exc)
    finally:
        connector.close()
    return "ok"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["[127.0.0.*]:{port} {key}"], "ok"),
        (["other.example,[127.0.0.?]:{port} {key}"], "ok"),
        (["[127.0.0.1]:* {key}"], "ok"),
        (["*.example.com {key}"], "호스트 키 미확인"),
        (["*,![127.0.0.1]:{port} {key}"], "호스트 키 미확인"),
        # The negated line does not apply, so its other key is no "changed key".
        (["[127.0.0.*]:{port},![127.0.0.1]:{port} {other}", "[127.0.0.*]:{port} {key}"], "ok"),
        (["[127.0.0.*]:{port} {other}"], "호스트 키 불일치"),
        # Two keys of one type for the host (a rotation): either is its key, as for ssh.
        (["[127.0.0.1]:{port} {other}", "[127.0.0.*]:{port} {key}"], "ok"),
        (["[127.0.0.1]:{port} {key}", "[127.0.0.*]:{port} {other}"], "ok"),
    ],
)
def test_patterns_in_known_hosts_decide_a_real_connection(
    sshd_factory: SshdFactory, host: Sshd, tmp_path: Path, lines: list[str], expected: str
) -> None:
    other = keygen(tmp_path / "other_key").public_line()
    text = "".join(
        line.format(port=host.port, key=host.host_key.public_line(), other=other) + "\n"
        for line in lines
    )
    assert connect_with(sshd_factory, host, text, tmp_path).startswith(expected)


def test_a_host_only_a_certificate_authority_covers_is_refused_saying_why(
    sshd_factory: SshdFactory, host: Sshd, tmp_path: Path
) -> None:
    ca = keygen(tmp_path / "ca").public_line()
    known = tmp_path / "known_hosts"
    known.write_text(f"@cert-authority [127.0.0.*]:* {ca}\n")
    before = known.read_text()
    config = config_for(sshd_factory, [("c", host, "")])
    config.ssh.known_hosts = str(known)
    server = collect_fleet(config, lambda c, s: [Whoami()], accept_new=True).server("c")
    assert not server.reachable
    assert server.error.startswith(
        f"호스트 인증서 미지원: [127.0.0.1]:{host.port} is covered in known_hosts only by a "
        f"@cert-authority line ({known}:1); codeb-report does not verify host certificates."
    )
    assert known.read_text() == before  # not trusted on first use either
    # Its own key beside the CA line: the key decides, as for ssh without a certificate.
    known.write_text(before + host.known_hosts_line())
    assert collect_fleet(config, lambda c, s: [Whoami()]).server("c").reachable


@pytest.mark.parametrize("hash_known_hosts", ["yes", "no"])
def test_accept_new_hashes_the_name_when_ssh_config_says_so(
    sshd_factory: SshdFactory, host: Sshd, tmp_path: Path, hash_known_hosts: str
) -> None:
    known = tmp_path / "known_hosts"
    ssh_config = f"Host *\n  HashKnownHosts {hash_known_hosts}\n"
    config = config_for(sshd_factory, [("h", host, "")], ssh_config=ssh_config)
    config.ssh.known_hosts = str(known)
    assert collect_fleet(config, lambda c, s: [Whoami()], accept_new=True).server("h").reachable
    (line,) = known.read_text().splitlines()
    name = f"[127.0.0.1]:{host.port}"
    key = host.host_key.public_line()
    if hash_known_hosts == "yes":
        assert line.startswith("|1|") and line.endswith(key) and "127.0.0.1" not in line
    else:
        assert line == f"{name} {key}"
    found = subprocess.run(["ssh-keygen", "-F", name, "-f", str(known)], capture_output=True)
    assert found.returncode == 0  # OpenSSH finds it either way
    # Known from now on, and recorded once only.
    assert collect_fleet(config, lambda c, s: [Whoami()], accept_new=True).server("h").reachable
    assert known.read_text().splitlines() == [line]


@pytest.mark.parametrize(
    ("user", "system", "hashed"),
    [("", "yes", True), ("no", "yes", False), ("yes", "", True), ("", "", False)],
)
def test_hash_known_hosts_comes_from_the_users_then_the_systems_ssh_config(
    tmp_path: Path, user: str, system: str, hashed: bool
) -> None:
    (tmp_path / "user").write_text(f"Host n1\n  HashKnownHosts {user}\n" if user else "")
    (tmp_path / "system").write_text(f"Host *\n  HashKnownHosts {system}\n" if system else "")
    config = parse_config(
        f'[ssh]\nconfig_file = "{tmp_path / "user"}"\n'
        '[[servers]]\nname = "n1"\nhost = "n1"\nport = 2222\nuser = "root"\n',
        "fleet.toml",
    )
    resolver = Resolver(config, system_config=tmp_path / "system")
    assert resolver.server(config.servers[0]).hash_known_hosts is hashed


def test_check_config_names_a_missing_extra_known_hosts_file(tmp_path: Path) -> None:
    present = tmp_path / "present"
    present.write_text("")
    missing = tmp_path / "missing"
    (tmp_path / "fleet.toml").write_text(
        f'[ssh]\nextra_known_hosts = ["{present}", "{missing}"]\n'
        '[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n'
    )
    done = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert done.returncode == Exit.INPUT
    assert done.stderr.strip().splitlines() == [
        f"Error: fleet.toml: ssh.extra_known_hosts[1]: {missing}: no such file"
    ]
    missing.write_text("")
    ok = codeb_report("check-config", "fleet.toml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
