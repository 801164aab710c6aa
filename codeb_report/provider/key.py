"""Finding the Vultr API key, in a documented order, without ever writing it anywhere.

1. the environment variable ``VULTR_API_KEY`` (as vultr-cli reads it);
2. the variable named by ``[vultr] api_key_env``;
3. the first line of ``[vultr] api_key_file`` (a warning when group or others can read it);
4. vultr-cli's own configuration, ``api-key: KEY`` in ``$XDG_CONFIG_HOME/vultr-cli.yaml``,
   ``~/.config/vultr-cli.yaml`` or ``~/.vultr-cli.yaml`` (the first that exists).

The key found is registered with the log's redaction filter at once; ``ApiKey`` never
shows it in ``repr``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codeb_report.inputs import InputProblem, read_text, warn_if_shared
from codeb_report.logs import get_logger, register_secret
from codeb_report.provider.settings import VultrSettings

MAX_FILE = 64 * 1024  # a key file or vultr-cli.yaml is a few bytes
# Vultr keys are 36 upper-case letters and digits; anything printable without spaces is
# accepted (a header value), so a future format still works.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{8,256}$")
YAML_LINE = re.compile(r"""^api-key:\s*(?P<q>["']?)(?P<key>[^"'#\s]*)(?P=q)\s*(?:#.*)?$""")

NO_KEY = (
    "no API key: set VULTR_API_KEY, [vultr] api_key_env or api_key_file, "
    "or api-key in ~/.vultr-cli.yaml"
)

log = get_logger("vultr")


@dataclass(frozen=True)
class ApiKey:
    value: str = field(repr=False)
    source: str  # where it was found, for the report and the log


class KeyProblem(Exception):
    """A configured key source that cannot be used; the message never holds a key."""


def find_key(
    settings: VultrSettings,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> ApiKey | None:
    """The key from the first source that has one; None when no source has any.

    A source that is configured but broken (a missing ``api_key_file``, a malformed key)
    raises ``KeyProblem`` instead of silently falling through to the next one.
    """
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    found = (
        _from_env(environ, "VULTR_API_KEY")
        or (_from_env(environ, settings.api_key_env) if settings.api_key_env else None)
        or (_from_file(Path(settings.api_key_file).expanduser()) if settings.api_key_file else None)
        or _from_vultr_cli(environ, home)
    )
    if found is not None:
        register_secret(found.value)
    return found


def vultr_cli_files(environ: Mapping[str, str], home: Path) -> list[Path]:
    """Where vultr-cli v3 looks for its configuration, in its order."""
    xdg = environ.get("XDG_CONFIG_HOME")
    places = [Path(xdg) / "vultr-cli.yaml"] if xdg else []
    return [*places, home / ".config" / "vultr-cli.yaml", home / ".vultr-cli.yaml"]


def _checked(value: str, source: str) -> ApiKey:
    value = value.strip()
    if not KEY_PATTERN.match(value):
        register_secret(value)
        raise KeyProblem(f"{source}: not a valid API key (8-256 printable characters)")
    return ApiKey(value, source)


def _from_env(environ: Mapping[str, str], name: str) -> ApiKey | None:
    value = environ.get(name, "")
    return _checked(value, name) if value.strip() else None


def _read_small(path: Path) -> str:
    """The text of a key file: a regular file (a FIFO would hang the run), small, UTF-8."""
    try:
        return read_text(path, MAX_FILE)
    except FileNotFoundError:
        raise KeyProblem(f"{path}: cannot read: No such file or directory") from None
    except InputProblem as exc:
        raise KeyProblem(f"{path}: {exc}") from None


def _from_file(path: Path) -> ApiKey:
    text = _read_small(path)
    warn_if_shared(path, "API key")
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise KeyProblem(f"{path}: empty (the first line is the key)")
    return _checked(first, f"api_key_file {path}")


def _from_vultr_cli(environ: Mapping[str, str], home: Path) -> ApiKey | None:
    """The first existing file decides, as for vultr-cli; an empty one (vultr-cli v3.8
    creates ``~/.vultr-cli.yaml`` empty) means no key."""
    for path in vultr_cli_files(environ, home):
        if not path.is_file():
            continue
        for line in _read_small(path).splitlines():
            match = YAML_LINE.match(line.strip())
            if match and match.group("key"):
                warn_if_shared(path, "API key")
                return _checked(match.group("key"), str(path))
        return None
    return None


def key_problem(
    settings: VultrSettings, environ: Mapping[str, str] | None = None, home: Path | None = None
) -> str | None:
    """Why no key can be used now (for ``check-config``), or None."""
    try:
        found = find_key(settings, environ, home)
    except KeyProblem as exc:
        return f"vultr: {exc}"
    return None if found is not None else f"vultr: {NO_KEY}"
