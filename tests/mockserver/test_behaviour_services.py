"""Behaviours see the server only through ``Services`` (the store, the clock, self-check, skeletons, job timing, how
a stream goes out): mypy holds them to its fields; this keeps them from importing their way around it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import Exchange
from apitwin.mockserver.behaviours.services import Services

BEHAVIOURS = Path(__file__).resolve().parents[2] / "mockserver" / "behaviours"


@pytest.mark.parametrize("path", sorted(BEHAVIOURS.glob("*.py")), ids=lambda path: path.name)
def test_no_behaviour_imports_the_server(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("apitwin.mockserver.app")
    }
    reached = sorted(
        node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in ("server", "options")
    )
    assert (imported, reached) == (set(), [])


def test_an_exchange_carries_services_not_the_server() -> None:
    assert "server" not in Exchange.__dataclass_fields__
    server = create_app(["lmdeploy"], state="memory", clock=lambda: 42.0).server
    services = server.services
    assert isinstance(services, Services)
    assert services.store is server.store and services.skeletons is server.skeletons
    assert services.streams is server.streams
    assert services.clock() == 42.0
    assert not hasattr(services, "options") and not hasattr(services, "__dict__")
