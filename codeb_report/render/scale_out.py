"""``scale-out.sh``: section 4's Option A as a script, filled with the account's values.

It creates one app server like the current ones, waits until Vultr reports it active
(``main_ip`` is ``0.0.0.0`` before that), adds it to the Caddy upstreams through the admin
API on the proxy server, and attaches it to the load balancer when there is one. Every
value comes from the snapshot and is shell-quoted; text in comments is one line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from codeb_report.render import vultr_cli
from codeb_report.render.escape import one_line

FILENAME = "scale-out.sh"
POLL_SECONDS = 10
POLL_TRIES = 60
# What may stand inside the double-quoted ssh command: no quote, $, ` or space.
_SAFE = re.compile(r"^[A-Za-z0-9_.:/@%+=-]+$")


@dataclass(frozen=True)
class Values:
    region: str
    plan: str
    os_id: int
    os_name: str
    script_id: str | None
    label_prefix: str
    ports: list[int]
    proxy_host: str | None  # where Caddy runs (reached over SSH)
    proxy_name: str | None
    admin_url: str | None  # Caddy's admin API as the proxy server sees it, ".../config/"
    handler: str | None  # the reverse_proxy handler's path in the admin API
    balancer: str | None  # a load balancer to attach the new instance to
    attached: list[str] = field(default_factory=list)
    date: str = ""


def script(v: Values) -> str:
    return "\n".join([*_head(v), *_create(v), *_wait(), *_proxy(v), *_balancer(v), ""])


def _head(v: Values) -> list[str]:
    return [
        "#!/usr/bin/env bash",
        "# scale-out.sh: App 서버 1대 추가 (Option A)",
        f"# codeb-report가 {v.date} 계정 데이터로 작성.",
        "# 필요: vultr-cli v3, jq, ssh; API 키는 VULTR_API_KEY 또는 ~/.vultr-cli.yaml의 api-key.",
        "# 사용: ./scale-out.sh [LABEL]",
        "set -euo pipefail",
        "",
        f"LABEL=${{1:-{shlex.quote(v.label_prefix)}-$(date +%Y%m%d%H%M)}}",
    ]


def _create(v: Values) -> list[str]:
    create = vultr_cli.instance_create(v.region, v.plan, v.os_id, "$LABEL", v.script_id)
    words = [vultr_cli.quote(w) if w != "$LABEL" else '"$LABEL"' for w in create.words]
    return [
        "",
        f"# 1. 새 App 서버: {v.plan}, {v.region}, OS {v.os_id} ({one_line(v.os_name)})",
        "#    생성 직후 main_ip는 0.0.0.0: id를 받아 status가 active가 될 때까지 기다린다.",
        "NEW_ID=$(" + " \\\n    ".join(_pairs(words)) + " | jq -r '.instance.id')",
        'echo "생성: $NEW_ID ($LABEL)"',
    ]


def _pairs(words: list[str]) -> list[str]:
    """``vultr-cli instance create``, then each flag with its value: one per line."""
    lines = [" ".join(words[:3])]
    for word in words[3:]:
        if word.startswith("-"):
            lines.append(word)
        else:
            lines[-1] += " " + word
    return lines


def _wait() -> list[str]:
    get = vultr_cli.instance_get("$NEW_ID").words
    get_line = " ".join('"$NEW_ID"' if w == "$NEW_ID" else w for w in get)
    return [
        "STATUS=pending",
        f"for _ in $(seq {POLL_TRIES}); do",
        f"  STATUS=$({get_line} | jq -r '.instance.status')",
        '  [ "$STATUS" = active ] && break',
        f"  sleep {POLL_SECONDS}",
        "done",
        'if [ "$STATUS" != active ]; then',
        f'  echo "$NEW_ID: {POLL_TRIES * POLL_SECONDS}초 후에도 active 아님 ($STATUS)" >&2',
        "  exit 1",
        "fi",
        f"NEW_IP=$({get_line} | jq -r '.instance.main_ip')",
        'case "$NEW_IP" in',
        "  ''|0.0.0.0|*[!0-9.]*) echo \"$NEW_ID: 주소를 읽지 못함 ($NEW_IP)\" >&2; exit 1 ;;",
        "esac",
        'echo "active: $NEW_ID ($NEW_IP)"',
    ]


def _proxy(v: Values) -> list[str]:
    if not v.proxy_host or not v.ports or not _SAFE.match(v.proxy_host):
        return ["", "# 2. 리버스 프록시 정보가 없어 업스트림 추가는 직접 해야 한다."]
    ports = " ".join(str(p) for p in v.ports)
    lines = [
        "",
        f"# 2. Caddy({one_line(v.proxy_name or v.proxy_host)}) 업스트림에 추가:"
        f" 새 서버의 App 포트 {ports}",
        f"PROXY_SSH=${{PROXY_SSH:-{shlex.quote(v.proxy_host)}}}",
    ]
    url = f"{(v.admin_url or '').rstrip('/')}/{v.handler}/upstreams"
    if v.admin_url and v.handler and _SAFE.match(url):
        lines += [
            "#    실행 중인 설정에 반영 (관리 API는 프록시 서버 자신에서만 열림).",
            "#    Caddyfile의 reverse_proxy에도 추가해야 재시작 후에도 유지된다.",
            f"for PORT in {ports}; do",
            '  BODY="{\\"dial\\": \\"$NEW_IP:$PORT\\"}"',
            "  # shellcheck disable=SC2029  # $BODY is meant to expand here, before ssh",
            '  ssh "$PROXY_SSH" "curl -fsS -X POST -H \'Content-Type: application/json\''
            f" -d '$BODY' {shlex.quote(url)}\"",
            "done",
        ]
    else:
        upstreams = " ".join(f"$NEW_IP:{p}" for p in v.ports)
        lines += [
            "#    관리 API를 읽지 못했다: Caddyfile의 reverse_proxy에 추가한 뒤 다시 읽힌다.",
            f'echo "Caddyfile에 추가: reverse_proxy ... {upstreams}"',
            'echo "그다음: ssh $PROXY_SSH caddy reload --config /etc/caddy/Caddyfile"',
        ]
    return lines


def _balancer(v: Values) -> list[str]:
    if not v.balancer:
        return []
    attach = vultr_cli.load_balancer_attach(v.balancer, [*v.attached, "$NEW_ID"])
    words = [_with_new_id(w) for w in attach.words]
    return [
        "",
        "# 3. 로드밸런서에 연결 (--instances는 연결 목록 전체를 바꾼다)",
        " ".join(words),
    ]


def _with_new_id(word: str) -> str:
    """A word holding ``$NEW_ID``: the variable expands, everything around it (the ids the
    API listed) is quoted, so no ``$(...)`` or quote in an id is ever run by the shell."""
    parts = word.split("$NEW_ID")
    if len(parts) == 1:
        return vultr_cli.quote(word)
    return '"$NEW_ID"'.join(shlex.quote(p) if p else "" for p in parts)
