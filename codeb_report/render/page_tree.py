"""The report's page as an element tree, read by expat instead of WeasyPrint's parser.

WeasyPrint reads HTML with tinyhtml5, an HTML5 parser written in Python: 20 ms for the
example's 28 KB page, 150 ms for a 100-server fleet's 210 KB. codeb-report's pages are
also well-formed XML once their void elements (``<br>``, ``<col>``, ``<meta>``) are
closed, and expat, in C, reads them in a millisecond. The tree must be the one
tinyhtml5 builds, so anything where HTML parsing differs from XML's is refused (None:
WeasyPrint then parses the page itself): named entities XML lacks, ``&`` in a style
sheet, tabs or newlines in attribute values, namespaced elements (SVG), a ``<tr>``
straight in a ``<table>``, a block inside a ``<p>``. What HTML parsing does to every
page is done here too: the whitespace before ``<head>`` is dropped, the whitespace
after ``</body>`` joins the body's end, and a newline right after ``<pre>`` is dropped.
tests/test_page_tree.py checks the trees against tinyhtml5's on every kind of report.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

_DOCTYPE = "<!DOCTYPE html>"
_VOID = re.compile(
    r"<(area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)\b([^<>]*?)\s*/?>"
)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)
# A tab, CR or newline inside a double-quoted attribute value (linear: each scan stops
# at the value's closing quote).
_SPACED_ATTRIBUTE = re.compile(r"=\s*\"[^\"\t\n\r]*[\t\n\r]")
# Read differently by HTML and XML, and never in codeb-report's pages: comments, CDATA
# and processing instructions; a line break in a single-quoted attribute value (XML folds
# it; unquoted values are not XML at all); character references 128-159 (HTML maps them
# to Windows-1252: &#128; is the euro sign).
_NOT_XML_ALIKE = re.compile(
    r"<!(?!DOCTYPE html>)|<\?|<[a-zA-Z][^<>]*=\s*'[^'<>]*[\t\n\r]"
    r"|&#(?:1[2-5][0-9]|x0*[89][0-9a-fA-F]);",
    re.I,
)
# Raw text or special parsing in HTML, never in codeb-report's pages.
_RAW = frozenset(
    [
        "script",
        "textarea",
        "listing",
        "xmp",
        "plaintext",
        "noscript",
        "iframe",
        "noembed",
        "noframes",
        "template",
    ]
)
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "div",
        "dl",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
    ]
)


def page_tree(html: str) -> Element | None:
    """The page's ``<html>`` element as tinyhtml5 would build it, or None when only an
    HTML parser reads the page right."""
    if not html.startswith(_DOCTYPE) or _SPACED_ATTRIBUTE.search(html):
        return None
    if _NOT_XML_ALIKE.search(html):
        return None
    if any("&" in sheet or "<" in sheet for sheet in _STYLE.findall(html)):
        return None  # raw text in HTML, markup in XML
    try:
        root = ElementTree.fromstring(_VOID.sub(r"<\1\2 />", html[len(_DOCTYPE) :]))
    except ElementTree.ParseError:
        return None
    if root.tag != "html" or [child.tag for child in root] != ["head", "body"]:
        return None
    after = html[html.rfind("</html>") + len("</html>") :]  # expat leaves it out
    if not _as_html_parses_it(root, after):
        return None
    return root


def _as_html_parses_it(root: Element, after: str) -> bool:
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str) or "{" in tag or ":" in tag or tag in _RAW:
            return False
        children = {child.tag for child in element}
        if (tag == "table" and "tr" in children) or (tag == "p" and children & _BLOCKS):
            return False
        if tag == "pre" and element.text and element.text.startswith("\n"):
            element.text = element.text[1:] or None
    root.text = None
    head, body = root
    end = (body.tail or "") + after  # whitespace after </body> and </html> ends the body
    if end:
        last = body[-1] if len(body) else None
        if last is None:
            body.text = (body.text or "") + end
        else:
            last.tail = (last.tail or "") + end
    body.tail = None
    return head.tail is None or not head.tail.strip()
