"""Korean words for the English reasons the collector records.

The snapshot keeps what the collector saw, in English ("systemd is not the init system
(PID 1)", "root@host:22: connection refused"): those are facts other tools and later
comparisons read. The report's reader gets a short Korean reason instead, and the
original where it adds something (a fingerprint, a file, a command to run) as ``detail``.

    probe_reason("timed out after 20 s")          -> Reason("시간 초과 (20초)")
    connection_reason("root@h:22: connection refused")
        -> Reason("연결 거부", detail="root@h:22: connection refused")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from codeb_report import units
from codeb_report.analysis.model import Text, code, text


@dataclass(frozen=True)
class Reason:
    """``short`` is Korean and short enough for a table cell; ``detail`` is the English
    original, kept for the reader who has to act on it (None when it adds nothing)."""

    short: str
    detail: str | None = None
    known: bool = True  # False: no Korean words for it, ``short`` is only a category

    def spans(self, detail: bool = True) -> Text:
        """``시간 초과 (20초)``, with `` (`original`)`` when asked for and there is one.
        A reason without Korean words always shows its original: it is all there is."""
        if self.detail and not self.known:
            return text(code(self.detail))
        if detail and self.detail:
            return text(f"{self.short} (", code(self.detail), ")")
        return text(self.short)


# What each probe collects, as the report's reader calls it.
PROBE_LABELS = {
    "system": "시스템 정보",
    "memory": "메모리",
    "filesystems": "디스크",
    "docker": "Docker 컨테이너",
    "podman": "Podman 컨테이너",
    "services": "시스템 서비스",
    "ports": "포트",
    "centrifugo.unit": "Centrifugo 서비스",
    "centrifugo.config": "Centrifugo 설정",
    "centrifugo.version": "Centrifugo 버전",
    "centrifugo.health": "Centrifugo 상태 확인",
    "postgresql": "PostgreSQL",
    "redis": "Redis",
    "backups": "백업 디렉토리",
    "caddy": "Caddy 리버스 프록시 설정",
    "watched.containers": "감시 대상 컨테이너",
    "watched.units": "감시 대상 서비스",
    "prometheus": "Prometheus 수치",
}


def probe_label(name: str) -> str:
    """``services`` -> ``시스템 서비스``; an unknown probe keeps its own name."""
    if name in PROBE_LABELS:
        return PROBE_LABELS[name]
    family = name.split(".")[0]
    return PROBE_LABELS.get(family, name)


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _fixed(word: str) -> Callable[[re.Match[str]], str]:
    return lambda _: word


def _seconds(m: re.Match[str]) -> str:
    return f"시간 초과 ({m.group('s').removesuffix('.0')}초)"


def _silent(m: re.Match[str]) -> str:
    return f"Prometheus 수치 오래됨 (마지막 수집 {units.duration(float(m['s']))} 전)"


# Reasons codeb_report/prometheus writes, on a server (error) or on its "prometheus" probe.
PROMETHEUS_RULES: list[Rule] = [
    (re.compile(r"^prometheus: stale: last sample (?P<s>\d+) s ago"), _silent),
    (re.compile(r"^prometheus: no series\b"), _fixed("Prometheus에 node_exporter 시계열 없음")),
    (re.compile(r"^prometheus: target down"), _fixed("node_exporter 응답 없음 (up=0)")),
    (
        re.compile(r"^prometheus: .* matches (?P<n>\d+) targets"),
        lambda m: f"Prometheus 대상 {m['n']}개와 일치 (라벨 확인 필요)",
    ),
    (
        re.compile(r"^prometheus unavailable: .*timed out", re.I),
        _fixed("Prometheus 질의 시간 초과"),
    ),
    (
        re.compile(r"^prometheus unavailable: HTTP (?P<c>40[13])\b"),
        lambda m: f"Prometheus 인증 실패 (HTTP {m['c']})",
    ),
    (
        re.compile(r"^prometheus unavailable: HTTP (?P<c>\d+)"),
        lambda m: f"Prometheus 응답 오류 (HTTP {m['c']})",
    ),
    (re.compile(r"^prometheus unavailable: "), _fixed("Prometheus 연결 실패")),
    (re.compile(r"^prometheus: "), _fixed("Prometheus 수집 오류")),
    (
        re.compile(r"^not collected: a server found through Prometheus"),
        _fixed("Prometheus 전용 서버"),
    ),
]


def prometheus_reason(error: str) -> Reason:
    """Prometheus' own failure (a snapshot's ``prometheus.error``) for the reader."""
    return connection_reason(f"prometheus unavailable: {error}")


# Probe reasons and the error lines of databases, backups and watched units, as the
# probes write them (codeb_report/probes) or the tools print them. First match wins.
PROBE_RULES: list[Rule] = [
    *PROMETHEUS_RULES,
    (re.compile(r"^timed out after (?P<s>[\d.]+) ?s\b"), _seconds),
    (re.compile(r"^timed out\b"), _fixed("시간 초과")),
    (re.compile(r"^no output\b"), _fixed("출력 없음")),
    (
        re.compile(r"^output too large: more than (?P<n>[\d.]+) MiB"),
        lambda m: f"출력 크기 초과 ({m['n']}MiB 넘음)",
    ),
    (re.compile(r"^(?P<tool>[\w.-]+) not installed$"), lambda m: f"{m['tool']} 미설치"),
    (re.compile(r"systemd is not the init system"), _fixed("systemd 미사용 (PID 1 아님)")),
    (re.compile(r"^docker is podman"), _fixed("docker 명령이 Podman (Podman으로 수집)")),
    (re.compile(r"Cannot connect to the Docker daemon", re.I), _fixed("Docker 데몬 미실행")),
    (re.compile(r"podman.*(cannot|unable to) connect", re.I), _fixed("Podman 연결 실패")),
    (
        re.compile(r"AUTH required; no password configured"),
        _fixed("Redis 인증 필요 — 비밀번호 미설정"),
    ),
    (re.compile(r"\bWRONGPASS\b"), _fixed("Redis 비밀번호 불일치")),
    (re.compile(r"^NOAUTH\b"), _fixed("Redis 인증 실패")),
    (
        re.compile(r"^password_env: environment variable (?P<v>\S+) is not set"),
        lambda m: f"비밀번호 환경변수 {m['v']} 미설정",
    ),
    (re.compile(r"^password_file: .*: empty$"), _fixed("비밀번호 파일이 비어 있음")),
    (re.compile(r"^password_file: "), _fixed("비밀번호 파일 읽기 실패")),
    (re.compile(r"a password must be a single line"), _fixed("비밀번호는 한 줄이어야 함")),
    (re.compile(r'role "(?P<r>[^"]+)" does not exist'), lambda m: f"DB 역할 {m['r']} 없음"),
    (
        re.compile(r'database "(?P<d>[^"]+)" does not exist'),
        lambda m: f"데이터베이스 {m['d']} 없음",
    ),
    (re.compile(r"password authentication failed"), _fixed("DB 비밀번호 불일치")),
    (re.compile(r"no password supplied"), _fixed("DB 인증 실패 (비밀번호 미설정)")),
    (re.compile(r"the database system is starting up"), _fixed("DB 시작 중")),
    (re.compile(r"Could not connect to Redis|Connection refused", re.I), _fixed("연결 거부")),
    (re.compile(r"No such file or directory"), _fixed("파일 또는 소켓 없음")),
    (re.compile(r"permission denied", re.I), _fixed("권한 없음")),
    (re.compile(r"command not found"), _fixed("명령 없음")),
    (
        re.compile(r"^unreadable output: (?P<f>[\w.]+): String should have at most (?P<n>\d+) "),
        lambda m: f"값이 너무 김 ({m['f']}: 최대 {m['n']}자)",
    ),
    (
        re.compile(r"^unreadable output: (?P<f>[\w.]+): List should have at most (?P<n>\d+) "),
        lambda m: f"항목이 너무 많음 ({m['f']}: 최대 {m['n']}개)",
    ),
    (re.compile(r"^unreadable output\b"), _fixed("출력 해석 실패")),
    (re.compile(r"^no (answer|response)$"), _fixed("응답 없음")),
]

# Reasons the Korean says completely: showing the English beside it adds nothing.
SAID_IN_FULL = re.compile(
    r"^(timed out after [\d.]+ ?s|[\w.-]+ not installed|systemd is not the init system.*"
    r"|docker is podman.*|AUTH required; no password configured"
    r"|password_env: environment variable \S+ is not set|no output|no answer|no response"
    r"|output too large: more than [\d.]+ MiB"
    r"|not collected: a server found through Prometheus alone \(no SSH\))$"
)

_EXIT = re.compile(r"^exit (?P<code>-?\d+): (?P<rest>.*)$", re.S)


def probe_reason(reason: str | None) -> Reason | None:
    """A probe's skip or failure reason (or a database's error line) for the reader."""
    if not reason:
        return None
    reason = reason.strip()
    inner = reason
    exit_code = None
    if m := _EXIT.match(reason):
        exit_code, inner = m["code"], m["rest"]
    for pattern, word in PROBE_RULES:
        if m := pattern.search(inner):
            return Reason(word(m), None if SAID_IN_FULL.match(reason) else reason)
    if exit_code is not None:
        return Reason(f"명령 실패 (종료 코드 {exit_code})", reason, known=False)
    return Reason("오류", reason, known=False)


# Server errors as codeb_report/collect (ssh.py _describe, fleet.py) writes them: some start
# with a Korean category, plain network errors are "user@host:port: <strerror>".
CONNECTION_RULES: list[Rule] = [
    # A jump host's failure is the jump host's: named first, its own reason after it.
    (
        re.compile(r"^점프 호스트 (?P<jump>\S+): (?P<rest>.*)$", re.S),
        lambda m: f"점프 호스트 {m['jump']}: {_jump_reason(m['rest'])}",
    ),
    (re.compile(r"^전달 거부"), _fixed("전달 거부 (포워딩 허용 안 됨)")),
    *PROMETHEUS_RULES,
    (
        re.compile(r"^호스트 키 미확인: .*?\((?:\S+ )?(?P<fp>SHA256:[A-Za-z0-9+/=]+)\)"),
        lambda m: f"호스트 키 미확인 ({_abbreviated(m['fp'])})",
    ),
    (re.compile(r"^호스트 키 미확인"), _fixed("호스트 키 미확인")),
    (re.compile(r"^호스트 키 폐기됨"), _fixed("호스트 키 폐기됨")),
    (re.compile(r"^호스트 인증서 미지원"), _fixed("호스트 인증서 미지원")),
    (re.compile(r"^호스트 키 불일치"), _fixed("호스트 키 불일치")),
    (re.compile(r"^인증 실패"), _fixed("인증 실패")),
    (
        re.compile(r"^시간 초과: collection did not finish within (?P<s>[\d.]+) s"),
        lambda m: f"시간 초과 (수집 {m['s'].removesuffix('.0')}초 초과)",
    ),
    (re.compile(r"^시간 초과"), _fixed("시간 초과 (응답 없음)")),
    (re.compile(r"^설정 오류"), _fixed("SSH 설정 오류")),
    (
        re.compile(r"^출력 초과: .*?more than (?P<n>[\d.]+) MiB"),
        lambda m: f"출력 크기 초과 ({m['n']}MiB 넘음)",
    ),
    (re.compile(r"^수집 실패: .*sudo", re.I), _fixed("sudo 실행 불가 (비밀번호 필요)")),
    (re.compile(r"^수집 실패: [A-Z]\w*(Error|Exception): "), _fixed("수집 중 오류")),
    (re.compile(r"^수집 실패: "), _fixed("수집 스크립트 실행 안 됨")),
    (re.compile(r"unknown host"), _fixed("호스트 이름 확인 실패")),
    (re.compile(r"connection refused", re.I), _fixed("연결 거부")),
    (re.compile(r"no route to host", re.I), _fixed("호스트 경로 없음")),
    (re.compile(r"network is unreachable", re.I), _fixed("네트워크 도달 불가")),
    (re.compile(r"connection reset", re.I), _fixed("연결 끊김")),
    (re.compile(r"timed out", re.I), _fixed("시간 초과 (응답 없음)")),
]


def _jump_reason(rest: str) -> str:
    """The jump host's own reason, without the attempt count the whole line carries."""
    reason = connection_reason(_ATTEMPTS.sub("", rest))
    return reason.short if reason.known else "연결 실패"


def _abbreviated(fingerprint: str) -> str:
    """``SHA256:q1w2E3r4T5y6…``: enough to tell keys apart in a table cell; the whole
    fingerprint is in the detail, shown in section 2."""
    algorithm, _, digest = fingerprint.partition(":")
    return f"{algorithm}:{digest[:12]}…" if len(digest) > 12 else fingerprint


_ATTEMPTS = re.compile(r" \(after (?P<n>\d+) attempts\)$")


def connection_reason(error: str | None) -> Reason:
    """Why a server could not be collected; the full original always stays as detail,
    since it names the address and, for host keys, the command that fixes it."""
    if not error:
        return Reason("원인 불명")
    error = error.strip()
    attempts = _ATTEMPTS.search(error)
    for pattern, word in CONNECTION_RULES:
        if m := pattern.search(error):
            short = word(m)
            break
    else:
        return Reason("연결 오류", error, known=False)
    if attempts:
        short += f", {attempts['n']}회 시도"
    return Reason(short, error)


# What the database answered when codeb-report's password was refused (Redis WRONGPASS,
# PostgreSQL's FATAL), and the run-time messages of a configured password it could not read.
WRONG_PASSWORD = re.compile(
    r"\bWRONGPASS\b|invalid username-password|password authentication failed"
)
UNSET_VARIABLE = re.compile(r"^password_env: environment variable (?P<v>\S+) is not set")
UNREADABLE_FILE = re.compile(r"^password_file: ")


def password_action(error: str | None, product: str) -> tuple[str, str] | None:
    """(action, next step) when the error says the configured password is the problem:
    wrong, its variable unset at run time, or its file unreadable; None otherwise."""
    if not error:
        return None
    if WRONG_PASSWORD.search(error):
        return (
            "설정된 비밀번호가 틀림: password_env/password_file의 값을 서버의 비밀번호로 수정",
            f"{product} 비밀번호 확인 (설정값 불일치)",
        )
    if m := UNSET_VARIABLE.search(error):
        return (f"환경변수 {m['v']}를 실행 환경에 설정", f"{product} 비밀번호 환경변수 설정")
    if UNREADABLE_FILE.search(error):
        return ("비밀번호 파일의 경로와 권한 확인", f"{product} 비밀번호 파일 확인")
    return None
