"""The Caddy probe against Debian's real caddy on 127.0.0.1, and against hostile configurations."""

from __future__ import annotations

import json
import urllib.request

import pytest
from servers.caddy import CaddyServer

from codeb_report.collect.batch import apply_run, run_probes
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import ProbeRun
from codeb_report.probes.stack import StackSettings, stack_probes
from codeb_report.probes.stack.caddy import MAX_CONFIG_BYTES, MAX_ROUTES, CaddyProbe
from codeb_report.probes.stack.settings import CaddySettings
from codeb_report.snapshot import ProbeStatus, Server


def _collect(probe: CaddyProbe) -> Server:
    server = Server(name="n1", host="localhost", role="app", reachable=True)
    run_probes(LocalRunner(), [probe], server, timeout=60)
    return server


def _probe(caddy: CaddyServer, admin_port: int | None = None) -> CaddyProbe:
    port = admin_port or caddy.admin_port
    settings = CaddySettings(admin_url=f"http://127.0.0.1:{port}", caddyfile=str(caddy.caddyfile))
    return CaddyProbe(settings)


def test_running_configuration_from_the_admin_api(caddy_server: CaddyServer) -> None:
    # The proxy really proxies: what the probe reports is what serves requests.
    port = caddy_server.site_port
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/", headers={"Host": f"app.codeb.test:{port}"}
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(request, timeout=10) as answer:
        assert answer.read().decode() in {f"app {p}\n" for p in caddy_server.upstreams}
    server = _collect(_probe(caddy_server))
    assert server.outcome("caddy").status == ProbeStatus.OK, server.outcome("caddy")
    proxy = server.proxy
    assert proxy is not None and proxy.source == "admin" and proxy.admin_error is None
    assert proxy.version and proxy.version[0].isdigit()
    [route] = proxy.routes
    first, second = caddy_server.upstreams
    assert route.upstreams == [f"localhost:{first}", f"localhost:{second}"]
    assert route.listen == [f"127.0.0.1:{caddy_server.site_port}"]
    assert set(route.hosts) == {"app.codeb.test", "localhost"}


def test_handler_path_adds_an_upstream_to_the_running_proxy(caddy_server: CaddyServer) -> None:
    """What scale-out.sh does on the proxy: POST a dial address to <handler>/upstreams."""
    [route] = _collect(_probe(caddy_server)).proxy.routes  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{caddy_server.admin_port}/config/{route.handler}/upstreams"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    added = urllib.request.Request(
        url, data=b'{"dial": "localhost:4003"}', headers={"Content-Type": "application/json"}
    )
    with direct.open(added, timeout=10) as answer:
        assert answer.status == 200
    [again] = _collect(_probe(caddy_server)).proxy.routes  # type: ignore[union-attr]
    assert again.upstreams == [*route.upstreams, "localhost:4003"]


def test_caddyfile_adapted_when_the_admin_api_is_down(caddy_server: CaddyServer) -> None:
    caddy_server.stop()
    server = _collect(_probe(caddy_server))
    proxy = server.proxy
    assert proxy is not None and proxy.source == "caddyfile"
    assert proxy.origin == str(caddy_server.caddyfile)
    assert proxy.admin_error and proxy.admin_error.startswith("unreachable: curl: (7)")
    assert [r.upstreams for r in proxy.routes] == [
        [f"localhost:{p}" for p in caddy_server.upstreams]
    ]


def test_no_admin_api_and_no_caddyfile_fails_with_both_reasons(caddy_server: CaddyServer) -> None:
    caddy_server.stop()
    settings = CaddySettings(
        admin_url=f"http://127.0.0.1:{caddy_server.admin_port}", caddyfile="/nonexistent/Caddyfile"
    )
    server = _collect(CaddyProbe(settings))
    outcome = server.outcome("caddy")
    assert outcome is not None and outcome.status == ProbeStatus.FAILED
    assert "unreachable" in (outcome.reason or "")
    assert "/nonexistent/Caddyfile" in (outcome.reason or "")
    assert server.proxy is None


def test_role_settings_add_the_probe() -> None:
    names = [p.name for p in stack_probes(StackSettings(caddy=CaddySettings()))]
    assert "caddy" in names
    assert "caddy" not in [p.name for p in stack_probes(StackSettings())]


def _admin(body: str) -> str:
    size = len(body.encode())
    return f"== admin\nurl=x\ncode=200\nerror=\nsize={size}\n== admin.body\n{body}\n"


PROBE = CaddyProbe(CaddySettings())


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"apps": ', "not JSON"),
    ],
)
def test_hostile_json_fails_the_probe_with_a_reason(body: str, error: str) -> None:
    server = Server(name="n1", host="h", role="app", reachable=True)
    outcome = apply_run(PROBE, ProbeRun(_admin(body), "", 0), server)
    assert outcome.status == ProbeStatus.FAILED
    assert error in (outcome.reason or "")


def test_oversized_configuration_is_refused_by_its_size() -> None:
    output = _admin("{}").replace("size=2", f"size={MAX_CONFIG_BYTES + 1}")
    with pytest.raises(ValueError, match="too large"):
        PROBE.parse(output)


def test_odd_shapes_are_ignored_and_counts_bounded() -> None:
    route = {"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "a:1"}]}]}
    deep: dict[str, object] = route
    for _ in range(50):  # subroutes deeper than any real configuration
        deep = {"handle": [{"handler": "subroute", "routes": [deep]}]}
    servers = {
        "many": {"listen": [":80", 7, None, {"x": 1}], "routes": [route] * (MAX_ROUTES * 3)},
        "odd": {"listen": "not a list", "routes": {"not": "a list"}},
        "deep": {"routes": [deep]},
        "wrong": ["not", "an", "object"],
    }
    config = {"apps": {"http": {"servers": servers}}}
    proxy = PROBE.parse(_admin(json.dumps(config)))
    assert len(proxy.routes) == MAX_ROUTES and proxy.truncated
    assert proxy.routes[0].listen == [":80", "7"]
    assert {r.server for r in proxy.routes} == {"many"}  # the deep one is past the limit


def test_dynamic_upstreams_are_said_as_such() -> None:
    handler = {"handler": "reverse_proxy", "dynamic_upstreams": {"source": "srv"}}
    config = {"apps": {"http": {"servers": {"s": {"routes": [{"handle": [handler]}]}}}}}
    [route] = PROBE.parse(_admin(json.dumps(config))).routes
    assert route.dynamic and route.upstreams == []


def test_neither_curl_nor_caddy_skips() -> None:
    run = ProbeRun("", "neither curl nor caddy is installed\n", 3)
    server = Server(name="n1", host="h", role="app", reachable=True)
    outcome = apply_run(PROBE, run, server)
    assert outcome.status == ProbeStatus.SKIPPED
    assert outcome.reason == "neither curl nor caddy is installed"
