"""The PDF printed by a process of its own, started ahead of the page (render/printer.py)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_forked import run as in_a_fresh_process
from test_quick_exit import render_with_closed

from codeb_report.render import printer
from codeb_report.render.fonts import MissingFonts
from codeb_report.render.printer import Printer, PrinterFailed, print_pdf, printing_ahead
from codeb_report.render.template_dir import templates_dir

PAGE = (
    '<html><head><link rel="stylesheet" href="report.css"></head><body>'
    "<h1>CodeB 서버 인프라 현황 리포트</h1><p>✅ 정상 ⚠️ 주의 ❌ 실패</p></body></html>"
)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_first_pdf_is_printed_by_the_printer_started_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Printer] = []
    start = Printer.start.__func__  # type: ignore[attr-defined]

    def recording(cls: type[Printer], root: Path) -> Printer | None:
        started.append(made := start(cls, root))
        return made

    monkeypatch.setattr(Printer, "start", classmethod(recording))
    with printing_ahead():
        first = print_pdf(PAGE)
        second = print_pdf(PAGE)  # in this process: the printer prints one page
    [ahead] = started
    assert ahead.used and ahead._process.returncode == 0
    assert "CodeB 서버 인프라 현황 리포트" in text_of(first, tmp_path)
    assert text_of(first, tmp_path) == text_of(second, tmp_path)


def test_an_unused_printer_is_stopped_on_the_way_out() -> None:
    with printing_ahead():
        ahead = printer._ahead.get()
        assert ahead is not None and ahead._process.poll() is None
    assert ahead._process.returncode is not None
    assert printer._ahead.get() is None


def test_a_printer_forked_early_is_stopped_when_no_pdf_is_wanted() -> None:
    said = in_a_fresh_process(
        """
        from codeb_report.render import printer
        printer.start_early()
        [early] = printer._early
        with printer.printing_ahead(wanted=False):
            print(printer._ahead.get())
        print(early._process.returncode, printer._early)
        """
    )
    assert said == ["None", "-9 []"]


def test_a_printer_forked_early_prints_the_pdf(tmp_path: Path) -> None:
    target = tmp_path / "early.pdf"
    said = in_a_fresh_process(
        f"""
        from pathlib import Path
        from codeb_report.render import printer
        printer.start_early()
        [early] = printer._early
        with printer.printing_ahead():
            Path({str(target)!r}).write_bytes(printer.print_pdf({PAGE!r}))
        print(early.used, early._process.returncode)
        """
    )
    assert said == ["True 0"]
    assert "정상" in text_of(target.read_bytes(), tmp_path)


def test_a_printer_that_dies_is_one_line_naming_the_signal() -> None:
    ahead = Printer.start(templates_dir())
    assert ahead is not None
    os.kill(ahead._process.pid, signal.SIGKILL)
    with pytest.raises(PrinterFailed, match=r"^the PDF printer was stopped by signal 9$"):
        ahead.print(PAGE)


def test_a_page_the_printer_cannot_read_is_one_error_line() -> None:
    argv = [sys.executable, "-P", "-m", "codeb_report.render.print_worker", str(templates_dir())]
    done = subprocess.run(argv, input=b"\xff\xfe<p>x</p>", capture_output=True, check=False)
    assert (done.returncode, done.stdout) == (1, b"")
    [line] = done.stderr.decode().splitlines()
    assert line.startswith("error UnicodeDecodeError: ")


def test_the_printer_error_line_becomes_the_exception() -> None:
    # A process speaking the printer's protocol: records and errors on standard error.
    said = "log 30 a warning\\nforged\nerror ValueError: the page \x1b[31mbroke\n"
    script = f"import sys; sys.stdin.read(); sys.stderr.write({said!r}); sys.exit(1)"
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with pytest.raises(PrinterFailed) as failed:
        Printer(process).print(PAGE)
    assert str(failed.value) == "the PDF printer failed: ValueError: the page \\x1b[31mbroke"


def test_weasyprint_warnings_reach_this_process_log(caplog: pytest.LogCaptureFixture) -> None:
    ahead = Printer.start(templates_dir())
    assert ahead is not None
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = ahead.print('<p style="colour: red; width: 10zz">정상</p>')
    assert pdf.startswith(b"%PDF")
    warned = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert any("colour" in message for message in warned), warned
    assert all("\n" not in message and "\x1b" not in message for message in warned)


def test_missing_fonts_are_said_by_the_printer_as_by_this_process(tmp_path: Path) -> None:
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}</cachedir>"
        "</fontconfig>\n"
    )
    code = textwrap.dedent(
        """
        from codeb_report.render.printer import Printer
        from codeb_report.render.template_dir import templates_dir
        Printer.start(templates_dir()).print("<p>x</p>")
        """
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{MissingFonts.__module__}.MissingFonts: the PDF would print boxes")
    assert "fonts-nanum" in last and "fonts-noto-color-emoji" in last


def test_the_printer_never_imports_codeb_report_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "codeb_report"
    planted.mkdir()
    marker = tmp_path / "planted-code-ran"
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    ahead = Printer.start(templates_dir())
    assert ahead is not None
    assert ahead.print(PAGE).startswith(b"%PDF")
    assert not marker.exists()


def test_a_printer_given_no_page_ends_without_output() -> None:
    argv = [sys.executable, "-P", "-m", "codeb_report.render.print_worker", str(templates_dir())]
    done = subprocess.run(argv, input=b"", capture_output=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_a_large_page_is_printed_here_and_the_printer_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(printer, "AHEAD_LIMIT", len(PAGE) - 1)
    with printing_ahead():
        ahead = printer._ahead.get()
        assert ahead is not None
        pdf = print_pdf(PAGE)
        assert ahead._process.returncode is not None  # stopped before printing here
    assert ahead._process.returncode != 0  # killed, it printed nothing
    assert "정상" in text_of(pdf, tmp_path)


def test_a_printer_started_for_render_help_is_gone_when_the_command_ends() -> None:
    code = textwrap.dedent(
        """
        import sys
        from codeb_report.render import printer
        sys.argv[1:] = ["render", "--help"]
        printer.start_early()
        print(printer._early[0]._process.pid, flush=True)
        from codeb_report.entry import main
        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(done.stdout.splitlines()[0])
    assert "Usage: codeb-report render" in done.stdout
    with pytest.raises(ProcessLookupError):  # killed and reaped before the command ended
        os.kill(pid, 0)


def test_a_pdf_the_printer_failed_is_printed_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with printing_ahead():
        ahead = printer._ahead.get()
        assert ahead is not None
        os.kill(ahead._process.pid, signal.SIGKILL)
        with caplog.at_level(logging.WARNING, logger="codeb_report.render.printer"):
            pdf = print_pdf(PAGE)
    assert "정상" in text_of(pdf, tmp_path)
    assert [r.getMessage() for r in caplog.records if r.name == printer.log.name] == [
        "the PDF printer was stopped by signal 9; the PDF is printed in this process instead"
    ]


def test_warnings_of_the_printer_stay_quiet_where_weasyprint_would_be() -> None:
    # A process that never imported WeasyPrint has no handler on its logger: forwarded
    # records must not fall through to Python's last-resort output on stderr.
    code = textwrap.dedent(
        """
        from codeb_report.render.printer import Printer
        from codeb_report.render.template_dir import templates_dir
        pdf = Printer.start(templates_dir()).print('<p style="colr: red">정상</p>')
        print(pdf[:5])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "b'%PDF-'\n", "")


def test_the_printer_and_the_command_with_closed_standard_streams(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = render_with_closed("<&- >&-", "pdf", out)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # no warning: forked and printed
    assert "CodeB 서버 인프라 현황 리포트" in text_of((out / "report.pdf").read_bytes(), tmp_path)
