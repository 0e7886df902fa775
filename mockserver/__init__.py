"""apitwin's mock server: any spec, served offline. ``create_app`` builds the ASGI app."""

from __future__ import annotations

from apitwin.mockserver.app import create_app

__all__ = ["create_app"]
