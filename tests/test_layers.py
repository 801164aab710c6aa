"""Which package may import which: the arrows between layers run one way.

History hands the renderer a view (``HistoryReport``, ``DiffView``), as analysis hands it
an ``Analysis``; neither analysis nor history may import the renderer, so a change in the
templates' code never reaches what decides the figures.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "codeb_report"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("lower", ["analysis", "history"])
def test_lower_layers_never_import_the_renderer(lower: str) -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            m for m in imported_modules(path) if m.split(".")[:2] == ["codeb_report", "render"]
        )
        for path in sorted((PACKAGE / lower).rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from codeb_report.render import render_report\n")
    assert "codeb_report.render" in imported_modules(module)
