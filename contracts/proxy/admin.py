"""``/_apitwin/`` on the proxy: the dashboard over the proxy's journal (the exchanges it forwarded, judged).

The proxy answers the journal's routes (the page, ``/requests``, ``/journal/stream``, ``/apis``, ``/openapi``,
``/coverage``); state and live settings are the mock's. The admin token rules are the mock's
(``mockserver.admin_access``). These paths are never forwarded upstream.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from apitwin.mockserver import admin, admin_access
from apitwin.mockserver.journal import Journal
from apitwin.mockserver.operations import CompiledApi

ADMIN_PREFIX = admin.ADMIN_PREFIX


@dataclass(slots=True)
class JournalView:
    """The proxy as the journal's routes see it: one API, at the root, and the entries it wrote."""

    request_log: Journal
    apis: dict[str, CompiledApi]

    def base_paths(self) -> dict[str, str]:
        return dict.fromkeys(self.apis, "")


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


async def answer(view: JournalView, request: Request, token: str | None) -> Response:
    refused = admin_access.guard(request, token, ADMIN_PREFIX)
    if refused is not None:
        return refused
    # Credentials are masked in every entry; the rest is the caller's to see (loopback, or they hold the token).
    return await admin.answer(view, request, True, routes=admin.JOURNAL_ROUTES)
