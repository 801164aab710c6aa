"""A real redis-server with ``requirepass`` on 127.0.0.1 and a random port."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers.ports import free_port, wait_listening


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str
    version: str  # as `redis-server --version` reports it (v=...)


def _binary_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    return next(w[2:] for w in out.stdout.split() if w.startswith("v="))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/apt-packages-test.txt)")
    work: Path = tmp_path_factory.mktemp("redis")
    port, password = free_port(), "pw-" + secrets.token_hex(12)
    config = work / "redis.conf"
    config.write_text(
        f"bind 127.0.0.1\nport {port}\nrequirepass {password}\ndaemonize no\n"
        f'save ""\nappendonly no\ndir {work}\n'
    )
    config.chmod(0o600)
    with (work / "log").open("w") as log:
        proc = subprocess.Popen([binary, str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port)
        yield RedisServer(port=port, password=password, version=_binary_version(binary))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
