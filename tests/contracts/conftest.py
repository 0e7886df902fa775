from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from apitwin.contracts.cli import main
from tests.e2e.conftest import API_KEY, serving


@pytest.fixture(scope="session")
def mock_url() -> Iterator[Callable[[str], str]]:
    """``mock_url(api)``: the base URL of ``apitwin serve API`` on loopback, started once per session."""
    with contextlib.ExitStack() as stack:
        started: dict[str, str] = {}

        def get(api: str) -> str:
            if api not in started:
                started[api] = stack.enter_context(serving(api))
            return started[api]

        yield get


def fuzz(*args: str) -> Result:
    """``apitwin fuzz ARGS`` in-process (the gateway it talks to is a real server)."""
    credentials = [] if args[0] == "merge-reports" else ["--api-key", API_KEY]
    environment = {"COLUMNS": "240", "APITWIN_POLL_INTERVAL": "0"}  # the mock's jobs move per poll, not per second
    return CliRunner().invoke(main, ["fuzz", *args, *credentials], catch_exceptions=False, env=environment)
