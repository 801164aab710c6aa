"""The [prometheus] table and the label matchers that tie servers to their series."""

from __future__ import annotations

import pytest

from codeb_report.config import parse_config, secret_problems
from codeb_report.errors import ConfigError
from codeb_report.prometheus.discover import host_of
from codeb_report.prometheus.matchers import (
    Index,
    Matcher,
    fill_template,
    fleet_filter,
    parse_matchers,
    parse_selector,
)

SERVER = '[[servers]]\nname = "n1"\nhost = "10.0.0.1"\n'
URL = 'url = "http://127.0.0.1:9090"\n'


def load(table: str, servers: str = SERVER):
    return parse_config(f"{servers}[prometheus]\n{table}", "fleet.toml")


def test_defaults() -> None:
    settings = load(URL).prometheus
    assert settings is not None
    assert (settings.match, settings.timeout, settings.scrape_interval) == (
        'instance="{host}:9100"',
        30.0,
        60.0,
    )
    assert (settings.stale_after, settings.history_days, settings.servers) == (3.0, 30.0, None)


def test_servers_may_come_from_prometheus_alone() -> None:
    config = load(URL + "servers = 'up{job=\"node\"}'\n", servers="")
    assert config.servers == []
    with pytest.raises(ConfigError, match=r"^fleet.toml: servers: missing \(required\)$"):
        load(URL, servers="")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("", "prometheus.url: missing (required)"),
        ('url = "ftp://h"\n', "is not an http(s) URL"),
        ('url = "http://u:p@h:9090"\n', "credentials do not go in the URL"),
        (URL + 'timeout = "5"\n', "prometheus.timeout: Input should be a valid number"),
        (URL + "stale_after = 0.5\n", "prometheus.stale_after: Input should be greater than"),
        (URL + "history_points = 12.0\n", "prometheus.history_points: Input should be a valid"),
        (URL + 'username = "u"\n', "username is set: also set password_env or password_file"),
        (URL + 'password_env = "P"\n', "a password needs a username"),
        (URL + 'token_env = "T"\ntoken_file = "/t"\n', "set token_env or token_file, not both"),
        (URL + 'username = "u"\npassword_env = "P"\ntoken_env = "T"\n', "not both"),
        (URL + 'password_env = "BAD-NAME"\nusername = "u"\n', "prometheus.password_env:"),
        (URL + "match = 'instance'\n", "not a label matcher list"),
        (URL + "match = 'instance=~\"(\"'\n", "bad regular expression"),
        (URL + "servers = 'up{job=node}'\n", "not a label matcher list"),
        (URL + "servers = '{}'\n", "no label matcher"),
        (URL + "prot = 1\n", "prometheus.prot: unknown setting"),
    ],
)
def test_mistakes_are_named(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(table)
    assert message in info.value.format_message()
    assert info.value.format_message().startswith("fleet.toml: ")


def test_a_servers_own_matcher_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"servers\[n1\]\.prometheus: .*not a label matcher"):
        load(URL, servers=SERVER + "prometheus = 'nonsense'\n")
    config = load(URL, servers=SERVER + 'prometheus = \'nodename="db-1", job="node"\'\n')
    assert config.servers[0].prometheus == 'nodename="db-1", job="node"'


def test_check_config_names_an_unreadable_secret(tmp_path) -> None:
    config = load(URL + f'token_file = "{tmp_path / "missing"}"\n')
    assert secret_problems(config) == [
        f"prometheus.token_file: {tmp_path / 'missing'}: No such file or directory"
    ]
    config = load(URL + 'username = "u"\npassword_env = "CODEB_TEST_UNSET_PW"\n')
    assert secret_problems(config) == [
        "prometheus.password_env: environment variable CODEB_TEST_UNSET_PW is not set"
    ]


def test_matchers_follow_promql() -> None:
    matchers = parse_matchers('{a="x", b!="y", c=~"w.*", d!~"z|q", e=""}')
    assert matchers[0] == Matcher("a", "=", "x")
    labels = {"a": "x", "b": "n", "c": "web1", "d": "k"}
    assert all(m.matches(labels) for m in matchers)  # e="" matches a missing label
    assert not Matcher("c", "=~", "w").matches(labels)  # anchored, as PromQL's are
    assert parse_matchers(r'a="q\"uote\\"')[0].value == 'q"uote\\'
    assert fill_template('instance="{host}:9100", n="{name}"', 'h"1', "s")[0].value == 'h"1:9100'
    assert parse_selector('up{job="node"}') == ("up", (Matcher("job", "=", "node"),))
    assert parse_selector("node_uname_info") == ("node_uname_info", ())


def test_one_filter_for_the_fleet() -> None:
    a = parse_matchers('instance="a.b:9100", job="node"')
    b = parse_matchers('instance="c:9100"')
    assert fleet_filter([a, b]) == (Matcher("instance", "=~", r"a\.b:9100|c:9100"),)
    assert fleet_filter([a]) == (Matcher("instance", "=", "a.b:9100"),)
    assert fleet_filter([a, parse_matchers('name="x"')]) == ()  # nothing shared: no filter
    index = Index({"A": a, "B": b, "N": parse_matchers('name="x"')}, "instance")
    assert index.owners({"instance": "a.b:9100", "job": "node"}) == ["A"]
    assert index.owners({"instance": "a.b:9100", "job": "other"}) == []
    assert index.owners({"instance": "q", "name": "x"}) == ["N"]


@pytest.mark.parametrize(
    ("instance", "host"),
    [
        ("10.0.0.7:9100", "10.0.0.7"),
        ("web-1.example:9100", "web-1.example"),
        ("[::1]:9100", "::1"),
        ("web-1", "web-1"),
        ("fe80::1", "fe80::1"),
    ],
)
def test_host_of_instance(instance: str, host: str) -> None:
    assert host_of(instance) == host
