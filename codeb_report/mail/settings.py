"""The ``[mail]`` section: where the report is mailed and how the SMTP login is found.

    [mail]
    host = "smtp.example.com"
    security = "starttls"          # or "tls" (implicit, port 465); "plain" needs allow_plain
    username = "report@example.com"
    password_env = "CODEB_SMTP_PASSWORD"   # or password_file = "/etc/codeb-report/smtp-password"
    sender = "CodeB 리포트 <report@example.com>"
    to = ["cto@example.com", "ops@example.com"]

The password itself never appears in the file: it is read from the named environment
variable or file when the mail is sent, and registered with the log's redaction filter.
"""

from __future__ import annotations

from email.utils import getaddresses, parseaddr
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codeb_report.errors import Exit, UserError
from codeb_report.logs import register_secret
from codeb_report.validation import OneLine

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "plain": 25}


class MailError(UserError):
    """The report is on disk but the mail did not go out."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.MAIL)


def _address(value: str) -> str:
    _name, addr = parseaddr(value)
    if not addr or "@" not in addr or " " in addr or addr.startswith("@") or addr.endswith("@"):
        raise ValueError(f"{value!r} is not a mail address")
    return value


class MailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535, strict=True)] | None = None
    security: Literal["starttls", "tls", "plain"] = "starttls"
    # Plain SMTP sends the login and the report unencrypted: only on explicit request.
    allow_plain: bool = Field(False, strict=True)
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    sender: str
    to: Annotated[list[str], Field(min_length=1)]
    cc: list[str] = Field(default_factory=list)
    # CA bundle to verify the server against instead of the system's (a private CA).
    ca_file: str | None = None
    timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    attempts: Annotated[int, Field(ge=1, le=10, strict=True)] = 4
    # Seconds before the first retry; doubled for each further one.
    retry_delay: Annotated[float, Field(ge=0, le=3600)] = 10.0
    subject_prefix: OneLine = "[CodeB]"

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("to", "cc")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    @model_validator(mode="after")
    def _consistent(self) -> MailSettings:
        if self.security == "plain" and not self.allow_plain:
            raise ValueError(
                'security = "plain" sends the password and the report unencrypted; '
                "set allow_plain = true to allow it"
            )
        if self.password_env and self.password_file:
            raise ValueError("set password_env or password_file, not both")
        if self.username and not (self.password_env or self.password_file):
            raise ValueError("username is set: also set password_env or password_file")
        return self

    @property
    def smtp_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    @property
    def envelope_recipients(self) -> list[str]:
        return [addr for _, addr in getaddresses([*self.to, *self.cc])]

    def password_problem(self) -> str | None:
        """Why the password cannot be read now (for ``check-config``), or None."""
        try:
            self.password()
        except MailError as exc:
            return exc.format_message()
        return None

    def password(self) -> str | None:
        """Read the login password now (a file's first line, as for every secret file);
        it goes on the redaction list before it is returned."""
        from codeb_report.probes.stack.settings import Secret

        # Validated as this section's fields already (one source at most).
        secret = Secret.model_construct(
            password_env=self.password_env, password_file=self.password_file
        )
        value, problem = secret.resolve()
        if problem:
            raise MailError(f"mail.{problem}")
        if value is not None:
            register_secret(value, login=self.username)  # its SMTP AUTH forms too
        return value
