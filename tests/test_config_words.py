"""A server's host, user and jump are single words handed to the network and to ssh: a
newline, space or control character in one is refused by check-config, naming the field,
instead of reaching a DNS lookup or a log line."""

from __future__ import annotations

import pytest

from codeb_report.config import parse_config
from codeb_report.errors import ConfigError


def server(**fields: str) -> str:
    lines = [f"{key} = {value!r}".replace("'", '"') for key, value in fields.items()]
    return "[[servers]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("field", ["host", "user", "jump"])
@pytest.mark.parametrize("value", ["127.0.0.1\\nevil", "db 1", "a\\u001b[2J", "x\\ty", "n\\u202e1"])
def test_a_host_user_or_jump_with_spaces_or_controls_is_refused(field: str, value: str) -> None:
    text = server(name="a", host="127.0.0.1") if field != "host" else server(name="a")
    text += f'{field} = "{value}"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "f.toml")
    message = caught.value.format_message()
    assert f"f.toml: servers[a].{field}: " in message
    assert "one word" in message
    assert "\n" not in message and "\x1b" not in message


@pytest.mark.parametrize(
    ("host", "user", "jump"),
    [
        ("db1.internal", "root", "ops@bastion"),
        ("2001:db8::3", "deploy", "ops@bastion:2222,ops@10.0.0.9"),
    ],
)
def test_ordinary_hosts_users_and_jumps_pass(host: str, user: str, jump: str) -> None:
    config = parse_config(server(name="a", host=host, user=user, jump=jump), "f.toml")
    assert (config.servers[0].host, config.servers[0].user, config.servers[0].jump) == (
        host,
        user,
        jump,
    )
