"""Who may use ``/_apitwin/``: anyone on loopback; with an admin token, only those who present it.

A server bound to a loopback address is reachable from this machine only, so its dashboard and admin endpoints
are open. Bound to any other address, ``apitwin serve`` and ``apitwin proxy`` refuse to start without
``--admin-token TOKEN`` (``--admin-token auto`` makes one and prints it). With a token, every ``/_apitwin/``
route asks for it, as ``Authorization: Bearer TOKEN`` or as the cookie ``/_apitwin/?token=TOKEN`` sets (so the
page and its live journal work in a browser); a missing or wrong token is a 401 with a JSON body saying which.
Media files (``/_apitwin/media/<name>``) stay reachable by their unguessable names, as signed URLs are: a client
that was given the URL in an answer must be able to fetch it.

The admin token subsumes ``--admin-key``: whoever may reach the admin endpoints holds the token, and sees the
values clients sent. ``--admin-key`` remains for an open (loopback) mock shared by several clients, where only its
holder sees those values; the two are not given together.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

COOKIE = "apitwin_admin"
AUTO = "auto"
TOKEN_BYTES = 24


class AccessError(ValueError):
    """Options that would leave the admin endpoints open to the network, or contradict each other."""


def is_loopback(host: str) -> bool:
    """The address is reachable from this machine only (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


def admin_token(host: str, given: str | None, *, admin_key: str | None = None) -> str | None:
    """The token the server will ask for (None: open), from ``--host``, ``--admin-token`` and ``--admin-key``."""
    if given is not None and admin_key is not None:
        raise AccessError(
            "--admin-key is subsumed by --admin-token (whoever holds the token sees the values clients sent); give one"
        )
    if given == AUTO:
        return secrets.token_urlsafe(TOKEN_BYTES)
    if given is not None:
        if len(given) < 16:
            raise AccessError("an admin token must be at least 16 characters (or auto)")
        return given
    if not is_loopback(host):
        raise AccessError(
            f"{host} is not a loopback address: the dashboard and the /_apitwin/ admin endpoints would be open to "
            "the network; give --admin-token TOKEN (16+ characters) or --admin-token auto to generate one"
        )
    return None


def presented(request: Request) -> str:
    """The token a request carries: a Bearer ``Authorization`` header, else the dashboard's cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE, "")


def matches(given: str, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def guard(request: Request, token: str | None, prefix: str, *, admin_key: str | None = None) -> Response | None:
    """None when the request may go on; otherwise the answer (a 401, or the page's sign-in redirect).

    ``/_apitwin/?token=`` signs a browser in with the admin token, or, on an open server, with ``--admin-key``
    (so the page shows the values clients sent to whoever holds it).
    """
    secret = token if token is not None else admin_key
    query_token = request.query_params.get("token")
    if secret is not None and query_token is not None and request.scope["path"].rstrip("/") == prefix:
        if not matches(query_token, secret):
            return denied("wrong admin token in ?token=", "wrong_admin_token")
        # The token leaves the address bar (and the history) for a cookie only this path's requests carry.
        answer = RedirectResponse(f"{prefix}/", status_code=303)
        answer.set_cookie(COOKIE, secret, path=prefix, httponly=True, samesite="strict")
        return answer
    if token is None:
        return None
    given = presented(request)
    if not given:
        return denied(
            f"this server's admin endpoints need its admin token: send Authorization: Bearer <token>, or open "
            f"{prefix}/?token=<token> in a browser",
            "admin_token_required",
        )
    if not matches(given, token):
        return denied("wrong admin token", "wrong_admin_token")
    return None


def denied(message: str, kind: str) -> Response:
    body = {"error": {"type": kind, "message": message}}
    return Response(
        json.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="apitwin admin"'},
    )
