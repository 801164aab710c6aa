"""A machine without a Hangul or emoji font: render and run say so and never write (or
mail) a PDF of boxes. fontconfig is pointed at a configuration that holds only some of
the installed font folders (FONTCONFIG_FILE), as on a fresh Debian with only DejaVu."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers.sshd import SshdFactory, fleet_config

EXAMPLE = Path(__file__).parent.parent / "examples" / "fleet-snapshot.json"
FONTS = Path("/usr/share/fonts/truetype")
NANUM = "fonts-nanum"
EMOJI = "fonts-noto-color-emoji"


def fontconfig(tmp_path: Path, *folders: str) -> dict[str, str]:
    """The environment of a process whose fontconfig knows only ``folders``."""
    conf = tmp_path / "fonts.conf"
    dirs = "".join(f"<dir>{FONTS / f}</dir>" for f in folders)
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig>{dirs}<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf), "HOME": str(tmp_path)}


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from codeb_report.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("folders", "named", "not_named"),
    [(("dejavu",), [NANUM, EMOJI], []), (("dejavu", "nanum"), [EMOJI], [NANUM])],
)
def test_render_without_the_fonts_writes_no_pdf_and_names_the_packages(
    tmp_path: Path, folders: tuple[str, ...], named: list[str], not_named: list[str]
) -> None:
    out = tmp_path / "report"
    done = cli("render", str(EXAMPLE), "--out", str(out), env=fontconfig(tmp_path, *folders))
    assert done.returncode == 8
    [line] = done.stderr.splitlines()
    assert line.startswith(f"Error: {out / 'report.pdf'}: not written: the PDF would print boxes")
    assert all(package in line for package in named)
    assert not any(package in line for package in not_named)
    written = {p.name for p in out.iterdir()}
    assert {"report.html", "report.md"} <= written and "report.pdf" not in written


def test_render_with_the_fonts_writes_the_pdf(tmp_path: Path) -> None:
    out = tmp_path / "report"
    env = fontconfig(tmp_path, "dejavu", "nanum", "noto")
    done = cli("render", str(EXAMPLE), "--format", "pdf", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert (out / "report.pdf").stat().st_size > 10_000


def test_diff_pdf_without_a_hangul_font_is_trouble(tmp_path: Path) -> None:
    target = tmp_path / "diff.pdf"
    args = ("diff", str(EXAMPLE), str(EXAMPLE), "--format", "pdf", "-o", str(target))
    done = cli(*args, env=fontconfig(tmp_path, "dejavu"))
    assert done.returncode == 2 and NANUM in done.stderr
    assert not target.exists()


def test_a_nightly_run_without_the_fonts_publishes_no_pdf_and_mails_nothing(
    sshd_factory: SshdFactory, tmp_path: Path
) -> None:
    sshd = sshd_factory.start("fonts-run")
    mail = '[mail]\nhost = "127.0.0.1"\nsender = "r@codeb.test"\nto = ["ops@codeb.test"]\n'
    config = fleet_config(sshd_factory, {"n1": sshd}, tmp_path / "fleet.toml", tail=mail)
    root = tmp_path / "output"
    env = fontconfig(tmp_path, "dejavu")
    argv = ["run", "--config", str(config), "--output-root", str(root), "--email", "--dry-run"]
    done = cli(*argv, env=env)
    assert done.returncode == 8, done.stderr
    day = root / "latest"
    assert sorted(p.name for p in day.iterdir()) == [
        "report.html",
        "report.md",
        "run.log",
        "snapshot.json",
    ]  # no report.pdf, no report.eml
    log = (day / "run.log").read_text()
    for text in (done.stderr, log):
        assert f"ERROR - {day.resolve() / 'report.pdf'}: not written: the PDF would" in text
        assert f"install the Debian package {NANUM}" in text
        assert "ERROR - mail: not sent: there is no readable PDF to attach" in text
