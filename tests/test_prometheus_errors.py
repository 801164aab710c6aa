"""Prometheus that cannot answer: refused, 401, 5xx, a timeout, an unreadable answer.

Each is a reason on the fleet (snapshot.prometheus.error, the prometheus.unavailable
finding in Korean) and on every server it left without figures; never an exception, and
the run's exit code says partial (4) or failed (5).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.ports import free_port
from servers.prometheus import CannedAnswer, start_prometheus
from servers.smtp import CertAuthority

from codeb_report.analysis import analyse
from codeb_report.analysis.reasons import connection_reason, prometheus_reason
from codeb_report.collect.fleet import collection_exit
from codeb_report.config import parse_config
from codeb_report.errors import Exit
from codeb_report.logs import REDACTED, redact
from codeb_report.prometheus.client import PrometheusClient
from codeb_report.prometheus.collect import Target, read_fleet
from codeb_report.prometheus.matchers import fill_template
from codeb_report.prometheus.settings import PrometheusSettings
from codeb_report.prometheus.sources import collect_with_prometheus
from codeb_report.snapshot import Snapshot, dumps

PASSWORD = "pw-for-tests"
# bcrypt of PASSWORD, as Prometheus' web configuration wants it.
HASH = "$2b$04$BAXQ/pa5O0PYn8IhZ0hfROExwljLotO13wH6jnQ4ext8bpcAu0KBe"
TARGETS = [Target("n1", fill_template('instance="{host}:9100"', "10.0.0.1", "n1"))]


def collect(url: str, extra: str = "") -> Snapshot:
    text = f'[prometheus]\nurl = "{url}"\nservers = \'up{{job="node"}}\'\ntimeout = 2.0\n{extra}'
    return collect_with_prometheus(parse_config(text, "f.toml"), lambda *_: pytest.fail("ssh"))


def test_nothing_listening() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    snapshot = collect(url)
    assert snapshot.servers == []
    assert snapshot.prometheus is not None and snapshot.prometheus.error is not None
    assert snapshot.prometheus.error.startswith("cannot connect: ")
    assert "refused" in snapshot.prometheus.error.lower()
    assert collection_exit(snapshot) == Exit.FAILED
    [finding] = [f for f in analyse(snapshot).findings if f.rule == "prometheus.unavailable"]
    assert (finding.server, finding.priority, finding.summary) == (
        "전체",
        "High",
        "Prometheus 연결 실패",
    )
    reading = read_fleet(PrometheusSettings(url=url), TARGETS)
    assert reading.readings["n1"].error.startswith("prometheus unavailable: cannot connect")
    assert connection_reason(reading.readings["n1"].error).short == "Prometheus 연결 실패"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus behind basic auth (its own web configuration, bcrypt)."""
    work: Path = tmp_path_factory.mktemp("prometheus-auth")
    server = start_prometheus(work, web_config=f"basic_auth_users:\n  report: {HASH}\n")
    yield server.url
    server.stop()


def test_basic_auth_refused_then_accepted(
    guarded: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    snapshot = collect(guarded)
    assert snapshot.prometheus.error.startswith("HTTP 401")
    assert prometheus_reason(snapshot.prometheus.error).short == "Prometheus 인증 실패 (HTTP 401)"
    monkeypatch.setenv("PROM_PW", PASSWORD)
    snapshot = collect(guarded, 'username = "report"\npassword_env = "PROM_PW"\n')
    assert snapshot.prometheus.error is None  # no target matches: an empty fleet, no error
    assert PASSWORD not in dumps(snapshot)
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    text = f'username = "report"\npassword_file = "{secret}"\n'
    assert collect(guarded, text).prometheus.error is None


def test_secret_missing_is_named_not_sent(guarded: str) -> None:
    snapshot = collect(guarded, 'username = "report"\npassword_env = "PROM_PW_UNSET_X"\n')
    assert snapshot.prometheus.error == (
        "prometheus.password_env: environment variable PROM_PW_UNSET_X is not set"
    )


def test_bearer_token_is_sent_and_redacted(
    canned_http: tuple[str, CannedAnswer], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, answer = canned_http
    answer.body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}})
    answer.body = answer.body.encode()
    monkeypatch.setenv("PROM_TOKEN", "tok-secret-123")
    settings = PrometheusSettings(url=url, token_env="PROM_TOKEN")
    with PrometheusClient(settings) as client:
        assert client.query("up", 1.0) == []
    assert answer.headers[-1].get("Authorization") == "Bearer tok-secret-123"
    assert redact("sent tok-secret-123") == f"sent {REDACTED}"  # the log filter's function


@pytest.mark.parametrize(
    ("status", "body", "error", "korean"),
    [
        (
            503,
            {"status": "error", "errorType": "timeout", "error": "query timed out in query"},
            "query timed out: query timed out in query",
            "Prometheus 질의 시간 초과",
        ),
        (
            422,
            {"status": "error", "errorType": "execution", "error": "too many samples"},
            "HTTP 422: execution: too many samples",
            "Prometheus 응답 오류 (HTTP 422)",
        ),
        (502, "<html>Bad Gateway</html>", "HTTP 502", "Prometheus 응답 오류 (HTTP 502)"),
        (200, "<html>not Prometheus</html>", "answer is not JSON", "Prometheus 연결 실패"),
    ],
)
def test_error_answers(
    canned_http: tuple[str, CannedAnswer],
    status: int,
    body: object,
    error: str,
    korean: str,
) -> None:
    url, answer = canned_http
    answer.status = status
    answer.body = (body if isinstance(body, str) else json.dumps(body)).encode()
    snapshot = collect(url)
    assert snapshot.prometheus.error.startswith(error)
    assert snapshot.prometheus.error.endswith(f"({url}/api/v1/query)")
    assert prometheus_reason(snapshot.prometheus.error).short == korean


def test_an_answer_too_slow(canned_http: tuple[str, CannedAnswer]) -> None:
    url, answer = canned_http
    answer.delay = 4.0  # the client waits twice the timeout: 2 s
    settings = PrometheusSettings(url=url, timeout=1.0)
    reading = read_fleet(settings, TARGETS)
    assert reading.error.startswith("timed out after 1 s")
    assert connection_reason(reading.readings["n1"].error).short == "Prometheus 질의 시간 초과"


def test_an_answer_too_large(canned_http: tuple[str, CannedAnswer]) -> None:
    url, answer = canned_http
    answer.body = b"[" + b"0," * (1024 * 1024) + b"0]"
    reading = read_fleet(PrometheusSettings(url=url, max_response_mb=1), TARGETS)
    assert reading.error == "answer larger than max_response_mb (1 MB)"


def test_non_finite_values_are_dropped(canned_http: tuple[str, CannedAnswer]) -> None:
    url, answer = canned_http
    result = [
        {"metric": {"instance": "a"}, "value": [1.0, "NaN"]},
        {"metric": {"instance": "b"}, "value": [1.0, "+Inf"]},
        {"metric": {"instance": "c"}, "value": [1.0, "2.5"]},
        {"metric": "junk", "value": "junk"},
    ]
    answer.body = json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()
    with PrometheusClient(PrometheusSettings(url=url)) as client:
        samples = client.query("x", 1.0)
    assert [(s.labels, s.value) for s in samples] == [({"instance": "c"}, 2.5)]


def test_a_port_that_accepts_but_never_answers() -> None:
    """A listening socket nobody accepts on: connect succeeds, the answer never comes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        reading = read_fleet(PrometheusSettings(url=url, timeout=0.5), TARGETS)
    assert reading.error is not None and reading.error.startswith("timed out after 0.5 s")


def test_https_verified_against_the_configured_ca(
    tmp_path_factory: pytest.TempPathFactory, smtp_ca: CertAuthority
) -> None:
    """A Prometheus serving TLS with a private CA: refused without ca_file, read with it."""
    web = f"tls_server_config:\n  cert_file: {smtp_ca.cert_file}\n  key_file: {smtp_ca.key_file}\n"
    server = start_prometheus(
        tmp_path_factory.mktemp("prometheus-tls"), web_config=web, ca_file=smtp_ca.ca_file
    )
    try:
        assert server.url.startswith("https://127.0.0.1:")
        refused = collect(server.url)
        assert refused.prometheus.error.startswith("cannot connect: ")
        assert "CERTIFICATE_VERIFY_FAILED" in refused.prometheus.error
        trusted = collect(server.url, f'ca_file = "{smtp_ca.ca_file}"\n')
        assert trusted.prometheus.error is None
        missing = collect(server.url, 'ca_file = "/nonexistent/ca.pem"\n')
        assert missing.prometheus.error == "ca_file /nonexistent/ca.pem: No such file or directory"
    finally:
        server.stop()


def test_range_answers_keep_only_finite_values_on_the_grid(
    canned_http: tuple[str, CannedAnswer],
) -> None:
    url, answer = canned_http
    good = [[100, "1"], [110, "NaN"], [120, "+Inf"], [130, "2.5"], [990, "9"]]
    bad = [[100, "1"], "junk", [120, "x"], [140, "4"]]
    result = [{"metric": {"i": "a"}, "values": good}, {"metric": {"i": "b"}, "values": bad}]
    answer.body = json.dumps(
        {"status": "success", "data": {"resultType": "matrix", "result": result}}
    ).encode()
    with PrometheusClient(PrometheusSettings(url=url)) as client:
        a, b = client.query_range("x", 100, 140, 10)
    assert a.values == [1.0, None, None, 2.5, None]  # 990 is off the grid
    assert b.values == [1.0, None, None, None, 4.0]
