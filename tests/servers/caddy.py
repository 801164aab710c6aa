"""A real Caddy (Debian's ``caddy``) on 127.0.0.1: reverse proxy to two upstreams, admin API on a
random port."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from servers.ports import free_port, wait_listening


@dataclass
class CaddyServer:
    admin_port: int
    site_port: int
    upstreams: tuple[int, int]
    caddyfile: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class _App(BaseHTTPRequestHandler):
    """An app process behind the proxy: answers with its own port."""

    def do_GET(self) -> None:
        body = f"app {self.server.server_address[1]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def caddyfile(admin: int, site: int, upstreams: tuple[int, int], work: Path) -> str:
    first, second = upstreams
    return (
        "{\n"
        f"\tadmin 127.0.0.1:{admin}\n"
        "\tauto_https off\n"
        "\tdefault_bind 127.0.0.1\n"
        f"\tstorage file_system {work / 'data'}\n"
        "}\n\n"
        f"http://app.codeb.test:{site}, http://localhost:{site} {{\n"
        f"\treverse_proxy localhost:{first} localhost:{second}\n"
        "}\n"
    )


@pytest.fixture
def caddy_server(tmp_path: Path) -> Iterator[CaddyServer]:
    binary = shutil.which("caddy")
    if binary is None:
        pytest.skip("caddy is not installed (scripts/apt-packages-test.txt)")
    apps = [ThreadingHTTPServer(("127.0.0.1", 0), _App) for _ in range(2)]
    for app in apps:
        Thread(target=app.serve_forever, daemon=True).start()
    upstreams = (apps[0].server_address[1], apps[1].server_address[1])
    admin, site = free_port(), free_port()
    path = tmp_path / "Caddyfile"
    path.write_text(caddyfile(admin, site, upstreams, tmp_path))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    with (tmp_path / "caddy.log").open("w") as log:
        proc = subprocess.Popen(
            [binary, "run", "--config", str(path), "--adapter", "caddyfile"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    server = CaddyServer(admin, site, upstreams, path, proc)
    try:
        wait_listening(admin)
        wait_listening(site)
        yield server
    finally:
        server.stop()
        for app in apps:
            app.shutdown()
            app.server_close()
