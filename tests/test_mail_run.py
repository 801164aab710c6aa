"""Mail as the nightly job sends it: ``run`` with mail, and the ``send`` command as a process."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from servers.smtp import USER, CertAuthority, Faults, smtp_server

from codeb_report.analysis import analyse
from codeb_report.analysis.model import Priority
from codeb_report.errors import Exit
from codeb_report.logs import forget_secrets
from codeb_report.mail.settings import MailSettings
from codeb_report.nightly.run import NightlyOptions, outcome, run_nightly
from codeb_report.outputdir import today
from codeb_report.pipeline import collect_snapshot
from codeb_report.render import render_report
from codeb_report.snapshot import load

CLI = str(Path(sys.executable).with_name("codeb-report"))
PASSWORD_ENV = "CODEB_SMTP_PASSWORD"
PASSWORD = "Nightly-s3cret-42"


def _parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


def _settings(port: int, ca: CertAuthority) -> MailSettings:
    return MailSettings(
        host="127.0.0.1", port=port, username=USER, password_env=PASSWORD_ENV,
        sender="report@codeb.test", to=["cto@codeb.test"], ca_file=str(ca.ca_file),
        timeout=5, attempts=2, retry_delay=0.01,
    )  # fmt: skip


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    yield PASSWORD
    forget_secrets()


def _run(root: Path, settings: MailSettings) -> Exit:
    options = NightlyOptions(root, mail=settings)
    return run_nightly(
        options, lambda: collect_snapshot(None), analyse, render_report, sleep=lambda s: None
    )


def test_run_mails_the_days_pdf(smtp_ca: CertAuthority, tmp_path: Path, password: str) -> None:
    root = tmp_path / "output"
    with smtp_server(smtp_ca, "starttls", password) as server:
        code = _run(root, _settings(server.port, smtp_ca))
    day = root / today().isoformat()
    snapshot = load(day / "snapshot.json")
    assert code == outcome(snapshot)
    [received] = server.messages
    assert received.rcpt_tos == ["cto@codeb.test"]
    msg = _parse(received.data)
    high = len(analyse(snapshot).by_priority(Priority.HIGH))
    icon = "⚠️" if high else "✅"
    assert msg["Subject"] == (f"[CodeB] 서버 인프라 현황 리포트 {day.name} — {icon} High {high}건")
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == f"CodeB_인프라_리포트_{day.name}.pdf"
    assert attachment.get_content() == (day / "report.pdf").read_bytes()
    assert "mail: delivered to 1 recipient(s)" in (day / "run.log").read_text()


def test_run_with_a_refusing_server_keeps_the_report_and_exits_6(
    smtp_ca: CertAuthority, tmp_path: Path, password: str
) -> None:
    root = tmp_path / "output"
    faults = Faults(refuse_data="554 5.7.1 Relay access denied")
    with smtp_server(smtp_ca, "starttls", password, faults) as server:
        code = _run(root, _settings(server.port, smtp_ca))
    assert code == Exit.MAIL == 6
    day = root / today().isoformat()
    assert (day / "report.pdf").read_bytes().startswith(b"%PDF-")
    log = (day / "run.log").read_text()
    assert "ERROR - mail not delivered via 127.0.0.1" in log
    assert "554 5.7.1 Relay access denied; the report stays in" in log
    assert log.rstrip().endswith("run finished, exit code 6")
    assert server.handler.data_calls == 1 and server.messages == []


@pytest.fixture(scope="module")
def written_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run's output folder; tests copy it before they send from it."""
    root = tmp_path_factory.mktemp("written") / "output"
    run = subprocess.run([CLI, "run", "--output-root", str(root)], capture_output=True,
                         timeout=120)  # fmt: skip
    assert run.returncode in (Exit.OK, Exit.PARTIAL), run.stderr
    return root


@pytest.fixture
def output(written_day: Path, tmp_path: Path) -> Path:
    root = tmp_path / "output"
    shutil.copytree(written_day, root, symlinks=True)
    return root


def _config(tmp_path: Path, port: int, ca: CertAuthority, extra: str = "") -> Path:
    path = tmp_path / "codeb-report.toml"
    path.write_text(
        f"""
[[servers]]
name = "n1"
host = "127.0.0.1"

[mail]
host = "127.0.0.1"
port = {port}
username = "{USER}"
password_env = "{PASSWORD_ENV}"
sender = "CodeB 리포트 <report@codeb.test>"
to = ["cto@codeb.test", "ops@codeb.test"]
ca_file = "{ca.ca_file}"
timeout = 5
attempts = 2
retry_delay = 0.05
{extra}
""",
        encoding="utf-8",
    )
    return path


def _send(config: Path, output: Path, *args: str, password: str | None = PASSWORD):
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    if password is not None:
        env[PASSWORD_ENV] = password
    return subprocess.run(
        [CLI, "send", "--config", str(config), "--output-root", str(output), *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_send_mails_the_latest_report(smtp_ca: CertAuthority, tmp_path: Path, output: Path) -> None:
    with smtp_server(smtp_ca, "starttls", PASSWORD) as server:
        result = _send(_config(tmp_path, server.port, smtp_ca), output)
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
    [received] = server.messages
    assert received.rcpt_tos == ["cto@codeb.test", "ops@codeb.test"]
    msg = _parse(received.data)
    assert msg["Subject"].startswith("[CodeB] 서버 인프라 현황 리포트 ")
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content() == (output / "latest" / "report.pdf").read_bytes()
    assert "mail: delivered" in (output / "latest" / "run.log").read_text()


def test_send_failure_is_one_line_exit_6_and_never_shows_the_password(
    smtp_ca: CertAuthority, tmp_path: Path, output: Path
) -> None:
    wrong = "Wrong-Pw-" + os.urandom(6).hex()
    with smtp_server(smtp_ca, "starttls", PASSWORD) as server:
        result = _send(_config(tmp_path, server.port, smtp_ca), output, "-v", password=wrong)
    assert result.returncode == Exit.MAIL == 6
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "535 5.7.8 Authentication credentials invalid" in errors[0]
    log = (output / "latest" / "run.log").read_text()
    assert errors[0] in log
    assert (output / "latest" / "report.pdf").is_file()
    for text in (result.stdout, result.stderr, log):
        assert wrong not in text and PASSWORD not in text


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_server_echoing_the_auth_line_never_shows_the_password_in_any_form(
    smtp_ca: CertAuthority, tmp_path: Path, output: Path, mechanism: str
) -> None:
    wrong = "Wrong-Pw-" + os.urandom(6).hex()
    forms = {
        "plain": wrong,
        "AUTH PLAIN": base64.b64encode(f"\0{USER}\0{wrong}".encode()).decode(),
        "AUTH LOGIN": base64.b64encode(wrong.encode()).decode(),
    }
    faults = Faults(echo_auth=True, only_mechanism=mechanism)
    with smtp_server(smtp_ca, "starttls", PASSWORD, faults) as server:
        result = _send(_config(tmp_path, server.port, smtp_ca), output, "-v", password=wrong)
    assert result.returncode == Exit.MAIL
    assert server.handler.logins == [(USER, False)]
    log = (output / "latest" / "run.log").read_text()
    for text in (result.stdout, result.stderr, log):
        assert "535 5.7.8 Authentication failed: " in text or text == result.stdout
        for name, form in forms.items():
            assert form not in text, name
    assert "535 5.7.8 Authentication failed: " in result.stderr and "***" in result.stderr


def test_send_without_the_password_names_the_variable(
    smtp_ca: CertAuthority, tmp_path: Path, output: Path
) -> None:
    result = _send(_config(tmp_path, 2, smtp_ca), output, password=None)
    assert result.returncode == Exit.MAIL
    assert f"environment variable {PASSWORD_ENV} is not set" in result.stderr


def test_send_dry_run_writes_the_eml(smtp_ca: CertAuthority, tmp_path: Path, output: Path) -> None:
    day = (output / "latest").resolve()
    result = _send(_config(tmp_path, 2, smtp_ca), output, "--dry-run", day.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(day / "report.eml")
    msg = _parse((day / "report.eml").read_bytes())
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content() == (day / "report.pdf").read_bytes()


def test_plain_smtp_in_the_config_needs_allow_plain(
    smtp_ca: CertAuthority, tmp_path: Path, output: Path
) -> None:
    config = _config(tmp_path, 25, smtp_ca, extra='security = "plain"')
    result = _send(config, output)
    assert result.returncode == Exit.INPUT == 3
    [line] = result.stderr.splitlines()
    assert str(config) in line and "allow_plain = true" in line


def test_run_dry_run_files_the_message_in_the_day_and_sends_nothing(
    smtp_ca: CertAuthority, tmp_path: Path, password: str
) -> None:
    root = tmp_path / "output"
    with smtp_server(smtp_ca, "starttls", password) as server:
        options = NightlyOptions(root, mail=_settings(server.port, smtp_ca), dry_run=True)
        code = run_nightly(options, lambda: collect_snapshot(None), analyse, render_report)
    day = root / today().isoformat()
    assert code == outcome(load(day / "snapshot.json"))
    assert server.messages == [] and server.handler.data_calls == 0
    msg = _parse((day / "report.eml").read_bytes())
    assert msg["To"] == "cto@codeb.test"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content() == (day / "report.pdf").read_bytes()


def test_run_mail_flags_need_their_partners(tmp_path: Path) -> None:
    alone = subprocess.run([CLI, "run", "--dry-run"], capture_output=True, text=True, cwd=tmp_path)
    assert alone.returncode == Exit.USAGE and "--dry-run goes with --email" in alone.stderr
    no_config = subprocess.run(
        [CLI, "run", "--email"], capture_output=True, text=True, cwd=tmp_path
    )
    assert no_config.returncode == Exit.USAGE and "--email needs --config" in no_config.stderr
    assert list(tmp_path.iterdir()) == []  # nothing collected, nothing written


def test_check_config_reads_the_mail_password_source(
    smtp_ca: CertAuthority, tmp_path: Path
) -> None:
    config = _config(tmp_path, 587, smtp_ca)
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    missing = subprocess.run([CLI, "check-config", str(config)], capture_output=True,
                             text=True, env=env)  # fmt: skip
    assert missing.returncode == Exit.INPUT
    assert f"mail.password_env: environment variable {PASSWORD_ENV} is not set" in missing.stderr
    present = subprocess.run([CLI, "check-config", str(config)], capture_output=True,
                             text=True, env={**env, PASSWORD_ENV: PASSWORD})  # fmt: skip
    assert present.returncode == 0 and PASSWORD not in present.stdout + present.stderr


def test_send_mails_what_the_run_mailed(tmp_path: Path) -> None:
    """A night whose disk forecast is High: the run's mail counts it, and so does send's,
    since both judge the day with the history stored before it (night_of)."""
    import history_gen as gen

    from codeb_report.config import load_config
    from codeb_report.nightly.stages import night_of

    root = tmp_path / "output"
    start = today() - timedelta(days=34)
    gen.write_history(root, days=34, start=start)  # the 34 nights before tonight
    tonight = gen.snapshot_for(34, start=start)  # n1's /data: full in 10 days
    config_path = tmp_path / "fleet.toml"
    config_path.write_text(
        '[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n'
        "[trends]\nhigh_days = 14\n"
        '[mail]\nhost = "127.0.0.1"\nsender = "report@codeb.test"\nto = ["ops@codeb.test"]\n'
    )
    config = load_config(config_path)

    def render(snapshot, analysis, formats, out: Path) -> list[Path]:
        (out / "report.pdf").write_bytes(b"%PDF-1.7 stand-in for the attachment\n")
        return [out / "report.pdf"]

    stages = night_of(config, root, today())
    options = NightlyOptions(root, mail=config.mail, dry_run=True)
    run_nightly(options, lambda: tonight, stages.analyse, render)
    day = root / today().isoformat()
    ran = _parse((day / "report.eml").read_bytes())
    (day / "report.eml").unlink()

    sent = subprocess.run(
        [CLI, "send", "--config", str(config_path), "--output-root", str(root), "--dry-run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    again = _parse((day / "report.eml").read_bytes())
    high = ran.get_body(preferencelist=("plain",)).get_content().split("■ High 우선순위")[1]
    assert "디스크 용량 소진 예상: 10일 후 [n1]" in high.split("■")[0]
    assert again["Subject"] == ran["Subject"]
    for kind in ("plain", "html"):
        body = again.get_body(preferencelist=(kind,)).get_content()
        assert body == ran.get_body(preferencelist=(kind,)).get_content()
