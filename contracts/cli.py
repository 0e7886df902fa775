"""The ``apitwin`` command. Each package contributes its own sub-commands."""

from __future__ import annotations

import click

from mockserver.cli import serve_command
from specs.cli import specs_group


@click.group()
def main() -> None:
    """Mock servers and contract tests from the published API specs of LLM gateways."""


main.add_command(specs_group)
main.add_command(serve_command)
