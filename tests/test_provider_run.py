"""``codeb-report run`` with a four-server sshd fleet and the fake Vultr API on 127.0.0.1:
the account joins the report; a refusing or unreachable API costs nothing else, makes
the run partial (exit 4), and the key reaches no file, log line or stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers.ports import free_port
from servers.sshd import Sshd, SshdFactory
from servers.vultr import TEST_KEY, Answer, FakeVultr, serve

from codeb_report.nightly.run import outcome
from codeb_report.provider.model import MAX_ITEMS
from codeb_report.snapshot import load

NAMES = ("n1", "n2", "n3", "n4")
KEY_VARIABLE = "CODEB_TEST_VULTR_KEY"


@dataclass
class Setup:
    base: Path
    servers: dict[str, Sshd]
    known_hosts: Path
    factory: SshdFactory


@pytest.fixture(scope="module")
def setup(sshd_factory: SshdFactory) -> Setup:
    base = sshd_factory.base / "provider-run"
    base.mkdir()
    servers = {name: sshd_factory.start(f"provider-{name}") for name in NAMES}
    known = base / "known_hosts"
    known.write_text("".join(s.known_hosts_line() for s in servers.values()))
    return Setup(base, servers, known, sshd_factory)


def write_config(setup: Setup, base_url: str, path: Path) -> Path:
    lines = [
        "[ssh]",
        f'known_hosts = "{setup.known_hosts}"',
        f'config_file = "{setup.base / "no_ssh_config"}"',
        "use_agent = false",
        "[vultr]",
        f'base_url = "{base_url}"',
        f'api_key_env = "{KEY_VARIABLE}"',
        "deadline = 8",
        "attempts = 2",
        '[roles.storage]\nlabel = "Storage (DB)"',
    ]
    for name, sshd in setup.servers.items():
        lines += [
            "[[servers]]",
            f'name = "{name}"',
            'host = "127.0.0.1"',
            f"port = {sshd.port}",
            'user = "root"',
            f'identity_file = "{setup.factory.client_key.private}"',
        ]
        if name == "n3":
            lines.append('role = "storage"')
    path.write_text("\n".join(lines) + "\n")
    return path


def run(setup: Setup, api_url: str, work: Path) -> subprocess.CompletedProcess[str]:
    work.mkdir()
    config = write_config(setup, api_url, work / "fleet.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VULTR")}
    env.update({"HOME": str(work), KEY_VARIABLE: TEST_KEY})
    code = "from codeb_report.cli import main; main()"
    argv = [sys.executable, "-c", code, "run", "--config", str(config)]
    argv += ["--output-root", str(work / "output")]
    return subprocess.run(
        argv, cwd=work, capture_output=True, text=True, env=env, check=False, timeout=180
    )


def fake_api() -> tuple[FakeVultr, object]:
    api = FakeVultr()
    # The account's instances carry the fleet's names as labels (all sshd share 127.0.0.1).
    for instance, name in zip(api.lists["/instances"], NAMES, strict=False):
        instance["label"] = name
    return serve(api)


def day_folder(work: Path) -> Path:
    return (work / "output" / "latest").resolve()


def assert_no_key_anywhere(work: Path, done: subprocess.CompletedProcess[str]) -> None:
    assert TEST_KEY not in done.stdout + done.stderr
    for path in day_folder(work).iterdir():
        if path.suffix in (".json", ".md", ".html", ".log"):
            assert TEST_KEY not in path.read_text(encoding="utf-8"), path.name


def assert_servers_intact(work: Path) -> None:
    snapshot = load(day_folder(work) / "snapshot.json")
    assert [s.name for s in snapshot.servers] == list(NAMES)
    assert all(s.reachable and s.memory and s.filesystems for s in snapshot.servers)
    report = (day_folder(work) / "report.md").read_text(encoding="utf-8")
    for name in NAMES:  # every server's own section, with its resources table
        section = report.split(f"### {name} - ", 1)[1].split("\n### ", 1)[0]
        assert "| **Memory** |" in section, name
    assert (day_folder(work) / "report.pdf").stat().st_size > 10_000


def test_the_account_joins_the_run(setup: Setup, tmp_path: Path) -> None:
    api, server = fake_api()
    try:
        done = run(setup, api.base_url, tmp_path / "ok")
    finally:
        server.shutdown()
    snapshot = load(day_folder(tmp_path / "ok") / "snapshot.json")
    provider = snapshot.provider
    assert provider.error is None, provider.error
    assert {i.server for i in provider.instances} == {*NAMES, None}
    assert provider.instance_of("n1").bandwidth.days == 6
    assert_servers_intact(tmp_path / "ok")
    assert_no_key_anywhere(tmp_path / "ok", done)
    log = (day_folder(tmp_path / "ok") / "run.log").read_text(encoding="utf-8")
    assert "vultr read: 5 instances (4 matched)" in log
    report = (day_folder(tmp_path / "ok") / "report.md").read_text(encoding="utf-8")
    assert "설정에 없는 인스턴스 비용" in report  # old-test, $5 a month
    text = json.dumps(json.loads((day_folder(tmp_path / "ok") / "snapshot.json").read_text()))
    assert "default_password" not in text and "SECRETKVM" not in text
    # the servers' own probes decide the exit code; a well-read account adds nothing
    assert done.returncode == outcome(snapshot.model_copy(update={"provider": None}))


def test_a_refused_key_leaves_the_report_and_makes_the_run_partial(
    setup: Setup, tmp_path: Path
) -> None:
    api, server = fake_api()
    # An API that echoes the key in its error text: it must still not leak.
    echo = Answer(401, {"error": f"Invalid API token: {TEST_KEY}", "status": 401})
    for path in ("/account", "/instances", "/account/bandwidth"):
        api.script(path, echo, echo)
    api.key = "NOT0THE0KEY0THE0RUN0SENDS0XXXXXXXX"
    try:
        done = run(setup, api.base_url, tmp_path / "refused")
    finally:
        server.shutdown()
    assert done.returncode == 4, done.stderr
    snapshot = load(day_folder(tmp_path / "refused") / "snapshot.json")
    assert snapshot.provider.error.kind == "unauthorized"
    assert "***" in snapshot.provider.error.message  # the echoed key, scrubbed
    assert_servers_intact(tmp_path / "refused")
    assert_no_key_anywhere(tmp_path / "refused", done)
    report = (day_folder(tmp_path / "refused") / "report.md").read_text(encoding="utf-8")
    assert "Vultr API 키 거부 (401)" in report
    assert "API unauthorized" in done.stderr  # one line on stderr for cron


def test_an_unreachable_api_makes_the_run_partial(setup: Setup, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v2"  # nothing listens there
    done = run(setup, url, tmp_path / "down")
    assert done.returncode == 4, done.stderr
    snapshot = load(day_folder(tmp_path / "down") / "snapshot.json")
    assert snapshot.provider.error.kind == "unreachable"
    assert_servers_intact(tmp_path / "down")
    assert_no_key_anywhere(tmp_path / "down", done)
    report = (day_folder(tmp_path / "down") / "report.md").read_text(encoding="utf-8")
    assert "Vultr API 조회 실패" in report


def test_an_account_over_the_bound_makes_the_run_partial(setup: Setup, tmp_path: Path) -> None:
    """More instances than the snapshot holds: one line naming the endpoint and the
    bound, the servers' report intact, exit 4 (not a validation error of the run)."""
    api, server = fake_api()
    template = api.lists["/instances"][0]
    api.lists["/instances"] = [
        {**template, "id": f"bulk{n:08d}-0000-4000-8000-000000000000", "label": f"b{n}"}
        for n in range(MAX_ITEMS + 1)
    ]
    try:
        done = run(setup, api.base_url, tmp_path / "many")
    finally:
        server.shutdown()
    assert done.returncode == 4, done.stderr
    assert "ValidationError" not in done.stdout + done.stderr
    assert "/instances" in done.stderr and "10,000" in done.stderr
    snapshot = load(day_folder(tmp_path / "many") / "snapshot.json")
    assert snapshot.provider.error.kind == "too_many"
    assert_servers_intact(tmp_path / "many")
    report = (day_folder(tmp_path / "many") / "report.md").read_text(encoding="utf-8")
    assert "Vultr API /instances 항목이 10,000개를 넘음" in report
