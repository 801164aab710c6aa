"""The README's crontab line and systemd units work as written.

The units are checked by ``systemd-analyze verify`` (systemd cannot run here); the
crontab line is run by /bin/sh with nothing but cron's environment, against a real sshd
and a real SMTP server, with only the install paths moved into a temporary folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from servers.smtp import USER, CertAuthority, smtp_server
from servers.sshd import SshdFactory

from codeb_report.errors import Exit
from codeb_report.nightly.run import outcome
from codeb_report.outputdir import today
from codeb_report.snapshot import load

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
PASSWORD = "Cron-Pw-0815"


def _units() -> dict[str, str]:
    blocks = re.findall(r"```ini\n# /etc/systemd/system/(\S+)\n(.*?)```", README, re.S)
    return dict(blocks)


def _crontab_line() -> str:
    [line] = re.findall(r"```crontab\n(.*?)\n```", README, re.S)
    return line


def test_the_readme_has_a_crontab_line_and_a_service_with_its_timer() -> None:
    units = _units()
    assert set(units) == {"codeb-report.service", "codeb-report.timer"}
    service = units["codeb-report.service"]
    for key in ("ExecStart", "EnvironmentFile"):
        [value] = re.findall(rf"^{key}=(\S+)", service, re.M)
        assert value.startswith("/"), f"{key} must be an absolute path"
    assert "Persistent=true" in units["codeb-report.timer"]
    fields = _crontab_line().split(maxsplit=5)
    assert len(fields) == 6 and all(re.fullmatch(r"[\d*,/-]+", f) for f in fields[:5])
    assert "%" not in fields[5]  # cron would turn it into a newline


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"CODEB_SMTP_PASSWORD={PASSWORD}\n")
    for name, text in _units().items():
        text = (
            text.replace("/opt/codeb-report", str(REPO))
            .replace("/etc/codeb-report/secrets.env", str(secrets))
            .replace("=codeb-report\n", "=root\n")  # User=, Group=: no such user here
        )
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in _units())],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "*-*-* 06:30:00 Asia/Seoul"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert calendar.returncode == 0, calendar.stderr


def _fleet_config(tmp: Path, sshd_factory: SshdFactory, smtp_port: int, ca: CertAuthority) -> str:
    sshd = sshd_factory.start("cron-n1")
    (tmp / "known_hosts").write_text(sshd.known_hosts_line())
    return f"""
[ssh]
known_hosts = "{tmp / "known_hosts"}"
config_file = "{tmp / "no-ssh-config"}"
use_agent = false

[[servers]]
name = "n1"
host = "127.0.0.1"
port = {sshd.port}
user = "root"
identity_file = "{sshd_factory.client_key.private}"

[mail]
host = "127.0.0.1"
port = {smtp_port}
username = "{USER}"
password_env = "CODEB_SMTP_PASSWORD"
sender = "report@codeb.test"
to = ["cto@codeb.test"]
ca_file = "{ca.ca_file}"
"""


def test_the_crontab_line_runs_as_written(
    tmp_path: Path, sshd_factory: SshdFactory, smtp_ca: CertAuthority
) -> None:
    etc, var = tmp_path / "etc", tmp_path / "var"
    etc.mkdir()
    (etc / "secrets.env").write_text(f"CODEB_SMTP_PASSWORD='{PASSWORD}'\n")
    command = (
        _crontab_line()
        .split(maxsplit=5)[5]
        .replace("/etc/codeb-report", str(etc))
        .replace("/var/lib/codeb-report", str(var))
        .replace("/opt/codeb-report", str(REPO))
    )
    with smtp_server(smtp_ca, "starttls", PASSWORD) as server:
        (etc / "fleet.toml").write_text(_fleet_config(tmp_path, sshd_factory, server.port, smtp_ca))
        cron_env = {"HOME": str(tmp_path), "LOGNAME": "root", "SHELL": "/bin/sh",
                    "PATH": "/usr/bin:/bin"}  # fmt: skip
        result = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True,
                                text=True, timeout=180, cwd=tmp_path)  # fmt: skip
    day = var / "output" / today().isoformat()
    snapshot = load(day / "snapshot.json")
    assert result.returncode == outcome(snapshot) != Exit.FAILED, result.stderr
    assert snapshot.servers[0].reachable
    assert result.stdout == ""
    log = (day / "run.log").read_text()
    assert PASSWORD not in log + result.stderr
    [received] = server.messages
    msg = BytesParser(policy=policy.default).parsebytes(received.data)
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content() == (day / "report.pdf").read_bytes()
    assert "mail: delivered" in log
