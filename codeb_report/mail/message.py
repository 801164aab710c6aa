"""The report mail: Korean subject, short summary (plain text + HTML) and the PDF attached.

Collected text (server names, finding descriptions) is data: it is escaped in the HTML
part and flattened to one line in the plain part, so it can neither add markup nor fake
lines of the summary.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from codeb_report import __version__
from codeb_report.analysis.model import Analysis, Finding, Priority, ServerAnalysis, Text
from codeb_report.controls import one_line
from codeb_report.mail.settings import MailSettings
from codeb_report.snapshot import Snapshot

TITLE = "서버 인프라 현황 리포트"


def attachment_name(day: date) -> str:
    return f"CodeB_인프라_리포트_{day.isoformat()}.pdf"


def ascii_attachment_name(day: date) -> str:
    """For mail programs that do not read RFC 2231 names."""
    return f"CodeB_infra_report_{day.isoformat()}.pdf"


def subject(settings: MailSettings, day: date, analysis: Analysis) -> str:
    high = len(analysis.by_priority(Priority.HIGH))
    icon = "⚠️" if high else "✅"
    return f"{settings.subject_prefix} {TITLE} {day.isoformat()} — {icon} High {high}건"


def _one_line(value: str) -> str:
    return " ".join(one_line(value).split())


def _plain(text: Text) -> str:
    return _one_line("".join(span.text for span in text))


def _escaped(value: str) -> str:
    return html.escape(_one_line(value))


def _html(text: Text) -> str:
    parts = []
    for span in text:
        escaped = _escaped(span.text)
        parts.append(f"<code>{escaped}</code>" if span.code else escaped)
    return "".join(parts)


def _role(snapshot: Snapshot, name: str) -> str:
    server = snapshot.server(name)
    return server.role if server else ""


def _server_line(server: ServerAnalysis, role: str) -> str:
    uptime = f", 가동 {server.uptime}" if server.uptime else ""
    role_text = f" ({_one_line(role)})" if role else ""
    return f"- {_one_line(server.name)}{role_text}: {server.state.label}{uptime}"


def _finding_line(finding: Finding) -> str:
    icon = f"{finding.icon} " if finding.icon else ""
    return (
        f"- {icon}{_one_line(finding.title)} [{_one_line(finding.server)}]: "
        f"{_plain(finding.description)} → {_one_line(finding.action)}"
    )


def plain_body(
    snapshot: Snapshot, analysis: Analysis, day: date, changes: list[str] | None = None
) -> str:
    high = analysis.by_priority(Priority.HIGH)
    lines = [f"CodeB {TITLE} — {day.isoformat()}", "", "■ 서버 상태"]
    lines += [_server_line(s, _role(snapshot, s.name)) for s in analysis.servers]
    if changes is not None:  # codeb_report.history.section.mail_changes
        lines += ["", "■ 전일 대비 변경 사항"] + [f"- {_one_line(c)}" for c in changes]
    lines += ["", f"■ High 우선순위 ({len(high)}건)"]
    lines += [_finding_line(f) for f in high] or ["- 없음"]
    lines += ["", "■ 다음 단계"]
    lines += [f"{i}. {_one_line(step)}" for i, step in enumerate(analysis.next_steps, 1)]
    if not analysis.next_steps:
        lines.append("- 없음")
    lines += [
        "",
        f"전체 리포트는 첨부한 PDF({attachment_name(day)})를 확인하세요.",
        f"— codeb-report {__version__}",
    ]
    return "\n".join(lines) + "\n"


_CELL = 'style="border:1px solid #ccc;padding:2px 8px"'


def _row(cells: list[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag} {_CELL}>{c}</{tag}>" for c in cells) + "</tr>"


def html_body(
    snapshot: Snapshot, analysis: Analysis, day: date, changes: list[str] | None = None
) -> str:
    e = _escaped
    changed = (
        "<h3>전일 대비 변경 사항</h3><ul>" + "".join(f"<li>{e(c)}</li>" for c in changes) + "</ul>"
        if changes is not None
        else ""
    )
    high = analysis.by_priority(Priority.HIGH)
    rows = "".join(
        _row(
            [f"<b>{e(s.name)}</b>", e(_role(snapshot, s.name)), e(s.state.label), e(s.uptime or "")]
        )
        for s in analysis.servers
    )
    findings = (
        "".join(
            f"<li>{e(f.icon or '')} <b>{e(f.title)}</b> [{e(f.server)}]: "
            f"{_html(f.description)} → {e(f.action)}</li>"
            for f in high
        )
        or "<li>없음</li>"
    )
    steps = "".join(f"<li>{e(step)}</li>" for step in analysis.next_steps) or "<li>없음</li>"
    heading = f"CodeB {TITLE} — {day.isoformat()}"
    return (
        '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">'
        f"<title>{heading}</title></head>"
        '<body style="font-family:sans-serif">'
        f"<h2>{heading}</h2>"
        '<h3>서버 상태</h3><table style="border-collapse:collapse">'
        f"{_row(['서버', '역할', '상태', '가동시간'], 'th')}{rows}</table>{changed}"
        f"<h3>High 우선순위 ({len(high)}건)</h3><ul>{findings}</ul>"
        f"<h3>다음 단계</h3><ol>{steps}</ol>"
        f"<p>전체 리포트는 첨부한 PDF({e(attachment_name(day))})를 확인하세요.</p>"
        f'<p style="color:#888">— codeb-report {e(__version__)}</p>'
        "</body></html>\n"
    )


def build_message(
    settings: MailSettings,
    snapshot: Snapshot,
    analysis: Analysis,
    pdf: bytes,
    day: date,
    now: datetime | None = None,
    changes: list[str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(settings, day, analysis)
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.to)
    if settings.cc:
        msg["Cc"] = ", ".join(settings.cc)
    msg["Date"] = format_datetime(now or datetime.now().astimezone())
    msg["Message-ID"] = make_msgid("codeb-report", settings.envelope_sender.rpartition("@")[2])
    # RFC 3834: keeps vacation responders from answering a nightly robot.
    msg["Auto-Submitted"] = "auto-generated"
    # base64 keeps the Korean text intact through relays without 8BITMIME.
    msg.set_content(plain_body(snapshot, analysis, day, changes), cte="base64")
    msg.add_alternative(html_body(snapshot, analysis, day, changes), subtype="html", cte="base64")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=attachment_name(day))
    attachment = next(msg.iter_attachments())
    # Content-Disposition carries the Korean name (RFC 2231); older programs read this.
    attachment.set_param("name", ascii_attachment_name(day), header="Content-Type")
    return msg
