"""The import graph between apitwin's packages has no cycle: each package imports only those below it.

    contracts ──► mockserver ──► recordings ──► specs
        └────────────────────────────┘
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ALLOWED = {
    "specs": {"specs"},
    "recordings": {"recordings", "specs"},
    "mockserver": {"mockserver", "recordings", "specs"},
    "contracts": {"contracts", "mockserver", "recordings", "specs"},
}


def _imported_packages(path: Path) -> dict[str, int]:
    """apitwin sub-packages ``path`` imports, each with the first line that does."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "apitwin" and len(parts) > 1 and parts[1] in ALLOWED:
                found.setdefault(parts[1], node.lineno)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(REPO)}:{line} imports apitwin.{target}"
        for path in sorted((REPO / package).rglob("*.py"))
        for target, line in _imported_packages(path).items()
        if target not in ALLOWED[package]
    ]
    assert wrong == []
