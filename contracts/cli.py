"""The ``apitwin`` command. Each package contributes its own sub-commands.

Sub-commands are imported only when they run: ``apitwin --help`` and ``apitwin --version`` would
otherwise pay for schemathesis, the validators and the mock server (about 2 s) to print a page.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("apitwin.mockserver.cli:serve_command", "Serve APIs offline from their specs (the mock server)."),
    "fuzz": ("apitwin.contracts.fuzz.cli:fuzz_group", "Fuzz a deployed gateway (or the mock) against a spec."),
    "check-traffic": (
        "apitwin.contracts.traffic.cli:check_traffic_command",
        "Check recorded exchanges (HAR or JSON lines) against a spec.",
    ),
    "proxy": (
        "apitwin.contracts.proxy.cli:proxy_command",
        "Validating proxy in front of a gateway: check live traffic against a spec, record it.",
    ),
    # the specs group with `specs drift`, which contracts add to it (specs never import contracts)
    "specs": ("apitwin.contracts.traffic.drift_cli:specs_group", "Build, lint, diff and inspect the API specs."),
}
"""name → (``module:attribute`` of the click command, its one-line help for ``apitwin --help``)."""

EXAMPLES = """
\b
Examples:
  apitwin serve                                   every shipped API on 127.0.0.1:4010
  apitwin serve aimlapi --port 8080 --seed 7      one API at the root
  apitwin fuzz lmdeploy --base-url http://127.0.0.1:4010/lmdeploy --max-requests 100
  apitwin specs list                              the APIs apitwin ships
  apitwin specs models aimlapi                    the model ids an API accepts
"""


class LazyGroup(click.Group):
    """A group whose sub-commands are imported when one is called (or its own ``--help`` is asked for)."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module_name, attribute = self.lazy[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the one-line helps above, without importing any command."""
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx) if name in self.lazy]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    epilog=EXAMPLES,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="apitwin", prog_name="apitwin", message="%(prog)s %(version)s")
@click.option(
    "--allow-external-refs",
    is_flag=True,
    help="Follow $refs of a spec file into files outside its directory (URLs are never fetched).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Normalise spec files anew instead of reading them back from the cache "
    "($APITWIN_CACHE_DIR, else ~/.cache/apitwin).",
)
def main(allow_external_refs: bool, no_cache: bool) -> None:
    """Mock servers and contract tests from the published API specs of LLM gateways."""
    if allow_external_refs:  # read where the spec is loaded, in this process and in serve's workers
        os.environ["APITWIN_ALLOW_EXTERNAL_REFS"] = "1"
    if no_cache:  # the same: serve's workers load the spec again
        os.environ["APITWIN_NO_CACHE"] = "1"
