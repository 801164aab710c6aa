"""Run every probe of a server in one shell script, then hand each probe its own output.

One execution per server matters over SSH: each exec starts a remote login shell, and
its start-up files cost tens of milliseconds every time. A random boundary token keeps
collected text from forging the markers that separate the probes' outputs.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence

from pydantic import ValidationError

from codeb_report.collect.runner import CommandTimeout, OutputTooLarge, Runner
from codeb_report.probes.base import Probe, ProbeRun
from codeb_report.snapshot import ProbeOutcome, ProbeStatus, Server

# Each probe's stderr is told apart by markers on the script's own stderr, not by a
# temporary file: no mktemp, cat or rm per server keeps the remote work small.
PREAMBLE = """\
export LANG=C LC_ALL=C
if command -v timeout >/dev/null 2>&1; then _cb_timeout=timeout; else _cb_timeout=; fi
"""


# The reason every probe of a server gets when its output passed the runner's limit.
OUTPUT_TOO_LARGE = "output too large"


def _secret_slots(probes: Sequence[Probe]) -> list[tuple[Probe, str, str]]:
    """(probe, variable name, value) in stdin order: slot i is read into ``_cb_secret_i``."""
    slots = []
    for probe in probes:
        for env, value in sorted(probe.secrets().items()):
            if not env.isidentifier() or not env.isascii():
                raise ValueError(f"probe {probe.name}: bad secret variable name {env!r}")
            if "\n" in value or "\r" in value:
                raise ValueError(f"probe {probe.name}: secret {env} must be a single line")
            slots.append((probe, env, value))
    return slots


def secrets_input(probes: Sequence[Probe]) -> str | None:
    """The script's stdin: one secret per line, or None when no probe needs one."""
    slots = _secret_slots(probes)
    return "".join(f"{value}\n" for _, _, value in slots) if slots else None


def _secrets_preamble(probes: Sequence[Probe]) -> tuple[str, dict[str, str]]:
    """Shell lines reading the secrets from stdin, and each probe's env assignments."""
    reads, env = [], {}
    for index, (probe, name, _) in enumerate(_secret_slots(probes)):
        reads.append(f"IFS= read -r _cb_secret_{index} || _cb_secret_{index}=\n")
        env[probe.name] = env.get(probe.name, "") + f'{name}="$_cb_secret_{index}" '
    return "".join(reads), env


# A word the shell leaves as it is: nothing to expand, split, glob, quote or redirect.
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
# dash's builtins and keywords: `timeout` runs programs, and echo, printf, kill and test
# as programs do not behave as the builtins do.
_DASH_WORDS = (
    ". : [ alias bg break cd chdir command continue echo eval exec exit export false fg "
    "getopts hash jobs kill local printf pwd read readonly return set shift test times trap "
    "true type ulimit umask unalias unset wait ! case do done elif else esac fi for if in "
    "then until while"
)
_SHELL_WORDS = frozenset(_DASH_WORDS.split())


def run_line(command: str) -> str:
    """The command as ``timeout`` runs it: a single plain command (``df -PTB1``) as it
    is, anything else through ``sh -c``. On the server, each ``sh`` is one more exec per
    probe (about half a millisecond of its CPU), for nothing a plain command needs."""
    words = command.split(" ")
    if (
        all(_PLAIN_WORD.fullmatch(word) for word in words)
        and words[0] not in _SHELL_WORDS
        and "=" not in words[0]  # an assignment, not a program
        and not words[0].startswith("-")  # an option to timeout
    ):
        return command
    return f"sh -c {shlex.quote(command)}"


def _limit(probe: Probe) -> str:
    if probe.timeout is None:
        return ""
    return f"${{_cb_timeout:+$_cb_timeout -k 2 {probe.timeout}}} "


def _run(probe: Probe, env: str, keep: str | None, feed: str | None) -> str:
    """The line running the probe's command, leaving its exit code in ``$_cb_rc``.

    ``keep``: a variable that also holds the output, for a later probe's stdin.
    ``feed``: a shell command whose output is the probe's stdin.
    """
    line = f"{env}{_limit(probe)}{run_line(probe.command())}"
    line = f"{feed} | {line}" if feed else f"{line} </dev/null"
    if keep:
        return f'{keep}=$({line}); _cb_rc=$?\n[ -z "${keep}" ] || printf \'%s\\n\' "${keep}"\n'
    return f"{line}; _cb_rc=$?\n"


def _probe_block(
    probe: Probe, token: str, env: str = "", keep: str | None = None, feed: str | None = None
) -> str:
    name = probe.name
    checks = " || ".join(f"! command -v {shlex.quote(r)} >/dev/null 2>&1" for r in probe.requires)
    missing = " ".join(probe.requires)
    run = (
        f"printf '{token} begin {name}\\n' >&2\n"
        + _run(probe, env, keep, feed)
        + f"printf '\\n{token} end {name} %d\\n' \"$_cb_rc\"\n"
        f"printf '\\n{token} end {name}\\n' >&2\n"
    )
    body = f"printf '{token} begin {name}\\n'\n"
    if checks:
        body += f"if {checks}; then printf '{token} missing {name} %s\\n' {shlex.quote(missing)}\n"
        body += "else\n" + run + "fi\n"
    else:
        body += run
    return body


def build_script(probes: Sequence[Probe], token: str) -> str:
    reads, env = _secrets_preamble(probes)
    # A command some probe reads on its stdin: the first probe running it keeps its
    # output in a variable (one systemctl, not two, on the server).
    wanted = {p.input_command() for p in probes} - {None}
    kept: dict[str, str] = {}
    blocks = []
    for probe in probes:
        command, keep, feed = probe.command(), None, None
        if command in wanted and command not in kept:
            keep = kept[command] = f"_cb_kept_{len(kept)}"
        source = probe.input_command()
        if source is not None:
            feed = (
                f"printf '%s\\n' \"${kept[source]}\""
                if source in kept
                else f"{_limit(probe)}{run_line(source)} 2>/dev/null </dev/null"
            )
        blocks.append(_probe_block(probe, token, env.get(probe.name, ""), keep, feed))
    return reads + PREAMBLE + "".join(blocks)


def split_output(stdout: str, token: str, stderr: str = "") -> dict[str, ProbeRun | str]:
    """Map probe name to its ProbeRun, or to the missing executables' names."""
    errors = _split_stderr(stderr, token)
    results: dict[str, ProbeRun | str] = {}
    for chunk in stdout.split(f"{token} begin ")[1:]:
        name, _, rest = chunk.partition("\n")
        if rest.startswith(f"{token} missing {name} "):
            results[name] = rest.split("\n", 1)[0].split(" ", 3)[3]
            continue
        out, sep, rest = rest.partition(f"\n{token} end {name} ")
        code = rest.split("\n", 1)[0]
        if sep and code.strip().lstrip("-").isdigit():
            results[name] = ProbeRun(out, errors.get(name, ""), int(code))
        # else the script died inside this probe; the caller records it as failed
    return results


def _split_stderr(stderr: str, token: str) -> dict[str, str]:
    errors = {}
    for chunk in stderr.split(f"{token} begin ")[1:]:
        name, _, rest = chunk.partition("\n")
        errors[name] = rest.partition(f"\n{token} end {name}\n")[0]
    return errors


def _unmarked(stderr: str, token: str) -> str:
    """The script's stderr without the probes' markers, for a whole-batch failure."""
    return "\n".join(line for line in stderr.splitlines() if token not in line).strip()


def run_probes(runner: Runner, probes: Sequence[Probe], server: Server, timeout: float) -> None:
    """Run ``probes`` on ``server`` through ``runner``; fill the server and its outcomes.

    Nothing raised by one probe's parse costs another probe its result.
    """
    token = "@@codeb-" + secrets.token_hex(8)
    try:
        result = runner.run(
            build_script(probes, token), timeout=timeout, stdin=secrets_input(probes)
        )
        parts = split_output(result.stdout, token, result.stderr)
    except CommandTimeout as exc:
        parts, result = {}, None
        fallback = f"timed out: {exc}"
    except OutputTooLarge as exc:
        # What was read is cut off at an arbitrary place: none of it is trusted.
        parts, result = {}, None
        fallback = f"{OUTPUT_TOO_LARGE}: {exc}"
    else:
        detail = _unmarked(result.stderr, token)
        fallback = "no output" + (f": {detail[:200]}" if detail else "")
    for probe in probes:
        server.probes.append(_apply(probe, parts.get(probe.name), server, fallback))


def _apply(
    probe: Probe, part: ProbeRun | str | None, server: Server, fallback: str
) -> ProbeOutcome:
    if part is None:
        return ProbeOutcome(probe=probe.name, status=ProbeStatus.FAILED, reason=fallback)
    if isinstance(part, str):
        return ProbeOutcome(
            probe=probe.name, status=ProbeStatus.SKIPPED, reason=f"{part} not installed"
        )
    return apply_run(probe, part, server)


def invalid_value(exc: ValidationError) -> str:
    """``SystemInfo.load.0: Input should be a finite number``: one line, the first error."""
    err = exc.errors()[0]
    where = ".".join(str(part) for part in (exc.title, *err["loc"]))
    return f"{where}: {err['msg']}"


def apply_run(probe: Probe, run: ProbeRun, server: Server) -> ProbeOutcome:
    """Judge one probe's run: skipped, failed, or parsed into ``server``."""

    def outcome(status: ProbeStatus, reason: str | None = None) -> ProbeOutcome:
        return ProbeOutcome(probe=probe.name, status=status, reason=reason)

    if reason := probe.skip_reason(run):
        return outcome(ProbeStatus.SKIPPED, reason)
    if reason := probe.failure(run):
        return outcome(ProbeStatus.FAILED, reason)
    try:
        probe.store(server, probe.parse(run.stdout))
    except ValidationError as exc:  # a value the snapshot refuses, e.g. an infinite load
        return outcome(ProbeStatus.FAILED, f"unreadable output: {invalid_value(exc)}")
    except Exception as exc:  # a parse bug must not cost the other probes
        return outcome(ProbeStatus.FAILED, f"unreadable output: {type(exc).__name__}: {exc}")
    if reason := probe.problem():
        return outcome(ProbeStatus.FAILED, reason)
    return outcome(ProbeStatus.OK)
