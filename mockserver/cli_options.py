"""Options ``apitwin serve`` and ``apitwin proxy`` share: said once, so both read and check them the same way.

Only click is imported here: ``apitwin --help`` loads the commands' modules, not the servers behind them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., Any])

JOURNAL_BODY_BYTES = 64 * 1024
"""What the journal keeps of each body by default (``mockserver.journal.DEFAULT_BODY_LIMIT``)."""


def admin_token_option(guarded: str, holders: str = "") -> Callable[[Command], Command]:
    """``--admin-token TOKEN|auto``: the token ``guarded`` routes ask for (see :func:`checked_admin_token`)."""
    return click.option(
        "--admin-token",
        default=None,
        metavar="TOKEN|auto",
        help=f"Require this token (16+ characters) on {guarded}: Authorization: Bearer TOKEN, or open "
        "/_apitwin/?token=TOKEN in a browser. 'auto' generates one and prints it. Needed when --host is not a "
        f"loopback address{holders}.",
    )


def journal_body_bytes_option(kept_for: str, note: str = "") -> Callable[[Command], Command]:
    """``--journal-body-bytes N``: how much of each body the journal ``kept_for`` a reader keeps."""
    return click.option(
        "--journal-body-bytes",
        default=JOURNAL_BODY_BYTES,
        show_default=True,
        type=click.IntRange(min=0),
        metavar="N",
        help=f"Bytes of each request and response body (and of a stream's events) the journal keeps for {kept_for}; "
        f"longer bodies are cut and marked truncated{note}.",
    )


def checked_admin_token(host: str, token: str | None, admin_key: str | None = None) -> str | None:
    """The token the admin routes will ask for (``auto`` made into one), or a usage error naming the option."""
    from apitwin.mockserver.admin_access import AccessError, admin_token

    try:
        return admin_token(host, token, admin_key=admin_key)
    except AccessError as error:
        raise click.BadParameter(str(error), param_hint="--admin-token") from None
