"""The ``apitwin`` command. Each package contributes its own sub-commands."""

from __future__ import annotations

import click

from apitwin.contracts.fuzz.cli import fuzz_group
from apitwin.contracts.traffic.cli import check_traffic_command
from apitwin.mockserver.cli import serve_command
from apitwin.specs.cli import specs_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="apitwin", message="%(prog)s %(version)s")
def main() -> None:
    """Mock servers and contract tests from the published API specs of LLM gateways."""


main.add_command(specs_group)
main.add_command(serve_command)
main.add_command(fuzz_group)
main.add_command(check_traffic_command)
