"""Mailing the report through a real aiosmtpd server on 127.0.0.1 (TLS on a test CA, AUTH)."""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from servers.smtp import (
    USER,
    CertAuthority,
    DroppingProxy,
    Faults,
    smtp_server,
)

from codeb_report.analysis.model import (
    Analysis,
    Finding,
    Level,
    Priority,
    ServerAnalysis,
    Status,
    code,
    text,
)
from codeb_report.errors import Exit
from codeb_report.logs import forget_secrets, setup_stderr
from codeb_report.mail.deliver import mail_report
from codeb_report.mail.message import build_message
from codeb_report.mail.settings import MailError, MailSettings
from codeb_report.snapshot import Server, Snapshot

DAY = date(2025, 12, 20)
SUBJECT = "[CodeB] 서버 인프라 현황 리포트 2025-12-20 — ⚠️ High 2건"
KOREAN_NAME = "CodeB_인프라_리포트_2025-12-20.pdf"
PASSWORD_ENV = "CODEB_TEST_SMTP_PASSWORD"


def _snapshot() -> Snapshot:
    servers = [
        Server(name="n2", host="streaming", role="Streaming", reachable=True),
        Server(name="n4", host="backup", role="Backup <b>", reachable=True),
    ]
    return Snapshot(
        collected_at=datetime(2025, 12, 19, 18, 0, tzinfo=UTC),
        collector_version="0.1.0",
        servers=servers,
    )


def _analysis() -> Analysis:
    active = Status(level=Level.OK, word="Active")
    return Analysis(
        servers=[
            ServerAnalysis(name="n2", state=active, uptime="80일"),
            ServerAnalysis(name="n4", state=active, uptime="32일"),
        ],
        findings=[
            Finding(
                rule="backup-empty",
                priority=Priority.HIGH,
                server="n4",
                title="백업 미설정",
                description=text(code("/opt/codeb/<backups>"), " 비어있음"),
                action="백업 자동화 설정",
                icon="⚠️",
            ),
            Finding(
                rule="centrifugo-origins",
                priority=Priority.HIGH,
                server="n2",
                title="Centrifugo 보안",
                description=text(code("allowed_origins: *")),
                action="도메인 명시적 설정",
                icon="⚠️",
            ),
            Finding(
                rule="redis-auth",
                priority=Priority.MEDIUM,
                server="n3",
                title="Redis 인증",
                description=text("인증 설정됨"),
                action="환경변수에 비밀번호 추가",
            ),
        ],
        assessment=[],
        next_steps=["n4 백업 자동화 설정", "모니터링 대시보드 구축 (Grafana/Prometheus)"],
    )


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    """A report folder with a PDF of some size (the mail treats it as bytes)."""
    folder = tmp_path / "2025-12-20"
    folder.mkdir()
    path = folder / "report.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(60_000) + b"\n%%EOF\n")
    return path


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "s3cret-Pw!"
    monkeypatch.setenv(PASSWORD_ENV, value)
    yield value
    forget_secrets()


def _settings(server_port: int, ca: CertAuthority | None, **extra: object) -> MailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server_port,
        "username": USER,
        "password_env": PASSWORD_ENV,
        "sender": "CodeB 리포트 <report@codeb.test>",
        "to": ["cto@codeb.test", "운영팀 <ops@codeb.test>"],
        "cc": ["audit@codeb.test"],
        "ca_file": str(ca.ca_file) if ca else None,
        "timeout": 5,
        "attempts": 3,
        "retry_delay": 0.01,
    }
    values.update(extra)
    return MailSettings.model_validate(values)


def _send(settings: MailSettings, pdf: Path, sleeps: list[float] | None = None) -> None:
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    mail_report(settings, pdf.parent, _snapshot(), _analysis(), DAY, sleep=record)


def _parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


def test_starttls_with_auth_delivers_the_korean_message(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    with smtp_server(smtp_ca, "starttls", password) as server:
        _send(_settings(server.port, smtp_ca), pdf)
    assert server.handler.logins == [(USER, True)]
    [received] = server.messages
    assert received.mail_from == "report@codeb.test"
    assert received.rcpt_tos == ["cto@codeb.test", "ops@codeb.test", "audit@codeb.test"]
    msg = _parse(received.data)
    assert msg["Subject"] == SUBJECT
    assert msg["To"].addresses[1].display_name == "운영팀"
    assert msg["Auto-Submitted"] == "auto-generated"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == KOREAN_NAME
    assert attachment.get_param("name") == "CodeB_infra_report_2025-12-20.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf.read_bytes()
    plain = msg.get_body(("plain",)).get_content()
    assert "- n4 (Backup <b>): ✅ Active, 가동 32일" in plain
    assert "■ High 우선순위 (2건)" in plain
    assert "- ⚠️ 백업 미설정 [n4]: /opt/codeb/<backups> 비어있음 → 백업 자동화 설정" in plain
    assert "Redis 인증" not in plain  # Medium findings stay in the PDF
    assert "1. n4 백업 자동화 설정" in plain
    html = msg.get_body(("html",)).get_content()
    assert "<code>/opt/codeb/&lt;backups&gt;</code>" in html
    assert "Backup &lt;b&gt;" in html and "<b>n4</b>" in html
    assert "<backups>" not in html


def test_implicit_tls_delivers(smtp_ca: CertAuthority, pdf: Path, password: str) -> None:
    with smtp_server(smtp_ca, "tls", password) as server:
        _send(_settings(server.port, smtp_ca, security="tls"), pdf)
    [received] = server.messages
    assert _parse(received.data)["Subject"] == SUBJECT


def test_a_certificate_the_system_does_not_trust_is_refused_without_retry(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    sleeps: list[float] = []
    with smtp_server(smtp_ca, "starttls", password) as server, pytest.raises(MailError) as err:
        _send(_settings(server.port, None), pdf, sleeps)
    assert err.value.exit_code == Exit.MAIL == 6
    assert "certificate not trusted" in err.value.format_message()
    assert server.handler.logins == [] and server.messages == [] and sleeps == []


def test_starttls_missing_is_refused_not_downgraded(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    with smtp_server(smtp_ca, "plain", password) as server, pytest.raises(MailError) as err:
        _send(_settings(server.port, smtp_ca), pdf)
    assert "does not offer STARTTLS" in err.value.format_message()
    assert server.handler.logins == [] and server.messages == []


def test_plain_smtp_only_when_explicitly_allowed(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    with pytest.raises(ValueError, match="allow_plain = true"):
        _settings(25, None, security="plain")
    with smtp_server(smtp_ca, "plain", password) as server:
        _send(_settings(server.port, None, security="plain", allow_plain=True), pdf)
    assert len(server.messages) == 1


def test_a_refusing_server_fails_at_once(smtp_ca: CertAuthority, pdf: Path, password: str) -> None:
    sleeps: list[float] = []
    faults = Faults(refuse_data="554 5.6.0 Message rejected by policy")
    with (
        smtp_server(smtp_ca, "starttls", password, faults) as server,
        pytest.raises(MailError) as err,
    ):
        _send(_settings(server.port, smtp_ca), pdf, sleeps)
    assert "554 5.6.0 Message rejected by policy" in err.value.format_message()
    assert server.handler.data_calls == 1 and sleeps == []
    assert pdf.is_file()


def test_deferrals_are_retried_with_growing_waits(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    sleeps: list[float] = []
    with smtp_server(smtp_ca, "starttls", password, Faults(defer_data=2)) as server:
        _send(_settings(server.port, smtp_ca, retry_delay=1.0), pdf, sleeps)
    assert server.handler.data_calls == 3 and len(server.messages) == 1
    assert len(sleeps) == 2
    assert 0.8 <= sleeps[0] <= 1.2 and 1.6 <= sleeps[1] <= 2.4


def test_a_connection_dropped_mid_transfer_is_retried(
    smtp_ca: CertAuthority, pdf: Path, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    # 20 kB into the connection: past TLS and the envelope, inside the 80 kB message.
    with (
        smtp_server(smtp_ca, "starttls", password) as server,
        DroppingProxy(server.port, cuts=[20_000]) as proxy,
        caplog.at_level(logging.INFO),
    ):
        _send(_settings(proxy.port, smtp_ca), pdf)
    assert proxy.cut == 1 and proxy.connections == 2
    assert server.handler.rcpt_calls == 6  # both connections got as far as the data
    [received] = server.messages
    [attachment] = list(_parse(received.data).iter_attachments())
    assert attachment.get_content() == pdf.read_bytes()
    assert "attempt 1/3" in caplog.text and "failed" in caplog.text


def test_a_connection_dropped_every_time_fails_after_all_attempts(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    with (
        smtp_server(smtp_ca, "starttls", password) as server,
        DroppingProxy(server.port, cuts=[20_000] * 3) as proxy,
        pytest.raises(MailError) as err,
    ):
        _send(_settings(proxy.port, smtp_ca), pdf)
    assert "after 3 attempts" in err.value.format_message()
    assert proxy.connections == 3 and server.messages == []


def test_a_refused_login_is_final_and_never_shows_the_password(
    smtp_ca: CertAuthority, pdf: Path, password: str, capfd: pytest.CaptureFixture[str]
) -> None:
    handler = setup_stderr(logging.INFO)
    os.environ[PASSWORD_ENV] = "wrong-Passw0rd"
    sleeps: list[float] = []
    try:
        with smtp_server(smtp_ca, "starttls", password) as server, pytest.raises(MailError) as err:
            _send(_settings(server.port, smtp_ca), pdf, sleeps)
    finally:
        logging.getLogger("codeb_report").removeHandler(handler)
    assert "535" in err.value.format_message() and sleeps == []
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN) within one attempt.
    assert server.handler.logins and not any(ok for _, ok in server.handler.logins)
    stderr = capfd.readouterr().err
    assert "mail not delivered" in stderr
    assert "wrong-Passw0rd" not in stderr + err.value.format_message()


def test_a_bounced_recipient_is_reported_and_not_resent(
    smtp_ca: CertAuthority, pdf: Path, password: str
) -> None:
    sleeps: list[float] = []
    faults = Faults(bounce={"audit@codeb.test"})
    with (
        smtp_server(smtp_ca, "starttls", password, faults) as server,
        pytest.raises(MailError) as err,
    ):
        _send(_settings(server.port, smtp_ca), pdf, sleeps)
    assert "audit@codeb.test (550" in err.value.format_message()
    [received] = server.messages
    assert received.rcpt_tos == ["cto@codeb.test", "ops@codeb.test"]
    assert sleeps == []


def test_password_from_a_file(smtp_ca: CertAuthority, pdf: Path, tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("file-Secret-9\n")
    with smtp_server(smtp_ca, "starttls", "file-Secret-9") as server:
        settings = _settings(server.port, smtp_ca, password_env=None, password_file=str(secret))
        _send(settings, pdf)
    assert server.handler.logins == [(USER, True)]
    forget_secrets()


def test_a_missing_password_names_the_variable(pdf: Path, smtp_ca: CertAuthority) -> None:
    os.environ.pop(PASSWORD_ENV, None)
    with pytest.raises(MailError, match=f"mail.password_env: environment variable {PASSWORD_ENV}"):
        _send(_settings(2525, smtp_ca), pdf)


def test_dry_run_writes_the_message_beside_the_report(pdf: Path) -> None:
    settings = _settings(2525, None)
    eml = mail_report(settings, pdf.parent, _snapshot(), _analysis(), DAY, dry_run=True)
    assert eml == pdf.parent / "report.eml"
    msg = _parse(eml.read_bytes())
    assert msg["Subject"] == SUBJECT
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content() == pdf.read_bytes()


def test_subject_without_high_findings() -> None:
    analysis = _analysis()
    analysis.findings = [f for f in analysis.findings if f.priority != Priority.HIGH]
    msg = build_message(_settings(2525, None), _snapshot(), analysis, b"%PDF", DAY)
    assert msg["Subject"] == "[CodeB] 서버 인프라 현황 리포트 2025-12-20 — ✅ High 0건"
    assert "- 없음" in msg.get_body(("plain",)).get_content()


def test_a_report_pdf_that_is_a_fifo_fails_the_mail_at_once(tmp_path: Path) -> None:
    """A FIFO planted as report.pdf would make the mail wait forever for a writer."""
    folder = tmp_path / "2025-12-20"
    folder.mkdir()
    os.mkfifo(folder / "report.pdf")
    done: list[BaseException] = []

    def send() -> None:
        try:
            mail_report(_settings(2525, None), folder, _snapshot(), _analysis(), DAY, dry_run=True)
        except BaseException as exc:
            done.append(exc)

    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the mail waited on a FIFO"
    [error] = done
    assert isinstance(error, MailError)
    assert str(error) == f"{folder / 'report.pdf'}: not a regular file (a FIFO)"
