"""The dashboard: one self-contained HTML page (its script and styles inline, nothing fetched from elsewhere),
served at ``/_apitwin/`` by the mock and the proxy. It reads the admin JSON endpoints of the server it came from.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.responses import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The browser itself refuses any script, style or request from another origin."""


@functools.cache
def page_html() -> bytes:
    return resources.files(__name__).joinpath("page.html").read_bytes()


def page() -> Response:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return Response(page_html(), media_type="text/html; charset=utf-8", headers=headers)
