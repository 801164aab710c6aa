"""Non-finite and absurd numbers: refused by the probes' parse, by the snapshot model and
by the JSON writer; a stored day holding one is left out of the history with a note."""

from __future__ import annotations

import json
import re
from pathlib import Path

import history_gen as gen
import pytest

from codeb_report.analysis import analyse
from codeb_report.analysis.reasons import probe_reason
from codeb_report.collect.batch import apply_run
from codeb_report.controls import json_text
from codeb_report.errors import SnapshotError
from codeb_report.history.section import build_history
from codeb_report.probes import default_probes
from codeb_report.probes.base import ProbeRun
from codeb_report.probes.stack.backups import BackupsProbe
from codeb_report.probes.stack.centrifugo import CentrifugoConfig
from codeb_report.probes.stack.settings import BackupFolder, CentrifugoSettings
from codeb_report.render import render_report
from codeb_report.snapshot import ProbeStatus, Server, dumps, parse

PROBES = {probe.name: probe for probe in default_probes()}
HUGE = "9" * 400
SYSTEM = (
    "==> /proc/sys/kernel/hostname <==\nvm\n\n==> /proc/uptime <==\n{uptime} 1.0\n\n"
    "==> /sys/devices/system/cpu/online <==\n{cpus}\n\n==> /proc/loadavg <==\n{load} 1/99 7\n"
)


def _system(uptime: str = "12.5", cpus: str = "0-1", load: str = "0.1 0.2 0.3") -> str:
    return SYSTEM.format(uptime=uptime, cpus=cpus, load=load)


def _podman(started: str) -> str:
    row = '{"Id": "abc", "Names": ["x"], "Image": "i", "State": "running", "StartedAt": %s}'
    return f"[{row % started}]\n"


def _df(size: str) -> str:
    return (
        "Filesystem     Type 1B-blocks       Used  Available Use% Mounted on\n"
        f"/dev/vda1      ext4 {size} 1000 2000  1% /\n"
    )


CASES = [
    ("system", _system(load="inf 0.5 0.2"), "'inf' is not a finite number"),
    ("system", _system(load="nan nan nan"), "'nan' is not a finite number"),
    ("system", _system(load="1e999 0 0"), "'1e999' is not a finite number"),
    ("system", _system(load="5000000 0 0"), "SystemInfo.load.0: Input should be less than"),
    ("system", _system(uptime="inf"), "'inf' is not a finite number"),
    ("system", _system(cpus=f"0-{HUGE}"), "SystemInfo.cpu_count: Input should be less than"),
    ("memory", f"MemTotal: {HUGE} kB\nMemAvailable: 10 kB\n", "Memory.total: Input should be"),
    ("filesystems", _df(HUGE), "Filesystem.size: Input should be less than or equal to"),
    ("podman", _podman("1e999"), "'1e999' is not a finite number"),
    ("podman", _podman("NaN"), "NaN is not a finite number"),
    (
        "docker",
        '{"ID":"1","Names":"x","Image":"y","State":"running","Size":Infinity}\n',
        "Infinity is not a finite number",
    ),
]


@pytest.mark.parametrize(("probe", "output", "reason"), CASES)
def test_a_probe_reading_a_non_number_fails_with_its_reason(
    probe: str, output: str, reason: str
) -> None:
    server = Server(name="n1", host="h", role="r", reachable=True)
    outcome = apply_run(PROBES[probe], ProbeRun(output, "", 0), server)
    assert outcome.status == ProbeStatus.FAILED
    assert outcome.reason is not None and reason in outcome.reason
    assert "\n" not in outcome.reason
    assert probe_reason(outcome.reason).short == "출력 해석 실패"  # type: ignore[union-attr]
    # Nothing of it reached the server, and what did is valid JSON.
    json.loads(dumps_server(server))


def dumps_server(server: Server) -> str:
    return json_text(server.model_dump(mode="json"))


@pytest.mark.parametrize(
    ("probe", "output"),
    [
        (
            BackupsProbe([BackupFolder(path="/b")]),
            "== /b\nfiles 1\nbytes inf\nnewest 1700000000 5 /b/a.tar\n",
        ),
        (
            BackupsProbe([BackupFolder(path="/b")]),
            "== /b\nfiles 1\nbytes 5\nnewest nan 5 /b/a.tar\n",
        ),
        (CentrifugoConfig(CentrifugoSettings(config_path="/c/config.toml")), "port = inf\n"),
        (CentrifugoConfig(CentrifugoSettings(config_path="/c/config.json")), '{"port": NaN}\n'),
    ],
)
def test_stack_probes_refuse_non_finite_values(probe, output: str) -> None:
    server = Server(name="n1", host="h", role="r", reachable=True)
    outcome = apply_run(probe, ProbeRun(output, "", 0), server)
    assert outcome.status == ProbeStatus.FAILED
    assert "is not a finite number" in (outcome.reason or "")


def test_json_is_never_written_with_nan_or_infinity() -> None:
    with pytest.raises(ValueError):
        json_text({"load": float("inf")})
    with pytest.raises(ValueError):
        json_text({"load": float("nan")})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ('"load": [0.1, 0.2, 0.3]', '"load": [Infinity, 0.2, 0.3]', "finite number"),
        ('"load": [0.1, 0.2, 0.3]', '"load": [NaN, 0.2, 0.3]', "finite number"),
        ('"load": [0.1, 0.2, 0.3]', '"load": [1e999, 0.2, 0.3]', "finite number"),
        ('"total": 4000000000', f'"total": {HUGE}', "less than or equal to"),
    ],
)
def test_the_snapshot_model_refuses_non_finite_and_absurd_values(
    field: str, value: str, message: str
) -> None:
    text = _snapshot_text().replace(field, value, 1)
    assert value in text
    with pytest.raises(SnapshotError, match=rf"s\.json: servers\[n1\]\.\S+: .*{message}"):
        parse(text, "s.json")


def _snapshot_text() -> str:
    text = dumps(gen.snapshot_for(1))
    text = re.sub(r'"load": \[[^\]]*\]', '"load": [0.1, 0.2, 0.3]', text, count=1)
    return re.sub(r'"total": \d+', '"total": 4000000000', text, count=1)


def test_a_bad_day_in_the_history_is_left_out_with_a_note(tmp_path: Path) -> None:
    gen.write_history(tmp_path, days=4)
    bad_day = gen.day_of(2)
    stored = tmp_path / bad_day.isoformat() / "snapshot.json"
    text = re.sub(r'"load": \[[^\]]*\]', '"load": [Infinity, 0.5, 0.2]', stored.read_text())
    stored.write_text(text)
    tonight = gen.snapshot_for(4)
    history = build_history(tonight, analyse(tonight), tmp_path, analyse, day=gen.day_of(4))
    assert history.skipped == [bad_day]
    assert history.previous == gen.day_of(3)
    assert len(history.trends.times) == 4  # days 0, 1, 3 and tonight
    written = render_report(
        tonight, analyse(tonight), ["md", "html"], tmp_path / "r", history=history
    )
    report = written[0].read_text()
    assert "## 7. 전일 대비 변경 사항" in report and "## 8. 리소스 추세" in report
    assert f"읽을 수 없는 스냅샷 1개는 변경 사항과 추세에서 제외했습니다: {bad_day}" in report
    assert written[1].read_text().count("<svg") >= 2
