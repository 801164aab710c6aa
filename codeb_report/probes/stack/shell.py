"""Shell fragments the stack probes share: picking a container runtime, running inside it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from codeb_report.probes.stack.settings import RuntimeChoice

SECTION = "== "


def select_runtime(choice: RuntimeChoice) -> str:
    """Set ``$_rt`` to the runtime to exec into: the configured one, or podman before docker."""
    if choice != "auto":
        return f"_rt={choice}\n"
    return (
        "if command -v podman >/dev/null 2>&1; then _rt=podman; "
        "elif command -v docker >/dev/null 2>&1; then _rt=docker; "
        "else _rt=; echo 'no container runtime: neither podman nor docker is installed' >&2; fi\n"
    )


def run_in(container: str | None, argv: str, env: Mapping[str, str] | None = None) -> str:
    """``argv`` on the host, or inside ``container`` via ``$_rt exec``.

    ``env`` maps variable names to shell expressions (``"$CB_PASSWORD"``). Their values
    are set in the environment of the command, and handed to ``exec`` by name only
    (``-e NAME``), so no value appears on any command line.
    """
    env = env or {}
    assign = "".join(f"{name}={value} " for name, value in env.items())
    if container is None:
        return f"{assign}{argv}"
    passes = "".join(f"-e {name} " for name in env)
    return f'{assign}"$_rt" exec {passes}{shlex.quote(container)} {argv}'


def section(name: str) -> str:
    return f"printf '{SECTION}{name}\\n'"


def split_sections(output: str) -> dict[str, str]:
    """Map each ``== name`` section of an output to its text (stripped of trailing space)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith(SECTION):
            current = sections.setdefault(line[len(SECTION) :].strip(), [])
        elif current is not None:
            current.append(line.rstrip("\r"))
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}
