"""The URLs of [prometheus] and [vultr]: one validator, the same words for the same mistake,
and a password written into a URL is never repeated in the message."""

from __future__ import annotations

import pytest

from codeb_report.config import parse_config
from codeb_report.errors import ConfigError

FLEET = '[[servers]]\nname = "n1"\nhost = "192.0.2.1"\n'
TABLES = {"prometheus": "url", "vultr": "base_url"}


def refused(table: str, url: str) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(f'{FLEET}[{table}]\n{TABLES[table]} = "{url}"\n', "fleet.toml")
    message = raised.value.format_message()
    assert message.startswith(f"fleet.toml: {table}.{TABLES[table]}: "), message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://h/v2", "'ftp://h/v2' is not an http(s) URL (e.g. "),
        ("http:///v2", "is not an http(s) URL"),
        ("https://u:pw@h/v2", "credentials do not go in the URL: "),
        ("https://h/v2?x=1", "the URL takes no query or fragment"),
        ("https://h/v2#top", "the URL takes no query or fragment"),
        ("https://h:99999/v2", "'https://h:99999/v2' has no valid port"),
        ("https://h:port/v2", "has no valid port"),
    ],
)
def test_the_same_mistake_is_said_the_same_way(table: str, url: str, said: str) -> None:
    assert said in refused(table, url)


@pytest.mark.parametrize("table", TABLES)
def test_a_password_in_the_url_is_not_repeated(table: str) -> None:
    for url in ("ftp://u:S3cretPw@h/", "https://u:S3cretPw@h:99999/", "https://:S3cretPw@h/"):
        message = refused(table, url)
        assert "S3cretPw" not in message
        assert "credentials do not go in the URL" in message


@pytest.mark.parametrize("table", TABLES)
def test_a_good_url_loses_its_trailing_slash(table: str) -> None:
    config = parse_config(f'{FLEET}[{table}]\n{TABLES[table]} = "http://127.0.0.1:9/v2/"\n', "f")
    assert getattr(getattr(config, table), TABLES[table]) == "http://127.0.0.1:9/v2"
