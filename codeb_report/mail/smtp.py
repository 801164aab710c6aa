"""Sending over SMTP: encrypted and verified, retried with backoff when the failure can pass.

Certificates are checked with ``ssl.create_default_context`` (optionally against the
configured CA file). STARTTLS is required when configured: a server that does not offer
it is a final failure, never a silent fall back to plain text.

Retried: dropped or refused connections, time-outs and 4xx replies. Not retried: 5xx
replies, a refused login, a certificate that does not verify, a missing STARTTLS.
"""

from __future__ import annotations

import contextlib
import random
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

from codeb_report.logs import get_logger, redact
from codeb_report.mail.settings import MailError, MailSettings

log = get_logger("mail")


class NoStartTLS(smtplib.SMTPException):
    """The server does not offer STARTTLS although the configuration requires it."""


class SomeRefused(smtplib.SMTPException):
    """The server took the mail for some recipients only: resending would duplicate it."""


def tls_context(settings: MailSettings) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise MailError(f"mail.ca_file: {settings.ca_file}: {exc}") from None


def is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, ssl.SSLCertVerificationError | NoStartTLS | SomeRefused):
        return True
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(
            f"{addr} ({code} {reply.decode(errors='replace')})"
            for addr, (code, reply) in exc.recipients.items()
        )
        return f"recipients refused: {refused}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        # A server may quote the client's AUTH line: the reason is redacted here, before
        # it becomes a MailError that any caller may print.
        return redact(f"server replied {exc.smtp_code} {' '.join(text.split())}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    detail = str(exc) or "no detail"
    return f"{type(exc).__name__}: {' '.join(detail.split())}"


def _open(settings: MailSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host, settings.smtp_port, timeout=settings.timeout, context=context
        )
    return smtplib.SMTP(settings.host, settings.smtp_port, timeout=settings.timeout)


def send_once(
    settings: MailSettings, msg: EmailMessage, password: str | None, context: ssl.SSLContext
) -> None:
    smtp = _open(settings, context)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise NoStartTLS("the server does not offer STARTTLS; not sending unencrypted")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, password or "")
        refused = smtp.send_message(
            msg, from_addr=settings.envelope_sender, to_addrs=settings.envelope_recipients
        )
        if refused:
            raise SomeRefused(describe(smtplib.SMTPRecipientsRefused(refused)))
        # The mail is accepted: a failed goodbye must not make the caller send it twice.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    finally:
        smtp.close()


def backoff(settings: MailSettings, attempt: int) -> float:
    """Seconds to wait after failed ``attempt`` (1-based): doubling, with ±20% jitter."""
    return settings.retry_delay * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)


def send(
    settings: MailSettings, msg: EmailMessage, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Deliver ``msg``; returns the attempt that succeeded, raises ``MailError`` at the end.

    Each failed attempt is logged here; the final failure is logged by the caller.
    """
    password = settings.password()
    context = tls_context(settings)
    where = f"{settings.host}:{settings.smtp_port} ({settings.security})"
    recipients = len(settings.envelope_recipients)
    for attempt in range(1, settings.attempts + 1):
        try:
            send_once(settings, msg, password, context)
        except (OSError, smtplib.SMTPException) as exc:
            reason = describe(exc)
            if is_permanent(exc) or attempt == settings.attempts:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise MailError(f"mail not delivered via {where}{tries}: {reason}") from None
            delay = backoff(settings, attempt)
            log.warning(
                "mail: attempt %d/%d via %s failed: %s; retrying in %.1f s",
                attempt,
                settings.attempts,
                where,
                reason,
                delay,
            )
            sleep(delay)
        else:
            log.info(
                "mail: delivered to %d recipient(s) via %s (attempt %d)", recipients, where, attempt
            )
            return attempt
    raise AssertionError("unreachable")  # pragma: no cover
