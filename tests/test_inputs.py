"""Inputs it reads give one clear line, never a traceback: snapshots, configuration and
password files, however broken, large, deep or strange the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeb_report.errors import Exit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"
SCHEMA = ROOT / "docs" / "snapshot.schema.json"
CLI = str(Path(sys.executable).with_name("codeb-report"))


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def example_with(**changes) -> dict:
    data = json.loads(EXAMPLE.read_text())
    data.update(changes)
    return data


# Snapshots: the path ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["render", "diff"])
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "snapshot.json"
    os.mkfifo(fifo)
    args = [str(fifo), "-f", "md", "--out", str(tmp_path)] if command == "render" else [
        str(EXAMPLE), str(fifo)
    ]  # fmt: skip
    done = cli(command, *args, timeout=20)
    line = one_error_line(done)
    assert done.returncode == (Exit.INPUT if command == "render" else Exit.USAGE)
    assert line == f"Error: {fifo}: not a regular file (a FIFO)"


def test_dev_zero_is_refused_not_read_forever() -> None:
    done = cli("diff", str(EXAMPLE), "/dev/zero", timeout=20)
    assert done.returncode == 2  # diff's trouble, never 1 ("changed")
    assert one_error_line(done) == "Error: /dev/zero: not a regular file (a character device)"


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    from codeb_report.snapshot import MAX_SNAPSHOT_BYTES

    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_SNAPSHOT_BYTES + 1)  # sparse: costs no disk
    done = cli("render", str(big), "-f", "md", "--out", str(tmp_path))
    assert done.returncode == Exit.INPUT
    assert one_error_line(done) == f"Error: {big}: larger than 64 MiB, the most it may be"


# Snapshots: the content -------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"schema_version": 1, "n": ' + "9" * 5000 + "}", "is too large"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema_version": true, "collected_at": "2025-12-20T03:00:00Z"}', "schema_version"),
    ],
    ids=["5000 digits", "deep", "schema_version true"],
)
def test_a_broken_snapshot_is_one_line_exit_3_and_2_for_diff(
    tmp_path: Path, text: str, reason: str
) -> None:
    bad = _write(tmp_path, text)
    render = cli("render", str(bad), "-f", "md", "--out", str(tmp_path / "r"))
    assert render.returncode == Exit.INPUT
    line = one_error_line(render)
    assert line.startswith(f"Error: {bad}: ") and reason in line, line
    diff = cli("diff", str(EXAMPLE), str(bad))
    assert diff.returncode == 2
    assert one_error_line(diff) == line


def test_a_size_too_large_for_the_report_is_refused_on_load(tmp_path: Path) -> None:
    data = example_with()
    data["servers"][0]["memory"]["total"] = 10**19  # fits in 20 digits, not in a counter
    bad = _write(tmp_path, json.dumps(data))
    done = cli("render", str(bad), "-f", "md", "--out", str(tmp_path / "r"))
    assert done.returncode == Exit.INPUT
    line = one_error_line(done)
    assert line.startswith(f"Error: {bad}: servers[") and "memory.total" in line, line


def test_schema_and_loader_agree_schema_version_is_required(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    assert "schema_version" in schema["required"]
    data = example_with()
    del data["schema_version"]
    done = cli("render", str(_write(tmp_path, json.dumps(data))), "--out", str(tmp_path))
    assert done.returncode == Exit.INPUT
    assert "schema_version: missing or not an integer" in one_error_line(done)


def test_the_schema_is_what_the_model_generates() -> None:
    from codeb_report.snapshot import json_schema

    assert SCHEMA.read_text() == json_schema()


@pytest.mark.parametrize("number", ["1e400", "Infinity", "NaN"])
def test_a_non_finite_load_is_refused_naming_the_field(tmp_path: Path, number: str) -> None:
    data = example_with()
    data["servers"][0]["system"]["load"] = [0.1, 0.2, 0.3]
    text = json.dumps(data).replace("[0.1, 0.2, 0.3]", f"[{number}, 0.2, 0.3]")
    bad = _write(tmp_path, text)
    done = cli("render", str(bad), "-f", "md", "--out", str(tmp_path / "r"))
    assert done.returncode == Exit.INPUT
    line = one_error_line(done)
    assert line.startswith(f"Error: {bad}: servers[") and "system.load" in line, line
    assert "finite number" in line


# Configuration ----------------------------------------------------------------------------

SERVER = '[[servers]]\nname = "n1"\nhost = "127.0.0.1"\n'


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return cli("check-config", str(path))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[ssh]\nconnect_timeout = inf\n", "ssh.connect_timeout: inf is not a finite number"),
        ("[ssh]\ndeadline = nan\n", "ssh.deadline: nan is not a finite number"),
        ("[ssh]\nconnect_timeout = 1e300\n", "ssh.connect_timeout: Input should be less than"),
        ("[output]\nkeep_days = 99999999999\n", "output.keep_days: Input should be less than"),
        ("[mail]\nhost = \"h\"\nsender = \"a@b.c\"\nto = [\"a@b.c\"]\n"
         'subject_prefix = "[CodeB]\\nBcc: all@example.com"\n',
         "mail.subject_prefix: control character U+000A not allowed"),
        ('[report]\ntitle = "a\\u001b[2Jb"\n', "report.title: control character U+001B"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("x = " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 deep"),
        ("x = " + "9" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
    ],
    ids=["inf", "nan", "1e300", "keep_days", "subject newline", "title ESC", "deep",
         "40 deep", "5000 digits"],
)  # fmt: skip
def test_check_config_refuses_what_run_cannot_use(tmp_path: Path, text: str, reason: str) -> None:
    done = check(tmp_path, SERVER + text if not text.startswith("x") else text + SERVER)
    assert done.returncode == Exit.INPUT, done.stdout
    line = one_error_line(done)
    assert line.startswith(f"Error: {tmp_path / 'fleet.toml'}: ") and reason in line, line


def test_every_numeric_setting_is_bounded_and_finite() -> None:
    """The pattern behind connect_timeout = inf: every int or float a configuration holds
    has an upper bound (an unbounded one overflows a date or a timer later), and no float
    may be inf or nan (refused for the whole file before validation)."""
    import types
    import typing

    import annotated_types
    from pydantic import BaseModel

    from codeb_report.config import Config

    unbounded: list[str] = []
    seen: set[type] = set()

    def numeric(tp: object) -> bool:
        return tp in (int, float)

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            stack = [(field.annotation, list(field.metadata))]
            while stack:
                tp, meta = stack.pop()
                if typing.get_origin(tp) is typing.Annotated:
                    base, *extra = typing.get_args(tp)
                    found = [m for e in extra for m in getattr(e, "metadata", [e])]
                    stack.append((base, meta + found))
                elif isinstance(tp, type) and issubclass(tp, BaseModel):
                    walk(tp)
                elif numeric(tp):
                    if not any(
                        isinstance(m, annotated_types.Le | annotated_types.Lt) for m in meta
                    ):
                        unbounded.append(f"{model.__name__}.{name}")
                else:
                    # dict keys are bounded by their own Annotated types (ports)
                    args = typing.get_args(tp)
                    optional = typing.get_origin(tp) in (typing.Union, types.UnionType)
                    kept = meta if optional else []  # X | None keeps X's bounds
                    stack.extend((a, kept) for a in args if a is not type(None))

    walk(Config)
    assert unbounded == []


def test_a_fifo_or_huge_configuration_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fleet.toml"
    os.mkfifo(fifo)
    done = cli("check-config", str(fifo), timeout=20)
    assert done.returncode == Exit.INPUT
    assert one_error_line(done) == f"Error: {fifo}: not a regular file (a FIFO)"
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 2**20 + "\n" + SERVER)
    done = cli("check-config", str(big))
    assert one_error_line(done) == f"Error: {big}: larger than 1 MiB, the most it may be"


def test_an_unset_password_of_a_role_no_server_has_is_no_error(tmp_path: Path) -> None:
    done = check(
        tmp_path,
        SERVER + '[roles.server]\n[roles.storage.redis]\npassword_env = "CODEB_UNSET_9"\n',
    )
    assert done.returncode == 0, done.stderr
    used = check(
        tmp_path,
        SERVER.replace('"127.0.0.1"\n', '"127.0.0.1"\nrole = "storage"\n')
        + '[roles.storage.redis]\npassword_env = "CODEB_UNSET_9"\n',
    )
    assert used.returncode == Exit.INPUT
    assert "roles.storage.redis.password_env: environment variable CODEB_UNSET_9" in used.stderr


# Password files ---------------------------------------------------------------------------


def test_the_mail_password_is_the_files_first_line(tmp_path: Path) -> None:
    from codeb_report.logs import forget_secrets
    from codeb_report.mail.settings import MailSettings

    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-first\n# rotated 2025-12-01 by ops\n")
    secret.chmod(0o600)
    settings = MailSettings(
        host="h", sender="a@b.c", to=["a@b.c"], username="u", password_file=str(secret)
    )
    assert settings.password() == "s3cret-first"
    forget_secrets()


def test_a_password_file_in_another_encoding_is_one_line(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_bytes(b"caf\xe9\n")  # Latin-1
    secret.chmod(0o600)
    done = check(
        tmp_path,
        SERVER + f'[mail]\nhost = "h"\nsender = "a@b.c"\nto = ["a@b.c"]\nusername = "u"\n'
        f'password_file = "{secret}"\n',
    )
    assert done.returncode == Exit.INPUT
    assert one_error_line(done).endswith(f"mail.password_file: {secret}: not UTF-8 text (byte 3)")


@pytest.mark.parametrize("section", ["mail", "roles", "identity"])
def test_a_secret_file_others_can_read_is_a_warning_naming_it(tmp_path: Path, section: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    secret.chmod(0o644)
    server = SERVER
    if section == "mail":
        extra = (
            '[mail]\nhost = "h"\nsender = "a@b.c"\nto = ["a@b.c"]\nusername = "u"\n'
            f'password_file = "{secret}"\n'
        )
    elif section == "roles":
        extra = f'[roles.server.redis]\npassword_file = "{secret}"\n'
    else:
        server = SERVER + f'identity_file = "{secret}"\n'
        extra = ""
    done = check(tmp_path, server + extra)
    assert done.returncode == 0, done.stderr
    [warning] = done.stderr.splitlines()
    assert f"WARNING - {secret}: " in warning and "(mode 644): chmod 600 it" in warning
    secret.chmod(0o600)
    assert check(tmp_path, server + extra).stderr == ""


@pytest.mark.parametrize(
    ("where", "named"),
    [(("servers", 0, "role"), "servers[n1].role"), (("servers", 1, "tags"), "servers[n2].tags[1]")],
)
def test_half_a_surrogate_pair_is_refused_naming_the_field(
    tmp_path: Path, where: tuple[str | int, ...], named: str
) -> None:
    data = example_with()
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "App \ud800 Server" if where[-1] != "tags" else ["ok", "\udc00"]
    bad = _write(tmp_path, json.dumps(data))  # written as the escape \ud800
    assert "\\ud800" in bad.read_text() or "\\udc00" in bad.read_text()
    done = cli("render", str(bad), "-f", "md", "--out", str(tmp_path / "r"))
    assert done.returncode == Exit.INPUT
    assert one_error_line(done) == (
        f"Error: {bad}: {named}: not text (a lone UTF-16 surrogate escape)"
    )


def test_characters_written_as_escaped_surrogate_pairs_are_text(tmp_path: Path) -> None:
    data = example_with()
    data["servers"][0]["role"] = "App Server \U0001f680"  # json.dumps: "\ud83d\ude80"
    path = _write(tmp_path, json.dumps(data))
    assert "\\ud83d\\ude80" in path.read_text()
    done = cli("render", str(path), "-f", "md", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "App Server \U0001f680" in (tmp_path / "r" / "report.md").read_text()
