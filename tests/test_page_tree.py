"""The PDF's page read by expat builds the tree tinyhtml5 builds (render/page_tree.py).

Every kind of page codeb-report prints is caught on its way to WeasyPrint and compared,
element by element (tag, attributes, text, tail), with tinyhtml5's parse of it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import history_gen as gen
import pytest
import tinyhtml5
from fleet_gen import large_fleet
from test_render_sample import analysis_of, fleet, hostile_fleet

from codeb_report.analysis import analyse
from codeb_report.history.diff import diff_snapshots
from codeb_report.nightly.stages import NightlyHistory
from codeb_report.render import render_report, weasy
from codeb_report.render.diff_report import render_diff
from codeb_report.render.page_tree import page_tree
from codeb_report.snapshot import load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet-snapshot.json"


def flat(root: Element) -> list[tuple[int, str, dict[str, str], str | None, str | None]]:
    found: list[tuple[int, str, dict[str, str], str | None, str | None]] = []

    def walk(element: Element, depth: int) -> None:
        found.append((depth, element.tag, dict(element.attrib), element.text, element.tail))
        for child in element:
            walk(child, depth + 1)

    walk(root, 0)
    return found


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """(page, WeasyPrint document) of every PDF printed while the test runs."""
    seen: list[tuple[str, Any]] = []
    make = weasy.html_document

    def recording(weasyprint: Any, html: str, root: Path) -> Any:
        document = make(weasyprint, html, root)
        seen.append((html, document))
        return document

    monkeypatch.setattr(weasy, "html_document", recording)
    return seen


def example(tmp_path: Path) -> None:
    snapshot = load(EXAMPLE)
    render_report(snapshot, analyse(snapshot), ["pdf"], tmp_path)


def hostile(tmp_path: Path) -> None:
    snapshot, analysis = hostile_fleet()
    render_report(snapshot, analysis, ["pdf"], tmp_path)


def thousand_servers(tmp_path: Path) -> None:
    snapshot = large_fleet(1000, trouble=0.05)
    render_report(snapshot, analyse(snapshot), ["pdf"], tmp_path)


def diff(tmp_path: Path) -> None:
    old, new = gen.snapshot_for(3), gen.snapshot_for(4)
    (tmp_path / "diff.pdf").write_bytes(render_diff(diff_snapshots(old, new), "pdf"))


def first_night(tmp_path: Path) -> None:
    root = tmp_path / "output"
    root.mkdir()  # no night before: sections 7 and 8 say so, no trend charts yet
    stages = NightlyHistory(root, analyse)
    tonight = gen.snapshot_for(0)
    stages.render(tonight, stages.analyse(tonight), ["pdf"], tmp_path / "r")


@pytest.mark.parametrize("printing", [example, hostile, thousand_servers, diff, first_night])
def test_expat_reads_every_page_as_tinyhtml5_does(
    printing: Callable[[Path], None], printed: list[tuple[str, Any]], tmp_path: Path
) -> None:
    printing(tmp_path)
    [(html, document)] = printed
    tree = page_tree(html)
    assert tree is not None  # the fast path is taken, not WeasyPrint's own parser
    assert document.etree_element is not None
    parsed = tinyhtml5.parse(html, namespace_html_elements=False)
    assert flat(document.etree_element) == flat(parsed)


def test_a_page_with_trend_charts_is_left_to_weasyprint(
    printed: list[tuple[str, Any]], tmp_path: Path
) -> None:
    root = tmp_path / "output"
    gen.write_history(root, days=2)
    stages = NightlyHistory(root, analyse)
    tonight = gen.snapshot_for(2)
    stages.render(tonight, stages.analyse(tonight), ["pdf"], tmp_path / "r")
    [(html, document)] = printed
    assert "<svg" in html and page_tree(html) is None  # namespaced SVG: parsed as HTML
    assert document.etree_element is not None


PAGE = (
    '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n</head>\n'
    "<body>\n{}\n</body>\n</html>\n"
)


@pytest.mark.parametrize(
    "body",
    [
        "<p>a&nbsp;b</p>",  # a named entity XML does not know
        '<p title="a\nb">x</p>',  # XML folds the newline of an attribute, HTML keeps it
        "<table><tr><td>x</td></tr></table>",  # HTML adds the tbody
        "<p>a<ul><li>b</li></ul></p>",  # HTML closes the paragraph
        "<p>a<br>b",  # not well-formed
        "<script>if (a < b) {}</script>",  # raw text in HTML
        '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
        "<textarea>\nx</textarea>",
        "<p>a<!-- a comment --></p>",  # comments, CDATA and instructions: not in XML's tree
        "<p><![CDATA[x]]></p>",
        "<p><?x y?></p>",
        "<p>&#128;</p>",  # the euro sign in HTML, U+0080 in XML
        "<p title='a\nb'>x</p>",
        '<p title="a\rb">x</p>',
    ],
)
def test_where_html_and_xml_differ_the_page_is_left_to_weasyprint(body: str) -> None:
    assert page_tree(PAGE.format(body)) is None


def test_html_rules_every_page_gets_are_followed() -> None:
    html = PAGE.format("<pre>\nfirst line\n</pre><p>x<br>y</p>")
    tree = page_tree(html)
    assert tree is not None
    assert flat(tree) == flat(tinyhtml5.parse(html, namespace_html_elements=False))
    assert tree.find("body/pre").text == "first line\n"  # the newline after <pre> dropped


def test_style_sheets_with_markup_characters_are_left_to_weasyprint() -> None:
    sheet = "<style>a::after { content: '&amp;' }</style>"
    html = PAGE.format("x").replace("</head>", sheet + "</head>")
    assert page_tree(html) is None


def test_the_fast_path_prints_the_same_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = fleet()
    analysis = analysis_of(snapshot)
    fast = render_report(snapshot, analysis, ["pdf"], tmp_path / "fast")[0].read_bytes()
    monkeypatch.setattr(weasy, "PAGE_TREE_VERSIONS", frozenset())
    slow = render_report(snapshot, analysis, ["pdf"], tmp_path / "slow")[0].read_bytes()
    # the same pages: text and layout as poppler reads them back
    import subprocess

    def boxes(pdf: bytes, name: str) -> str:
        path = tmp_path / name
        path.write_bytes(pdf)
        return subprocess.run(
            ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout

    assert boxes(fast, "fast.pdf") == boxes(slow, "slow.pdf")
