"""Compiled templates kept between runs, so that each command does not compile them again.

Jinja turns every template into Python code the first time it is used: about 0.07 s of
each command that writes a report, the same work every night. The code is kept in the
user's cache folder (``$XDG_CACHE_HOME/codeb-report/templates``, else
``~/.cache/codeb-report/templates``) under a key of the template's name and everything
else its code depends on (``compile_settings``), and is used only while the template's
source is unchanged (its checksum is stored beside the code).

Loading cached code runs it, so the folder must be this user's alone: it is created 0700
and used only when it is a real folder (not a link) owned by this user that nobody else
may enter. Cache files are written under a temporary name and renamed into place, 0600,
and read without following links and only when they are this user's. When any of that
fails, templates are compiled as before: the cache never costs a report.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket, BytecodeCache

from codeb_report.atomic import make_private_folders

# The report's compiled templates take about 100 KB each; a larger file is not ours.
MAX_CODE_BYTES = 4 * 2**20


def cache_folder() -> Path | None:
    """The folder compiled templates go to, or None when there is no safe one."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    try:
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    except (KeyError, RuntimeError):  # no home folder to speak of
        return None
    folder = base / "codeb-report" / "templates"
    try:
        make_private_folders(folder)
        info = os.lstat(folder)
    except OSError:
        return None
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or stat.S_IMODE(info.st_mode) & 0o077
    ):
        return None
    return folder


def compile_settings(environment: jinja2.Environment) -> str:
    """What else the compiled code depends on: Jinja and Python, the environment's syntax
    and options, and how each filter and test is called (a filter that starts taking the
    context is called differently by the compiled code)."""

    def calls(functions: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted(
            (name, str(getattr(f, "jinja_pass_arg", ""))) for name, f in functions.items()
        )

    def named(value: object) -> str:
        return getattr(value, "__qualname__", repr(value))

    return repr((
        jinja2.__version__, sys.implementation.cache_tag,
        environment.block_start_string, environment.block_end_string,
        environment.variable_start_string, environment.variable_end_string,
        environment.comment_start_string, environment.comment_end_string,
        environment.line_statement_prefix, environment.line_comment_prefix,
        environment.trim_blocks, environment.lstrip_blocks, environment.newline_sequence,
        environment.keep_trailing_newline, environment.optimized, environment.is_async,
        named(environment.autoescape), named(environment.finalize),
        sorted(environment.extensions), calls(environment.filters), calls(environment.tests),
    ))  # fmt: skip


class TemplateCache(BytecodeCache):
    """Jinja's bytecode cache, one file per template and compile settings, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        key = f"{compile_settings(environment)}|{name}|{filename}".encode()
        checksum = self.get_source_checksum(source)
        bucket = Bucket(environment, hashlib.sha256(key).hexdigest(), checksum)
        self.load_bytecode(bucket)
        return bucket

    def _path(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.code"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            fd = os.open(self._path(bucket), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_uid != os.getuid()
                or info.st_size > MAX_CODE_BYTES
            ):
                return
            data = file.read(MAX_CODE_BYTES + 1)
        checksum, _, code = data.partition(b"\n")
        if checksum != bucket.checksum.encode():
            return  # the template changed since: compiled again
        try:
            bucket.code = marshal.loads(code)
        except (EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        data = bucket.checksum.encode() + b"\n" + marshal.dumps(bucket.code)
        try:
            fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.folder)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, self._path(bucket))
        except OSError:
            Path(temporary).unlink(missing_ok=True)


def template_cache() -> TemplateCache | None:
    folder = cache_folder()
    return TemplateCache(folder) if folder is not None else None
