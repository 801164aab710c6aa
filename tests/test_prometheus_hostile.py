"""A Prometheus (or whatever answers at its URL) with absurd figures and huge labels.

Its answers are data like a server's output: finite but impossible numbers leave the
figure out (the server is still reported), and no label value grows the report without
bound. Served by a real HTTP server on 127.0.0.1 (``canned_http``).
"""

from __future__ import annotations

import base64
import json

import pytest
from servers.prometheus import CannedAnswer

from codeb_report.prometheus.client import MAX_LABEL_CHARS, PrometheusClient
from codeb_report.prometheus.collect import Target, read_fleet
from codeb_report.prometheus.matchers import fill_template
from codeb_report.prometheus.settings import PrometheusSettings
from codeb_report.snapshot import MAX_LOAD

AT = 1000.0  # the query time; the canned answer's first sample doubles as "last seen"
TARGETS = [Target("n1", fill_template('instance="{host}:9100"', "10.0.0.1", "n1"))]


def vector(samples: list[tuple[str, str, dict[str, str]]]) -> bytes:
    result = [
        {"metric": {"__name__": name, "instance": "10.0.0.1:9100", **labels}, "value": [AT, value]}
        for name, value, labels in samples
    ]
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()


def absurd(value: str) -> bytes:
    fs = {"mountpoint": "/", "device": "/dev/vda1", "fstype": "ext4"}
    return vector(
        [
            ("up", str(AT), {}),  # first: read as the time node_uname_info was last seen
            ("node_uname_info", "1", {"nodename": "n1", "release": "6.1.0"}),
            ("node_memory_MemTotal_bytes", value, {}),
            ("node_memory_MemAvailable_bytes", "1", {}),
            ("node_memory_SwapTotal_bytes", value, {}),
            ("node_memory_SwapFree_bytes", "1", {}),
            ("node_load1", value, {}),
            ("node_load5", "1", {}),
            ("node_load15", "1", {}),
            ("node_boot_time_seconds", f"-{value}", {}),
            ("node_time_seconds", str(AT), {}),
            ("node_filesystem_size_bytes", value, fs),
            ("node_filesystem_free_bytes", "1", fs),
            ("node_filesystem_avail_bytes", "1", fs),
        ]
    )


def test_impossible_figures_are_left_out_not_a_crash(
    canned_http: tuple[str, CannedAnswer],
) -> None:
    url, answer = canned_http
    answer.body = absurd("1e300")
    reading = read_fleet(PrometheusSettings(url=url), TARGETS, at=AT).readings["n1"]
    assert reading.error is None
    assert reading.system is not None and reading.system.hostname == "n1"
    assert reading.system.load is None and reading.system.uptime_seconds is None
    assert reading.memory is None and "memory" in reading.problems
    assert reading.swap is None
    assert reading.filesystems is None and "filesystems" in reading.problems


def test_figures_at_their_bounds_are_kept(canned_http: tuple[str, CannedAnswer]) -> None:
    url, answer = canned_http
    answer.body = absurd(str(MAX_LOAD))
    reading = read_fleet(PrometheusSettings(url=url), TARGETS, at=AT).readings["n1"]
    assert reading.error is None
    assert reading.system.load == (MAX_LOAD, 1.0, 1.0)
    assert reading.memory is not None and reading.memory.total == int(MAX_LOAD)


def test_a_huge_label_value_is_cut(canned_http: tuple[str, CannedAnswer]) -> None:
    url, answer = canned_http
    answer.body = vector([("node_uname_info", "1", {"nodename": "N" * 2_000_000})])
    with PrometheusClient(PrometheusSettings(url=url)) as client:
        [sample] = client.query("x", AT)
    nodename = sample.labels["nodename"]
    assert len(nodename) == MAX_LABEL_CHARS and nodename.endswith("…")
    assert sample.labels["instance"] == "10.0.0.1:9100"  # ordinary values as they are


def test_half_a_surrogate_pair_in_a_label_becomes_a_replacement_character(
    canned_http: tuple[str, CannedAnswer],
) -> None:
    url, answer = canned_http
    answer.body = vector([("node_uname_info", "1", {"nodename": "n\ud800x", "os": "\ud83d\ude80"})])
    assert b"\\ud800" in answer.body  # json.dumps wrote the escape
    with PrometheusClient(PrometheusSettings(url=url)) as client:
        [sample] = client.query("x", AT)
    assert sample.labels["nodename"] == "n\ufffdx"
    assert sample.labels["os"] == "\U0001f680"  # an escaped pair is one character
    assert json.dumps(sample.labels, ensure_ascii=False).encode("utf-8")  # writable


@pytest.mark.parametrize("auth", ["token", "basic"])
def test_credentials_echoed_in_an_error_answer_are_scrubbed(
    canned_http: tuple[str, CannedAnswer], monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    """A Prometheus, or a proxy before it, that quotes the Authorization header in its
    error: the reason lands in the snapshot, the report and the mail, never the secret."""
    url, answer = canned_http
    secret = f"prom-{auth}-secret-4242"
    monkeypatch.setenv("PROM_SECRET", secret)
    if auth == "token":
        settings = PrometheusSettings(url=url, token_env="PROM_SECRET")
        sent = f"Bearer {secret}"
    else:
        settings = PrometheusSettings(url=url, username="report", password_env="PROM_SECRET")
        sent = "Basic " + base64.b64encode(f"report:{secret}".encode()).decode()
    answer.status = 400
    error = {"status": "error", "errorType": "bad_data", "error": f"refused {sent} here"}
    answer.body = json.dumps(error).encode()
    reading = read_fleet(settings, TARGETS, at=AT)
    assert answer.headers[-1].get("Authorization") == sent  # it was sent, then echoed
    texts = [reading.error or "", *(r.error or "" for r in reading.readings.values())]
    assert all(text.startswith("HTTP 400: bad_data: refused ") for text in texts[:1])
    for text in texts:
        assert secret not in text and sent.split()[1] not in text, text
        assert "refused " in text and " here" in text
