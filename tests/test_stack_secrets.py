"""Secrets travel on the batch script's stdin: never in its text, never on a command line."""

from __future__ import annotations

import secrets

import pytest

from codeb_report.collect.batch import build_script, run_probes, secrets_input
from codeb_report.collect.runner import LocalRunner
from codeb_report.probes.base import Probe
from codeb_report.probes.stack.settings import RedisSettings, Secret
from codeb_report.snapshot import Server

# Random, so that no other process on the machine can show them by chance.
SECRET = f"s3 cr$t'\"`x\\y-{secrets.token_hex(8)}"
SECOND = f"second-{secrets.token_hex(8)}"


class EnvEcho(Probe):
    """Prints its secret variables and every command line the machine shows in /proc."""

    name = "env-echo"

    def __init__(self, secrets: dict[str, str]) -> None:
        self._secrets = secrets

    def secrets(self) -> dict[str, str]:
        return self._secrets

    def command(self) -> str:
        names = " ".join(f'"${name}"' for name in sorted(self._secrets))
        # `case` matches inside the shell: grep would put the secret on its own command line.
        checks = "".join(f'*"${name}"*) echo "found {name} in $f";; ' for name in self._secrets)
        return (
            f"printf '%s\\n' {names}; echo '--'; n=0; "
            "for f in /proc/[0-9]*/cmdline; do c=$(tr '\\000' ' ' < \"$f\" 2>/dev/null); "
            f'n=$((n+1)); case "$c" in {checks}esac; done; echo "scanned $n"'
        )

    def parse(self, output: str) -> list[str]:
        return output.split("\n--\n")

    def store(self, server: Server, value: list[str]) -> None:
        self.values, self.cmdlines = value[0].splitlines(), value[1]


class Plain(EnvEcho):
    name = "plain"

    def __init__(self) -> None:
        super().__init__({})

    def command(self) -> str:
        return 'printf "[%s]" "${A-unset}"'

    def parse(self, output: str) -> list[str]:
        return [output, ""]


def test_secret_reaches_only_its_probe_and_no_command_line() -> None:
    echo, plain = EnvEcho({"A": SECRET, "B": SECOND}), Plain()
    server = Server(name="s", host="h", role="r", reachable=True)
    run_probes(LocalRunner(), [echo, plain], server, timeout=30)
    assert echo.values == [SECRET, SECOND]
    assert "found" not in echo.cmdlines
    assert int(echo.cmdlines.split("scanned ")[1]) > 3  # the scan itself ran
    assert plain.values == ["[unset]"]  # another probe never sees it


def test_script_text_holds_no_secret_and_stdin_holds_them_in_order() -> None:
    probes = [EnvEcho({"B": "bee", "A": SECRET}), EnvEcho({"C": "sea"})]
    script = build_script(probes, "@@tok")
    assert SECRET not in script and "bee" not in script
    assert secrets_input(probes) == f"{SECRET}\nbee\nsea\n"
    assert secrets_input([Plain()]) is None


@pytest.mark.parametrize("bad", ["two\nlines", "cr\r"])
def test_multi_line_secret_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="single line"):
        build_script([EnvEcho({"A": bad})], "@@tok")


def test_password_sources(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CB_T_PW", "from-env")
    assert Secret(password_env="CB_T_PW").resolve() == ("from-env", None)
    monkeypatch.delenv("CB_T_PW")
    assert Secret(password_env="CB_T_PW").resolve() == (
        None,
        "password_env: environment variable CB_T_PW is not set",
    )
    file = tmp_path / "pw"
    file.write_text("from-file\nignored\n")
    assert Secret(password_file=str(file)).resolve() == ("from-file", None)
    missing = tmp_path / "missing"
    assert Secret(password_file=str(missing)).resolve() == (
        None,
        f"password_file: {missing}: No such file or directory",
    )
    assert Secret().resolve() == (None, None)


def test_both_sources_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="not both"):
        RedisSettings(password_env="A", password_file="/x")
