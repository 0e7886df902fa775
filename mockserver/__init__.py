"""apitwin's mock server: any spec, served offline. ``create_app`` builds the ASGI app.

``create_app`` is imported when first asked for, so the command line's modules under this package (``apitwin serve
--help``, the options ``apitwin proxy`` shares) load without the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apitwin.mockserver.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from apitwin.mockserver.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
