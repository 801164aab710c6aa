"""paramiko, imported without invoke unless an ssh_config needs it.

paramiko imports invoke (and asyncio with it) at start-up only to run the commands of
ssh_config's ``Match exec``. That is about 40 ms of every collection's start-up, spent
before the first connection, while the machine's other CPU waits. ``load`` imports
paramiko without it; ``allow_match_exec`` hands it back when a configuration has a
``Match exec`` line, so such a line works as it does for ssh.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType

_MATCH_EXEC = re.compile(r"^\s*match\b.*\bexec\b", re.IGNORECASE | re.MULTILINE)


def load() -> ModuleType:
    """``paramiko``; on its first import, paramiko.config is left without invoke."""
    loaded = sys.modules.get("paramiko")
    if loaded is not None:
        return loaded
    blocked = "invoke" not in sys.modules
    if blocked:
        sys.modules["invoke"] = None  # type: ignore[assignment]  # an ImportError for paramiko
    try:
        import paramiko
    finally:
        if blocked and sys.modules.get("invoke", 0) is None:
            del sys.modules["invoke"]
    return paramiko


def uses_match_exec(text: str) -> bool:
    return _MATCH_EXEC.search(text) is not None


def allow_match_exec() -> None:
    """Give paramiko.config the invoke it runs ``Match exec`` commands with."""
    import paramiko.config

    if paramiko.config.invoke is None:
        import invoke

        paramiko.config.invoke = invoke
