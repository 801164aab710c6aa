"""The collector's English reasons, as the Korean report says them.

Each left-hand side is a reason in the form codeb_report writes it (probes/base.py,
probes/services.py, probes/containers.py, probes/stack/*, collect/batch.py, collect/ssh.py,
collect/fleet.py) or a tool prints it (docker, psql, redis-cli).
"""

from __future__ import annotations

import pytest

from codeb_report.analysis.reasons import (
    Reason,
    connection_reason,
    probe_label,
    probe_reason,
)

DAEMON = (
    "exit 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?"
)
ROLE = 'connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: FATAL:  role "root" does not exist'  # noqa: E501


@pytest.mark.parametrize(
    ("reason", "short", "detail"),
    [
        ("timed out after 20 s", "시간 초과 (20초)", None),
        ("timed out after 2.5 s", "시간 초과 (2.5초)", None),
        ("no output", "출력 없음", None),
        ("no output: sudo: a password is required", "출력 없음", "keep"),
        ("docker not installed", "docker 미설치", None),
        ("systemd is not the init system (PID 1)", "systemd 미사용 (PID 1 아님)", None),
        (
            "docker is podman's docker command (podman-docker)",
            "docker 명령이 Podman (Podman으로 수집)",
            None,
        ),
        (DAEMON, "Docker 데몬 미실행", "keep"),
        ("AUTH required; no password configured", "Redis 인증 필요 — 비밀번호 미설정", None),
        ("NOAUTH Authentication required.", "Redis 인증 실패", "keep"),
        (
            "password_env: environment variable REDIS_PW is not set",
            "비밀번호 환경변수 REDIS_PW 미설정",
            None,
        ),
        ('FATAL:  role "root" does not exist', "DB 역할 root 없음", "keep"),
        (ROLE, "DB 역할 root 없음", "keep"),
        ("Could not connect to Redis at 127.0.0.1:6379: Connection refused", "연결 거부", "keep"),
        ("permission denied", "권한 없음", "keep"),
        ("no response", "응답 없음", None),
    ],
)
def test_probe_reason(reason: str, short: str, detail: str | None) -> None:
    got = probe_reason(reason)
    assert got == Reason(short, reason if detail else None)
    assert got.known


def test_a_probe_reason_without_korean_words_keeps_the_original() -> None:
    got = probe_reason("exit 2: strange")
    assert got is not None and not got.known
    assert got.short == "명령 실패 (종료 코드 2)"
    assert [s.text for s in got.spans()] == ["exit 2: strange"]
    assert probe_reason(None) is None and probe_reason("") is None


def test_spans_put_the_original_beside_the_korean_as_code() -> None:
    got = probe_reason(DAEMON)
    assert got is not None
    spans = got.spans()
    assert [(s.text, s.code) for s in spans] == [
        ("Docker 데몬 미실행 (", False),
        (DAEMON, True),
        (")", False),
    ]
    assert [s.text for s in got.spans(detail=False)] == ["Docker 데몬 미실행"]


UNKNOWN_KEY = (
    "호스트 키 미확인: [127.0.0.1]:2222 is not in known_hosts (ssh-ed25519 "
    "SHA256:q1w2E3r4/T5y6+U7i8O9p0); if that is the server's key, rerun with --accept-new to "
    "record it in /root/.ssh/known_hosts, or add it with: "
    "ssh-keyscan -p 2222 127.0.0.1 >> /root/.ssh/known_hosts"
)


@pytest.mark.parametrize(
    ("error", "short"),
    [
        ("root@198.51.100.7:22: connection refused", "연결 거부"),
        (UNKNOWN_KEY, "호스트 키 미확인 (SHA256:q1w2E3r4/T5y…)"),
        ("호스트 키 불일치: WARNING: the host key of h has CHANGED (...)", "호스트 키 불일치"),
        ("호스트 키 폐기됨: the host key of h (...) is marked @revoked", "호스트 키 폐기됨"),
        (
            "호스트 인증서 미지원: h is covered in known_hosts only by a @cert-authority line",
            "호스트 인증서 미지원",
        ),
        ("인증 실패: root@h:22: Authentication failed.", "인증 실패"),
        ("시간 초과: root@h:22: no answer within the connect timeout", "시간 초과 (응답 없음)"),
        ("시간 초과: collection did not finish within 60 s", "시간 초과 (수집 60초 초과)"),
        ("h.invalid: unknown host (Name or service not known)", "호스트 이름 확인 실패"),
        ("root@h:22: No route to host", "호스트 경로 없음"),
        ("root@h:22: Connection reset by peer (after 3 attempts)", "연결 끊김, 3회 시도"),
        ("설정 오류: /root/.ssh/config: bad line", "SSH 설정 오류"),
        ("수집 실패: sudo: a password is required", "sudo 실행 불가 (비밀번호 필요)"),
        (
            "수집 실패: Could not chdir to home directory /nonexistent: No such file or directory",
            "수집 스크립트 실행 안 됨",
        ),
        ("수집 실패: RuntimeError: boom", "수집 중 오류"),
    ],
)
def test_connection_reason(error: str, short: str) -> None:
    got = connection_reason(error)
    assert (got.short, got.detail, got.known) == (short, error, True)


def test_an_unknown_connection_error_is_shown_as_collected() -> None:
    got = connection_reason("root@h:22: EOFError")
    assert (got.short, got.known) == ("연결 오류", False)
    assert [s.text for s in got.spans(detail=False)] == ["root@h:22: EOFError"]


@pytest.mark.parametrize(
    ("probe", "label"),
    [
        ("services", "시스템 서비스"),
        ("docker", "Docker 컨테이너"),
        ("podman", "Podman 컨테이너"),
        ("centrifugo.health", "Centrifugo 상태 확인"),
        ("watched.units", "감시 대상 서비스"),
        ("something.new", "something.new"),
    ],
)
def test_probe_label(probe: str, label: str) -> None:
    assert probe_label(probe) == label
