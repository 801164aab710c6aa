"""A real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS or implicit TLS on a test CA, AUTH.

The certificate authority and the server's certificate (for 127.0.0.1 and localhost) are
generated when the tests start; codeb-report is pointed at the CA with ``mail.ca_file``.
``Faults`` make the server refuse (5xx), defer (4xx) or recipients bounce, and
``DroppingProxy`` cuts a connection after some bytes, in the middle of the DATA transfer.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from servers.ports import free_port

USER = "report@codeb.test"


@dataclass(frozen=True)
class CertAuthority:
    ca_file: Path  # what the client trusts
    cert_file: Path  # the server's certificate, signed by the CA
    key_file: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_test_ca(folder: Path) -> CertAuthority:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("codeb-report test CA"))
        .issuer_name(_name("codeb-report test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca = CertAuthority(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    ca.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Faults:
    """What the server does wrong; counters run down as faults are served."""

    refuse_data: str | None = None  # e.g. "554 5.6.0 Message rejected": every time
    defer_data: int = 0  # reply "451" to this many DATA commands, then accept
    bounce: set[str] = field(default_factory=set)  # recipients answered with 550
    # Quote the client's AUTH data in the 535 reply (as some servers do): AUTH PLAIN's
    # base64 of "\0user\0password", AUTH LOGIN's base64 of the password.
    echo_auth: bool = False
    # Offer only this AUTH mechanism ("PLAIN" or "LOGIN"); None: both.
    only_mechanism: str | None = None


class Handler:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.messages: list[Received] = []
        self.rcpt_calls = 0
        self.data_calls = 0
        self.logins: list[tuple[str, bool]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_calls += 1
        if address in self.faults.bounce:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        if self.faults.refuse_data:
            return self.faults.refuse_data
        if self.faults.defer_data > 0:
            self.faults.defer_data -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 Message accepted for delivery"


@dataclass
class SMTPServer:
    port: int
    mode: str  # "starttls", "tls" or "plain"
    username: str
    password: str
    ca: CertAuthority
    handler: Handler

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


def _authenticator(handler: Handler, password: str) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode()
        ok = login == USER and data.password.decode() == password
        handler.logins.append((login, ok))
        if not ok and handler.faults.echo_auth:
            return AuthResult(success=False, handled=False, message=_echo(mechanism, data))
        return AuthResult(success=ok, handled=False)

    return check


def _echo(mechanism: str, data: LoginPassword) -> str:
    if mechanism == "PLAIN":
        sent = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
        return f"535 5.7.8 Authentication failed: AUTH PLAIN {sent}"
    return f"535 5.7.8 Authentication failed: {base64.b64encode(data.password).decode()}"


@contextmanager
def smtp_server(
    ca: CertAuthority,
    mode: str = "starttls",
    password: str = "s3cret-Pw!",
    faults: Faults | None = None,
) -> Iterator[SMTPServer]:
    """Run aiosmtpd on 127.0.0.1 until the block ends; AUTH PLAIN/LOGIN as ``USER``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(ca.cert_file, ca.key_file)
    handler = Handler(faults or Faults())
    port = free_port()
    kwargs: dict[str, Any] = {
        "authenticator": _authenticator(handler, password),
    }
    if handler.faults.only_mechanism:
        others = {"PLAIN", "LOGIN"} - {handler.faults.only_mechanism}
        kwargs["auth_exclude_mechanism"] = sorted(others)
    if mode == "starttls":
        kwargs |= {"tls_context": context, "require_starttls": True}
    elif mode == "tls":
        # The connection is encrypted from the start; aiosmtpd only knows of STARTTLS.
        kwargs |= {"ssl_context": context, "auth_require_tls": False}
    else:
        kwargs |= {"auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SMTPServer(port, mode, USER, password, ca, handler)
    finally:
        controller.stop()


class DroppingProxy:
    """Relays 127.0.0.1:port to a server; cuts connection i after ``cuts[i]`` client bytes.

    Connections beyond the list pass untouched. The cut closes both sides without a word,
    as a crashed relay or a broken link would.
    """

    def __init__(self, upstream: int, cuts: list[int]) -> None:
        self.upstream = upstream
        self.cuts = list(cuts)
        self.connections = 0
        self.cut = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def __enter__(self) -> DroppingProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            limit = self.cuts[self.connections] if self.connections < len(self.cuts) else None
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.upstream))
            self._spawn(self._pump, client, server, limit)
            self._spawn(self._pump, server, client, None)

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if limit is not None and sent + len(chunk) >= limit:
                    dst.sendall(chunk[: limit - sent])
                    self.cut += 1
                    break
                dst.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture(scope="session")
def smtp_ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    return make_test_ca(tmp_path_factory.mktemp("smtp-ca"))
