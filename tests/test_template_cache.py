"""Compiled templates kept between runs: used while the template is unchanged, and only
from a folder that is this user's alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2
import pytest

from codeb_report.render.template_cache import cache_folder, compile_settings, template_cache


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source."""
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *a, **kw):
        names.append(name or "")
        return compile_source(self, source, name, *a, **kw)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A template folder with a.j2, the cache under tmp_path/cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.j2").write_text("{{ who }}")
    return folder


def render(templates: Path, name: str = "a.j2") -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates), bytecode_cache=template_cache()
    )
    return env.get_template(name).render(who="n1")


def test_a_template_is_compiled_once_until_it_changes(
    tmp_path: Path, templates: Path, compiled: list[str]
) -> None:
    (templates / "a.j2").write_text("안녕 {{ who }}")
    assert render(templates) == "안녕 n1"
    assert render(templates) == "안녕 n1"
    assert compiled == ["a.j2"]  # the second run read the compiled code
    (templates / "a.j2").write_text("잘 가 {{ who }}")
    assert render(templates) == "잘 가 n1"
    assert compiled == ["a.j2", "a.j2"]
    folder = tmp_path / "cache" / "codeb-report" / "templates"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600


@pytest.mark.parametrize("planted", ["open folder", "linked folder"])
def test_a_folder_others_could_write_is_not_used(
    tmp_path: Path, templates: Path, compiled: list[str], planted: str
) -> None:
    folder = tmp_path / "cache" / "codeb-report" / "templates"
    folder.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    if planted == "open folder":
        folder.mkdir()
        folder.chmod(0o777)
        elsewhere = folder
    else:
        elsewhere.mkdir(mode=0o700)
        folder.symlink_to(elsewhere)
    assert cache_folder() is None
    assert render(templates) == render(templates) == "n1"
    assert compiled == ["a.j2", "a.j2"] and list(elsewhere.iterdir()) == []


def test_a_linked_cache_file_is_not_followed(
    tmp_path: Path, templates: Path, compiled: list[str]
) -> None:
    render(templates)
    [cached] = (tmp_path / "cache" / "codeb-report" / "templates").iterdir()
    target = tmp_path / "target.code"
    os.replace(cached, target)
    cached.symlink_to(target)  # valid compiled code, but behind a link
    assert render(templates) == "n1"
    assert compiled == ["a.j2", "a.j2"]  # not read through the link
    assert not cached.is_symlink() and target.read_bytes() != b""  # replaced, not written through


def test_code_compiled_under_other_settings_is_not_reused() -> None:
    plain = jinja2.Environment()
    plain.filters["md"] = str
    called_with_context = jinja2.Environment()
    called_with_context.filters["md"] = jinja2.pass_context(lambda context, value: value)
    trimmed = jinja2.Environment(trim_blocks=True)
    trimmed.filters["md"] = str
    settings = {compile_settings(e) for e in (plain, called_with_context, trimmed)}
    assert len(settings) == 3
    again = jinja2.Environment()
    again.filters["md"] = str
    assert compile_settings(again) == compile_settings(plain)
