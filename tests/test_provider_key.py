"""Where the Vultr key is looked up, in which order, and that it never shows."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from codeb_report.config import parse_config
from codeb_report.errors import ConfigError
from codeb_report.provider.key import KeyProblem, find_key
from codeb_report.provider.settings import VultrSettings

KEY_A = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY_B = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
KEY_C = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"


def key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_vultr_api_key_comes_first(tmp_path: Path) -> None:
    settings = VultrSettings(api_key_env="MY_KEY")
    key_file(tmp_path / ".vultr-cli.yaml", f"api-key: {KEY_C}\n")
    found = find_key(settings, {"VULTR_API_KEY": KEY_A, "MY_KEY": KEY_B}, tmp_path)
    assert (found.value, found.source) == (KEY_A, "VULTR_API_KEY")
    found = find_key(settings, {"MY_KEY": KEY_B}, tmp_path)
    assert (found.value, found.source) == (KEY_B, "MY_KEY")
    assert KEY_B not in repr(found)


def test_api_key_file_first_line_and_a_warning_when_shared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = key_file(tmp_path / "vultr-key", f"{KEY_B}\nsecond line ignored\n", 0o644)
    with caplog.at_level(logging.WARNING, logger="codeb_report"):
        found = find_key(VultrSettings(api_key_file=str(path)), {}, tmp_path)
    assert found.value == KEY_B
    assert "group or others" in caplog.text and KEY_B not in caplog.text
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="codeb_report"):
        find_key(VultrSettings(api_key_file=str(path)), {}, tmp_path)
    assert caplog.text == ""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("short\n", "not a valid API key"),
        ("x" * 70_000, "larger than 64 KiB"),
    ],
)
def test_a_broken_api_key_file_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = key_file(tmp_path / "vultr-key", text)
    with pytest.raises(KeyProblem, match=problem) as raised:
        find_key(VultrSettings(api_key_file=str(path)), {}, tmp_path)
    assert str(path) in str(raised.value)
    if text.strip():
        assert text.strip()[:20] not in str(raised.value)


def test_a_missing_api_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyProblem, match=r"vultr-key: cannot read"):
        find_key(VultrSettings(api_key_file=str(tmp_path / "vultr-key")), {}, tmp_path)


def test_vultr_cli_places_in_order(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    key_file(tmp_path / ".vultr-cli.yaml", f"api-key: {KEY_C}\n")
    assert find_key(VultrSettings(), {}, tmp_path).value == KEY_C
    key_file(tmp_path / ".config" / "vultr-cli.yaml", f'api-key: "{KEY_B}"  # comment\n')
    assert find_key(VultrSettings(), {}, tmp_path).value == KEY_B
    key_file(xdg / "vultr-cli.yaml", f"---\napi-key: '{KEY_A}'\n")
    found = find_key(VultrSettings(), {"XDG_CONFIG_HOME": str(xdg)}, tmp_path)
    assert (found.value, found.source) == (KEY_A, str(xdg / "vultr-cli.yaml"))


def test_an_empty_vultr_cli_file_means_no_key(tmp_path: Path) -> None:
    # vultr-cli v3.8 creates ~/.vultr-cli.yaml empty when it finds no configuration
    key_file(tmp_path / ".vultr-cli.yaml", "")
    assert find_key(VultrSettings(), {}, tmp_path) is None
    key_file(tmp_path / ".vultr-cli.yaml", "api-key:\n")
    assert find_key(VultrSettings(), {}, tmp_path) is None


FLEET = '[[servers]]\nname = "n1"\nhost = "192.0.2.1"\n'


def test_the_vultr_table_defaults() -> None:
    config = parse_config(FLEET + "[vultr]\n", "f.toml")
    assert config.vultr.base_url == "https://api.vultr.com/v2"
    assert (config.vultr.per_page, config.vultr.deadline, config.vultr.headroom_percent) == (
        500,
        60.0,
        30.0,
    )
    assert parse_config(FLEET, "f.toml").vultr is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (f'api_key = "{KEY_A}"', "never written into this file"),
        ('base_url = "ftp://x"', "not an http"),
        ('base_url = "https://u:p@api.example/v2"', "credentials do not go in the URL"),
        ('api_key_env = "MY-KEY"', "not an environment variable name"),
        ('api_key_env = "A"\napi_key_file = "/k"', "not both"),
        ('per_page = "500"', "vultr.per_page: Input should be a valid integer"),
        ("per_page = 501", "vultr.per_page"),
        ("deadline = 0", "vultr.deadline"),
        ("timeout = 3", "vultr.timeout: unknown setting"),
    ],
)
def test_the_vultr_table_refuses(table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        parse_config(FLEET + "[vultr]\n" + table + "\n", "f.toml")
    assert KEY_A not in raised.value.format_message()


def test_check_config_names_a_missing_or_broken_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codeb_report.config import secret_problems

    monkeypatch.delenv("VULTR_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    config = parse_config(FLEET + "[vultr]\n", "f.toml")
    assert secret_problems(config) == [
        "vultr: no API key: set VULTR_API_KEY, [vultr] api_key_env or api_key_file, "
        "or api-key in ~/.vultr-cli.yaml"
    ]
    missing = tmp_path / "vultr-key"
    config = parse_config(FLEET + f'[vultr]\napi_key_file = "{missing}"\n', "f.toml")
    assert secret_problems(config) == [f"vultr: {missing}: cannot read: No such file or directory"]
    monkeypatch.setenv("VULTR_API_KEY", KEY_A)
    assert secret_problems(parse_config(FLEET + "[vultr]\n", "f.toml")) == []


def test_an_api_key_file_that_is_a_fifo_is_named_not_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "vultr-key"
    os.mkfifo(path)
    with pytest.raises(KeyProblem) as raised:
        find_key(VultrSettings(api_key_file=str(path)), {}, tmp_path)
    assert str(raised.value) == f"{path}: not a regular file (a FIFO)"
