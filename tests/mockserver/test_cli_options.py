"""``apitwin serve`` and ``apitwin proxy`` share their admin-token and journal options (``mockserver.cli_options``):
the same default, the same check."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from apitwin.contracts.cli import main
from apitwin.mockserver.cli_options import JOURNAL_BODY_BYTES
from apitwin.mockserver.journal import DEFAULT_BODY_LIMIT

COMMANDS = {
    "serve": ["serve", "lmdeploy", "--port", "1"],
    "proxy": ["proxy", "lmdeploy", "--upstream", "http://127.0.0.1:1"],
}


def test_the_journal_keeps_what_the_option_says_by_default() -> None:
    assert JOURNAL_BODY_BYTES == DEFAULT_BODY_LIMIT


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_short_admin_token_is_refused_the_same_way(command: str) -> None:
    result = CliRunner().invoke(main, [*COMMANDS[command], "--host", "127.0.0.1", "--admin-token", "short"])
    assert result.exit_code == 2
    assert "--admin-token" in result.output and "16" in result.output


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_both_commands_declare_the_shared_options(command: str) -> None:
    found = main.get_command(click.Context(main), command)
    assert found is not None
    options = {name: param for param in found.params for name in param.opts}
    assert options["--journal-body-bytes"].default == JOURNAL_BODY_BYTES
    assert options["--admin-token"].metavar == "TOKEN|auto"
