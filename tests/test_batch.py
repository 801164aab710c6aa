"""The probe batch run for real through /bin/sh: markers, skips, failures, timeouts."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from codeb_report.collect.batch import build_script, run_line, run_probes, split_output
from codeb_report.collect.runner import CommandResult, LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.snapshot import ProbeStatus, Server

TOKEN = re.compile(r"@@codeb-[0-9a-f]{16}")


class ShellProbe(Probe):
    """Runs a fixed command; what it parsed is kept on the probe for the test to read."""

    name = "shell"

    def __init__(
        self, name: str, command: str, *, requires: Sequence[str] = (), timeout: int | None = 20
    ):
        self.name = name  # type: ignore[misc]
        self.requires = tuple(requires)  # type: ignore[misc]
        self.timeout = timeout  # type: ignore[misc]
        self._command = command
        self.stored: str | None = None

    def command(self) -> str:
        return self._command

    def parse(self, output: str) -> str:
        return output

    def store(self, server: Server, value: str) -> None:
        self.stored = value


class ReadingProbe(ShellProbe):
    """Reads another command's output on its stdin."""

    def __init__(self, name: str, command: str, source: str) -> None:
        super().__init__(name, command)
        self.source = source

    def input_command(self) -> str | None:
        return self.source


class BrokenParseProbe(ShellProbe):
    def parse(self, output: str) -> str:
        raise ValueError(f"cannot read {output.strip()!r}")


class RecordingRunner:
    """The local runner, keeping every script it ran."""

    def __init__(self) -> None:
        self.scripts: list[str] = []
        self.local = LocalRunner()

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult:
        self.scripts.append(script)
        return self.local.run(script, timeout, stdin)


class CuttingRunner:
    """The local runner, but the output stops where a dropped connection would cut it."""

    def __init__(self, cut_after: str) -> None:
        self.cut_after = cut_after

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult:
        result = LocalRunner().run(script, timeout, stdin)
        head, sep, _ = result.stdout.partition(self.cut_after)
        return replace(result, stdout=head + sep)


def _server() -> Server:
    return Server(name="n1", host="batch-test", role="test", reachable=True)


def _outcomes(server: Server) -> dict[str, tuple[ProbeStatus, str | None]]:
    return {o.probe: (o.status, o.reason) for o in server.probes}


def test_each_probe_gets_its_own_stdout_verbatim() -> None:
    first = ShellProbe("first", "printf 'one\\ntwo\\n'")
    korean = ShellProbe("korean", "printf '워치독 모니터 | x\\n'")
    no_newline = ShellProbe("nonewline", "printf 'tail without newline'")
    server = _server()
    run_probes(LocalRunner(), [first, korean, no_newline], server, timeout=30)
    assert first.stored == "one\ntwo\n"
    assert korean.stored == "워치독 모니터 | x\n"
    assert no_newline.stored == "tail without newline"
    assert {o.status for o in server.probes} == {ProbeStatus.OK}


def test_probes_run_with_the_c_locale() -> None:
    probe = ShellProbe("locale", 'echo "$LANG $LC_ALL"')
    run_probes(LocalRunner(), [probe], _server(), timeout=30)
    assert probe.stored == "C C\n"


def test_output_cannot_forge_markers_even_replaying_an_old_token() -> None:
    runner = RecordingRunner()
    run_probes(runner, [ShellProbe("warmup", "true")], _server(), timeout=30)
    (old,) = set(TOKEN.findall(runner.scripts[0]))

    # Collected text that imitates the batch markers, with the token of an earlier run.
    forged = (
        f"real line\\n{old} stderr liar\\nfake error\\n{old} end liar 0\\n"
        f"{old} begin victim\\nforged victim output\\n{old} stderr victim\\n\\n"
        f"{old} end victim 0\\n"
    )
    liar = ShellProbe("liar", f"printf '{forged}'")
    victim = ShellProbe("victim", "echo genuine")
    server = _server()
    run_probes(runner, [liar, victim], server, timeout=30)

    (new,) = set(TOKEN.findall(runner.scripts[1])) - {old}
    assert new != old
    assert victim.stored == "genuine\n"
    assert liar.stored is not None and liar.stored.startswith("real line\n")
    assert f"{old} end victim 0" in liar.stored
    assert _outcomes(server) == {"liar": (ProbeStatus.OK, None), "victim": (ProbeStatus.OK, None)}


def test_missing_command_is_skipped_with_its_name() -> None:
    absent = ShellProbe("absent", "codeb-no-such-tool --list", requires=("codeb-no-such-tool",))
    present = ShellProbe("present", "echo here", requires=("sh",))
    server = _server()
    run_probes(LocalRunner(), [absent, present], server, timeout=30)
    assert _outcomes(server) == {
        "absent": (ProbeStatus.SKIPPED, "codeb-no-such-tool not installed"),
        "present": (ProbeStatus.OK, None),
    }
    assert absent.stored is None


def test_non_zero_exit_fails_with_the_last_stderr_line() -> None:
    failing = ShellProbe(
        "failing", "echo partial; echo warming up >&2; echo 'disk on fire' >&2; exit 3"
    )
    server = _server()
    run_probes(LocalRunner(), [failing], server, timeout=30)
    assert _outcomes(server) == {"failing": (ProbeStatus.FAILED, "exit 3: disk on fire")}
    assert failing.stored is None


def test_parse_exception_fails_only_that_probe() -> None:
    broken = BrokenParseProbe("broken", "echo garbage")
    server = _server()
    run_probes(LocalRunner(), [broken], server, timeout=30)
    status, reason = _outcomes(server)["broken"]
    assert status == ProbeStatus.FAILED
    assert reason == "unreadable output: ValueError: cannot read 'garbage'"


def test_a_probe_over_its_time_is_stopped_and_failed() -> None:
    slow = ShellProbe("slow", "sleep 30; echo late", timeout=1)
    after = ShellProbe("after", "echo still here")
    server = _server()
    started = time.monotonic()
    run_probes(LocalRunner(), [slow, after], server, timeout=60)
    assert time.monotonic() - started < 30  # stopped, not waited for (however loaded)
    assert _outcomes(server) == {
        "slow": (ProbeStatus.FAILED, "timed out after 1 s"),
        "after": (ProbeStatus.OK, None),
    }
    assert after.stored == "still here\n"


# (a probe's command, how timeout runs it): a plain command as it is, the rest through sh
RUN_LINES = [
    ("df -PTB1", "df -PTB1"),
    ("cat /proc/meminfo", "cat /proc/meminfo"),
    ("systemctl list-units --type=service --all", "systemctl list-units --type=service --all"),
    ("podman ps -a --format json", "podman ps -a --format json"),
    ("echo hi", "sh -c 'echo hi'"),  # the builtin, not /usr/bin/echo
    ("kill -0 1", "sh -c 'kill -0 1'"),
    ("LANG=C df", "sh -c 'LANG=C df'"),  # an assignment
    ("-v", "sh -c -v"),  # would be timeout's option
    ("cat /etc/*release", "sh -c 'cat /etc/*release'"),  # a glob
    ("cat ~/.profile", "sh -c 'cat ~/.profile'"),
    ("cat $HOME/x", "sh -c 'cat $HOME/x'"),
    ("ss -tlnp | grep 80", "sh -c 'ss -tlnp | grep 80'"),
    ("uname -n; uname -r", "sh -c 'uname -n; uname -r'"),
    ("df  -P", "sh -c 'df  -P'"),  # two spaces: an empty word
    ("df -P\n", "sh -c 'df -P\n'"),
    ("if true", "sh -c 'if true'"),
    ("cat 'a b'", "sh -c 'cat '\"'\"'a b'\"'\"''"),
]


@pytest.mark.parametrize(("command", "line"), RUN_LINES)
def test_a_plain_command_runs_without_a_shell_around_it(command: str, line: str) -> None:
    assert run_line(command) == line


def test_a_plain_command_keeps_its_output_exit_code_and_time_limit() -> None:
    meminfo = ShellProbe("meminfo", "cat /proc/meminfo")
    missing = ShellProbe("missing", "ls /nonexistent-codeb-path")
    slow = ShellProbe("slow", "sleep 30", timeout=1)
    after = ShellProbe("after", "uname -s")
    server = _server()
    started = time.monotonic()
    run_probes(LocalRunner(), [meminfo, missing, slow, after], server, timeout=60)
    assert time.monotonic() - started < 10
    outcomes = _outcomes(server)
    assert outcomes["meminfo"] == (ProbeStatus.OK, None)
    assert meminfo.stored is not None and meminfo.stored.startswith("MemTotal:")
    assert outcomes["missing"][0] == ProbeStatus.FAILED
    assert (outcomes["missing"][1] or "").startswith("exit 2: ls: cannot access")
    assert outcomes["slow"] == (ProbeStatus.FAILED, "timed out after 1 s")
    assert (outcomes["after"], after.stored) == ((ProbeStatus.OK, None), "Linux\n")


def test_a_probe_without_a_time_limit_runs_without_timeout() -> None:
    """A probe that only reads the kernel's files is run by the script's shell itself:
    its output, exit code and stderr are kept as for the others."""
    meminfo = ShellProbe("meminfo", "cat /proc/meminfo", timeout=None)
    missing = ShellProbe("missing", "cat /proc/nonexistent-codeb-file", timeout=None)
    limited = ShellProbe("limited", "cat /proc/loadavg")
    runner = RecordingRunner()
    server = _server()
    run_probes(runner, [meminfo, missing, limited], server, timeout=60)
    outcomes = _outcomes(server)
    assert outcomes["meminfo"] == (ProbeStatus.OK, None)
    assert meminfo.stored is not None and meminfo.stored.startswith("MemTotal:")
    assert outcomes["missing"][0] == ProbeStatus.FAILED
    assert (outcomes["missing"][1] or "").startswith("exit 1: cat: /proc/nonexistent-codeb-file")
    assert outcomes["limited"] == (ProbeStatus.OK, None)
    lines = runner.scripts[0].splitlines()
    assert "cat /proc/meminfo </dev/null; _cb_rc=$?" in lines
    assert "${_cb_timeout:+$_cb_timeout -k 2 20} cat /proc/loadavg </dev/null; _cb_rc=$?" in lines


def test_whole_batch_over_its_time_fails_every_probe_with_the_reason() -> None:
    probes = [ShellProbe("a", "sleep 30", timeout=60), ShellProbe("b", "echo b")]
    server = _server()
    started = time.monotonic()
    run_probes(LocalRunner(), probes, server, timeout=1)
    assert time.monotonic() - started < 30  # stopped, not waited for (however loaded)
    outcomes = _outcomes(server)
    assert {status for status, _ in outcomes.values()} == {ProbeStatus.FAILED}
    assert all((reason or "").startswith("timed out: ") for _, reason in outcomes.values())


def test_one_failure_costs_no_other_probe() -> None:
    probes = [
        ShellProbe("ok1", "echo one"),
        ShellProbe("exit", "echo nope >&2; exit 1"),
        BrokenParseProbe("parse", "echo x"),
        ShellProbe("slow", "sleep 30", timeout=1),
        ShellProbe("missing", "nope", requires=("codeb-no-such-tool",)),
        ShellProbe("stderr", "echo noise >&2; echo two"),
    ]
    server = _server()
    run_probes(LocalRunner(), probes, server, timeout=60)
    outcomes = _outcomes(server)
    assert [o.probe for o in server.probes] == [p.name for p in probes]
    assert outcomes["ok1"] == (ProbeStatus.OK, None)
    assert outcomes["stderr"] == (ProbeStatus.OK, None)
    assert probes[0].stored == "one\n"
    assert probes[5].stored == "two\n"  # its stderr is not mixed into stdout
    assert outcomes["exit"][0] == outcomes["parse"][0] == outcomes["slow"][0] == ProbeStatus.FAILED
    assert outcomes["missing"][0] == ProbeStatus.SKIPPED


def test_output_cut_short_fails_the_probes_that_lost_it() -> None:
    first = ShellProbe("first", "echo complete")
    second = ShellProbe("second", "echo lost")
    runner = CuttingRunner(cut_after="complete\n")
    server = _server()
    run_probes(runner, [first, second], server, timeout=30)
    outcomes = _outcomes(server)
    assert outcomes["second"][0] == ProbeStatus.FAILED
    assert (outcomes["second"][1] or "").startswith("no output")
    # The first probe's end marker was cut too, so its output cannot be trusted either.
    assert outcomes["first"][0] == ProbeStatus.FAILED
    assert second.stored is None and first.stored is None


def test_split_output_ignores_text_before_the_first_marker() -> None:
    token = "@@codeb-0123456789abcdef"
    script = build_script([ShellProbe("p", "echo hi")], token)
    result = LocalRunner().run("echo 'banner from a login shell'\n" + script, timeout=30)
    parts = split_output(result.stdout, token)
    assert list(parts) == ["p"]
    run = parts["p"]
    assert not isinstance(run, str)
    assert (run.stdout, run.stderr, run.exit_code) == ("hi\n", "", 0)


def test_each_probe_gets_only_its_own_stderr() -> None:
    first = ShellProbe("first", "printf 'no newline' >&2; exit 1")
    quiet = ShellProbe("quiet", "echo fine")
    second = ShellProbe("second", "echo 'second trouble' >&2; exit 2")
    server = _server()
    run_probes(LocalRunner(), [first, quiet, second], server, timeout=30)
    assert _outcomes(server) == {
        "first": (ProbeStatus.FAILED, "exit 1: no newline"),
        "quiet": (ProbeStatus.OK, None),
        "second": (ProbeStatus.FAILED, "exit 2: second trouble"),
    }


class DeadShellRunner:
    """A shell that dies before running the batch, as a broken login shell would."""

    def run(self, script: str, timeout: float, stdin: str | None = None) -> CommandResult:
        return LocalRunner().run("echo 'sh: cannot fork' >&2; exit 2", timeout, stdin)


def test_a_dead_shell_reports_its_own_error() -> None:
    server = _server()
    run_probes(DeadShellRunner(), [ShellProbe("p", "true")], server, timeout=30)
    assert _outcomes(server) == {"p": (ProbeStatus.FAILED, "no output: sh: cannot fork")}


def _listing(calls: Path, code: int = 0) -> str:
    """A command logging each call and printing two lines."""
    return f"sh -c 'echo run >> {calls}; printf \"unit-a x\\nunit-b y\\n\"; exit {code}'"


@pytest.mark.parametrize("code", [0, 3])
def test_a_command_two_probes_read_runs_once(tmp_path: Path, code: int) -> None:
    calls = tmp_path / "calls"
    source = ShellProbe("source", _listing(calls, code))
    reader = ReadingProbe(
        "reader", "while read -r a _; do echo got $a; done", _listing(calls, code)
    )
    server = _server()
    run_probes(LocalRunner(), [source, reader], server, timeout=30)
    assert calls.read_text() == "run\n"
    # The first probe's own output and exit code are as if it ran alone.
    if code == 0:
        assert (_outcomes(server)["source"], source.stored) == (
            (ProbeStatus.OK, None),
            "unit-a x\nunit-b y\n",
        )
    else:
        assert _outcomes(server)["source"] == (ProbeStatus.FAILED, "exit 3: unit-b y")
    assert (_outcomes(server)["reader"], reader.stored) == (
        (ProbeStatus.OK, None),
        "got unit-a\ngot unit-b\n",
    )


@pytest.mark.parametrize("order", ["reader alone", "reader first"])
def test_a_reader_without_the_command_before_it_runs_it_itself(tmp_path: Path, order: str) -> None:
    calls = tmp_path / "calls"
    reader = ReadingProbe("reader", "while read -r a _; do echo got $a; done", _listing(calls))
    probes: list[Probe] = [reader]
    if order == "reader first":
        probes.append(ShellProbe("source", _listing(calls)))
    server = _server()
    run_probes(LocalRunner(), probes, server, timeout=30)
    assert (_outcomes(server)["reader"], reader.stored) == (
        (ProbeStatus.OK, None),
        "got unit-a\ngot unit-b\n",
    )
    assert calls.read_text() == "run\n" * len(probes)


def test_a_skipped_source_leaves_its_reader_an_empty_stdin(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    source = ShellProbe("source", _listing(calls), requires=["no-such-program-codeb"])
    reader = ReadingProbe("reader", "while read -r a _; do echo got $a; done", _listing(calls))
    server = _server()
    run_probes(LocalRunner(), [source, reader], server, timeout=30)
    assert _outcomes(server)["source"][0] == ProbeStatus.SKIPPED
    assert (_outcomes(server)["reader"], reader.stored) == ((ProbeStatus.OK, None), "got\n")
    assert not calls.exists()


def test_a_reader_read_by_another_gets_its_stdin_too(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    source = ShellProbe("source", _listing(calls))
    middle = ReadingProbe("middle", "sed s/unit/row/", _listing(calls))
    last = ReadingProbe("last", "cut -d' ' -f1", "sed s/unit/row/")
    server = _server()
    run_probes(LocalRunner(), [source, middle, last], server, timeout=30)
    assert (middle.stored, last.stored) == ("row-a x\nrow-b y\n", "row-a\nrow-b\n")
    assert calls.read_text() == "run\n"
