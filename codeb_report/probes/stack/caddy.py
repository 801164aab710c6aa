"""Caddy as a reverse proxy: which addresses it listens on and where it sends requests.

The running configuration comes from Caddy's admin API (``GET /config/`` on the server
itself); when that cannot be read (no curl, admin API off or refusing), ``caddy adapt``
turns the Caddyfile into the same JSON. Only the routing facts are kept: listen
addresses, host and path matchers, and the ``reverse_proxy`` handlers' upstreams.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from codeb_report.bounds import MAX_ROUTE_ITEMS as MAX_ITEMS
from codeb_report.bounds import MAX_ROUTES
from codeb_report.probes.base import Probe, ProbeRun
from codeb_report.probes.numbers import json_loads
from codeb_report.probes.stack.settings import CaddySettings
from codeb_report.probes.stack.shell import split_sections
from codeb_report.snapshot import ProxyRoute, ReverseProxy, Server

# The configuration is read from a server: every part of it is bounded. Routes and
# their lists are cut at MAX_ROUTES and MAX_ITEMS; a name longer than the snapshot's
# bound (codeb_report.bounds) fails the probe naming it.
MAX_CONFIG_BYTES = 512 * 1024
MAX_DEPTH = 16  # subroutes inside subroutes
NOTHING_TO_ASK = 3  # exit code: neither curl nor caddy


class CaddyProbe(Probe):
    """``GET <admin_url>/config/`` with curl, else ``caddy adapt --config <caddyfile>``.

    Sample output (admin API refused, Caddyfile adapted; JSON shortened)::

        == version
        v2.6.2 h1:oa9ZYFYjwY8J4SBnHuHPAO0ZoX5MOL4SsBFRRhm3fIE=
        == admin
        url=http://localhost:2019/config/
        code=000
        error=curl: (7) Failed to connect to localhost port 2019 after 0 ms: ...
        size=0
        == admin.body

        == adapt
        rc=0
        error=
        size=298
        == adapt.body
        {"apps":{"http":{"servers":{"srv0":{"listen":[":443"],"routes":[{"match":
        [{"host":["example.com"]}],"handle":[{"handler":"subroute","routes":[{"handle":
        [{"handler":"reverse_proxy","upstreams":[{"dial":"localhost:4001"}]}]}]}]}]}}}}}
    """

    name = "caddy"

    def __init__(self, settings: CaddySettings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return self.settings.admin_url.rstrip("/") + "/config/"

    def command(self) -> str:
        url, caddy = shlex.quote(self.url), shlex.quote(self.settings.binary)
        caddyfile = shlex.quote(self.settings.caddyfile)
        # One line: a newline is only whitespace in JSON, and a body without one cannot
        # forge the "== " section markers.
        body = f"head -c {MAX_CONFIG_BYTES} \"$t\" | tr '\\n\\r' '  '; echo"
        facts = '"$(tail -n 1 "$e" | head -c 300)" "$(wc -c <"$t" | tr -d \' \')"'
        return (
            "t=$(mktemp) && e=$(mktemp) || exit 1\n"
            'trap \'rm -f "$t" "$e"\' EXIT\n'
            "s=\n"
            f"if command -v {caddy} >/dev/null 2>&1; then printf '== version\\n'; "
            f"{caddy} version 2>/dev/null | head -n 1 | head -c 300; echo; fi\n"
            "if command -v curl >/dev/null 2>&1; then\n"
            f'  s=$(curl -sS -m 5 -o "$t" -w \'%{{http_code}}\' -- {url} 2>"$e")\n'
            f"  printf '== admin\\nurl=%s\\ncode=%s\\nerror=%s\\nsize=%s\\n== admin.body\\n' "
            f'{url} "$s" {facts}\n'
            f"  {body}\n"
            "fi\n"
            f'if [ "$s" != 200 ] && command -v {caddy} >/dev/null 2>&1; then\n'
            f'  {caddy} adapt --config {caddyfile} >"$t" 2>"$e"; rc=$?\n'
            "  printf '== adapt\\nrc=%s\\nerror=%s\\nsize=%s\\n== adapt.body\\n' "
            f'"$rc" {facts}\n'
            f"  {body}\n"
            f"elif ! command -v curl >/dev/null 2>&1; then\n"
            f"  echo {shlex.quote(f'neither curl nor {self.settings.binary} is installed')} >&2; "
            f"exit {NOTHING_TO_ASK}\n"
            "fi"
        )

    def skip_reason(self, run: ProbeRun) -> str | None:
        if run.exit_code == NOTHING_TO_ASK and "neither curl nor" in run.stderr:
            return run.stderr.strip().splitlines()[-1][:300]
        return None

    def parse(self, output: str) -> ReverseProxy:
        parts = split_sections(output)
        admin = _fields(parts.get("admin", ""))
        version = (parts.get("version") or "").split(" ")[0] or None
        if admin.get("code") == "200":
            config = _config(parts.get("admin.body", ""), admin)
            return _proxy(config, "admin", self.url, version, None)
        why = _admin_problem(admin) if "admin" in parts else "curl 미설치"
        if "adapt" not in parts:
            raise ValueError(f"admin API {self.url}: {why}; caddy not installed to adapt")
        adapt = _fields(parts["adapt"])
        if adapt.get("rc") != "0":
            error = adapt.get("error") or f"exit {adapt.get('rc')}"
            raise ValueError(
                f"admin API {self.url}: {why}; caddy adapt {self.settings.caddyfile}: {error}"
            )
        config = _config(parts.get("adapt.body", ""), adapt)
        return _proxy(config, "caddyfile", self.settings.caddyfile, version, why)

    def store(self, server: Server, value: ReverseProxy) -> None:
        server.proxy = value


def _fields(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value.strip() for key, value in pairs}


def _admin_problem(admin: dict[str, str]) -> str:
    code = admin.get("code", "")
    if code and code != "000":
        return f"HTTP {code}"
    return f"unreachable: {admin.get('error') or 'no answer'}"[:300]


def _config(body: str, facts: dict[str, str]) -> Any:
    size = facts.get("size", "")
    if size.isdigit() and int(size) > MAX_CONFIG_BYTES:
        raise ValueError(f"configuration too large ({size} bytes, at most {MAX_CONFIG_BYTES})")
    try:
        return json_loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ValueError("configuration nested too deeply") from None


def _proxy(
    config: Any, source: str, origin: str, version: str | None, admin_error: str | None
) -> ReverseProxy:
    routes: list[ProxyRoute] = []
    servers = _dict(_dict(_dict(config).get("apps")).get("http")).get("servers")
    for name, server in sorted(_dict(servers).items()):
        server = _dict(server)
        listen = _texts(server.get("listen"))
        key = str(name)
        place = _Place(key, listen, [], [], f"apps/http/servers/{key}/routes")
        _walk(server.get("routes"), place, 0, routes)
    return ReverseProxy(
        software="caddy",
        version=version,
        source=source,  # type: ignore[arg-type]
        origin=origin,
        admin_error=admin_error,
        routes=routes[:MAX_ROUTES],
        truncated=len(routes) > MAX_ROUTES,
    )


class _Place:
    """Where a handler sits: its server, listen addresses, the matchers above it, and the
    admin API path of the routes list it is in."""

    def __init__(
        self, server: str, listen: list[str], hosts: list[str], paths: list[str], at: str
    ) -> None:
        self.server, self.listen, self.hosts, self.paths = server, listen, hosts, paths
        self.at = at


def _walk(routes: Any, place: _Place, depth: int, found: list[ProxyRoute]) -> None:
    if depth > MAX_DEPTH or not isinstance(routes, list):
        return
    for index, route in enumerate(routes[: MAX_ROUTES * 4]):
        if len(found) > MAX_ROUTES:
            return
        route = _dict(route)
        matchers = [_dict(m) for m in route.get("match") or [] if isinstance(m, dict)][:MAX_ITEMS]
        hosts = [h for m in matchers for h in _texts(m.get("host"))][:MAX_ITEMS]
        paths = [p for m in matchers for p in _texts(m.get("path"))][:MAX_ITEMS]
        handlers = route.get("handle")
        for number, handler in enumerate(
            handlers[:MAX_ITEMS] if isinstance(handlers, list) else []
        ):
            handler = _dict(handler)
            at = f"{place.at}/{index}/handle/{number}"
            here = _Place(
                place.server, place.listen, hosts or place.hosts, paths or place.paths, at
            )
            kind = handler.get("handler")
            if kind == "subroute":
                here.at = f"{at}/routes"
                _walk(handler.get("routes"), here, depth + 1, found)
            elif kind == "reverse_proxy":
                found.append(_route(handler, here))


def _route(handler: dict[str, Any], place: _Place) -> ProxyRoute:
    ups = handler.get("upstreams")
    dials = [_dict(u).get("dial") for u in ups[:MAX_ITEMS]] if isinstance(ups, list) else []
    return ProxyRoute(
        server=place.server,
        listen=place.listen,
        hosts=place.hosts,
        paths=place.paths,
        upstreams=[str(d) for d in dials if isinstance(d, str | int)],
        dynamic="dynamic_upstreams" in handler,
        handler=place.at,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else []
    return [str(v) for v in items[:MAX_ITEMS] if isinstance(v, str | int)]
