"""The HTML page: complete, styled for print, and no collected text ever becomes markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_render_sample import analysis_of, fleet, hostile_fleet

from codeb_report.errors import Exit, OutputError
from codeb_report.render import render_report
from codeb_report.render.base import Report
from codeb_report.render.html import HtmlFormat, markdown_to_html

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4",
    "p", "strong", "br", "hr", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol",
    "li", "code", "pre",
}  # fmt: skip


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def html_of(snapshot, analysis) -> str:
    return HtmlFormat().render(Report(snapshot, analysis)).decode("utf-8")


def test_page_is_complete_with_print_css() -> None:
    snapshot = fleet()
    page = html_of(snapshot, analysis_of(snapshot))
    assert page.startswith('<!DOCTYPE html>\n<html lang="ko">')
    assert page.rstrip().endswith("</html>")
    assert "<title>CodeB 서버 인프라 현황 리포트 (2025-12-20)</title>" in page
    assert re.search(r"@page\s*\{\s*size: A4", page)
    assert 'counter(page) " / " counter(pages)' in page
    assert '@top-right { content: "2025-12-20"; }' in page
    assert page.count("<table") == page.count("<thead>") >= 10


def test_wording_comes_from_the_markdown_template_only() -> None:
    snapshot = fleet()
    report = Report(snapshot, analysis_of(snapshot))
    page = HtmlFormat().render(report).decode("utf-8")
    md_lines = {line.strip("#| ").strip() for line in report.markdown.splitlines()}
    for heading in re.findall(r"<h[1-4]>(.*?)</h[1-4]>", page):
        assert heading in md_lines


def test_hostile_text_is_printed_never_parsed() -> None:
    snapshot, analysis = hostile_fleet()
    page = html_of(snapshot, analysis)
    tags = parse(page)
    assert {t for t, _ in tags.tags} <= ALLOWED_TAGS
    attributes = {
        (t, tuple(a)) for t, attrs in tags.tags for a in attrs if t not in ("html", "meta")
    }
    assert attributes <= {
        ("main", ("class", "report")),
        ("table", ("class", "keep")),
        ("td", ("class", "long")),  # a cell holding a long word (render/html.py)
        ("code", ("class", "language-bash")),
        ("code", ("class", "language-toml")),
    }
    text = "".join(tags.text)
    for value in ("a|b", "<script>alert(1)</script>", "**x**", "tick`name", "[click](http"):
        assert value in text, value
    assert "<script" not in page.replace("&lt;script", "")


def test_short_tables_are_kept_whole_long_ones_may_split() -> None:
    from codeb_report.render.html import SMALL_TABLE_ROWS

    def table(rows: int) -> str:
        body = "".join(f"| r{i} | x |\n" for i in range(rows))
        return markdown_to_html(f"| a | b |\n|---|---|\n{body}")

    assert table(SMALL_TABLE_ROWS).startswith('<table class="keep">')
    assert table(SMALL_TABLE_ROWS + 1).startswith("<table>")


def test_raw_html_in_the_markdown_is_escaped_by_the_converter_too() -> None:
    html = markdown_to_html("<div onclick=x>block</div>\n\npara <b>b</b> <img src=x>\n")
    assert "<div" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;div onclick=x&gt;block&lt;/div&gt;" in html


def test_render_report_writes_the_asked_formats_atomically(tmp_path: Path) -> None:
    snapshot = fleet()
    paths = render_report(snapshot, analysis_of(snapshot), ["md", "html", "md"], tmp_path / "out")
    assert paths == [tmp_path / "out" / "report.md", tmp_path / "out" / "report.html"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.md"]
    assert paths[0].read_text(encoding="utf-8").startswith("# CodeB 서버 인프라 현황 리포트")


def test_unknown_format_and_unwritable_folder_are_one_line_errors(tmp_path: Path) -> None:
    snapshot = fleet()
    with pytest.raises(OutputError, match="unknown report format: docx"):
        render_report(snapshot, analysis_of(snapshot), ["docx"], tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as err:
        render_report(snapshot, analysis_of(snapshot), ["md"], blocker / "out")
    assert err.value.exit_code == Exit.OUTPUT
    assert f"{blocker / 'out'}: cannot create the folder" in err.value.format_message()
    assert "\n" not in err.value.format_message()


def test_nightly_history_sections_follow_the_conclusion(tmp_path: Path) -> None:
    import history_gen

    from codeb_report.analysis import analyse
    from codeb_report.nightly.stages import NightlyHistory

    history_gen.write_history(tmp_path / "out", days=4, servers=2)
    snapshot = history_gen.snapshot_for(4, servers=2)
    stages = NightlyHistory(tmp_path / "out", analyse)
    analysis = stages.analyse(snapshot)
    report = Report(snapshot, analysis, history=stages.history)
    headings = re.findall(r"^## (.+)$", report.markdown, re.M)
    assert headings[-3:] == ["6. 결론", "7. 전일 대비 변경 사항", "8. 리소스 추세"]
    page = HtmlFormat().render(report).decode("utf-8")
    assert "<h2>6. 결론</h2>" in page and "<h2>7. 전일 대비 변경 사항</h2>" in page
    assert page.count("<svg") >= 2 and page.index("<svg") > page.index("8. 리소스 추세")
    assert Report(snapshot, analysis).charts_html == ""
