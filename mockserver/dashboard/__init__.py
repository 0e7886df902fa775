"""The dashboard: one self-contained HTML page (its script and styles inline, nothing fetched from elsewhere),
served at ``/_apitwin/`` by the mock and the proxy. It reads the admin JSON endpoints of the server it came from.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from importlib import resources

from starlette.responses import Response

INLINE = re.compile(rb"<(script|style)>(.*?)</\1>", re.DOTALL)


@functools.cache
def page_html() -> bytes:
    return resources.files(__name__).joinpath("page.html").read_bytes()


@functools.cache
def content_security_policy() -> str:
    """Only the page's own inline script and styles run (by their SHA-256), and it may talk to this server alone:
    the browser itself refuses anything from another origin, and any script that was not in the file."""
    hashes: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for kind, text in INLINE.findall(page_html()):
        hashes[kind].append("'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'")
    return (
        f"default-src 'none'; script-src {' '.join(hashes[b'script'])}; style-src {' '.join(hashes[b'style'])}; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page() -> Response:
    headers = {
        "Content-Security-Policy": content_security_policy(),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return Response(page_html(), media_type="text/html; charset=utf-8", headers=headers)
