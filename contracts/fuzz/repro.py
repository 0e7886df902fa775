"""A ``curl`` command that re-sends exactly the request that was sent, credentials excepted.

Built from the prepared request that went over the wire (method, URL, headers, body bytes), not from
the generated case, so what serialisation did is reproduced too. The credential is the only thing
hidden: it becomes ``$APITWIN_API_KEY``, which the shell fills in, so the command runs as printed.
"""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

PLACEHOLDER = "$APITWIN_API_KEY"
SHORT_SECRET = 8
"""Keys shorter than this are hidden only where they stand alone (see :func:`hide`)."""
LEFT_TO_CURL = {"content-length", "connection", "accept-encoding", "user-agent"}
"""Headers curl sets itself (requests' defaults, not part of the case)."""
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]")


def hide(text: str, secret: str | None) -> str:
    """``text`` with the credential replaced by ``$APITWIN_API_KEY`` (and nothing else touched).

    A real key is replaced wherever it appears, inside longer words too (nothing of it may leak). A key
    shorter than :data:`SHORT_SECRET` (a test key like ``k``) only where it stands alone, so that it does
    not turn ``keep-alive`` into ``$APITWIN_API_KEYeep-alive``."""
    if not secret:
        return text
    text = text.replace(basic_token(secret), PLACEHOLDER)  # "Basic $APITWIN_API_KEY": the key, base64-encoded
    return PLACEHOLDER.join(_split_at_secret(text, secret))


def _split_at_secret(text: str, secret: str) -> list[str]:
    """``text`` cut where the credential stands (see :func:`hide` for where a short one does)."""
    if len(secret) >= SHORT_SECRET:
        return text.split(secret)
    return re.split(rf"(?<![A-Za-z0-9_\-]){re.escape(secret)}(?![A-Za-z0-9_\-])", text)


BASIC_USER = "apitwin"


def basic_pair(api_key: str) -> str:
    """The ``user:password`` an http basic scheme is sent: the key as given when it is a pair, else the key
    as the password (the mock checks the password)."""
    return api_key if ":" in api_key else f"{BASIC_USER}:{api_key}"


def basic_token(api_key: str) -> str:
    return base64.b64encode(basic_pair(api_key).encode("utf-8")).decode("ascii")


def reveal(text: str, api_key: str | None) -> str:
    """``hide`` undone: the placeholder filled with the key (base64-encoded where it stands for basic credentials)."""
    if not api_key:
        return text
    return text.replace(f"Basic {PLACEHOLDER}", f"Basic {basic_token(api_key)}").replace(PLACEHOLDER, api_key)


def curl(prepared: Any, secret: str | None) -> str:
    """``curl -X METHOD 'URL' -H … --data-binary …`` for a ``requests.PreparedRequest``."""
    parts = ["curl", "-X", str(prepared.method or "GET"), _quote(str(prepared.url or ""), secret)]
    for name, value in (prepared.headers or {}).items():
        if name.lower() in LEFT_TO_CURL or (name.lower() == "accept" and value == "*/*"):
            continue
        if secret and name.lower() == "authorization" and value == f"Basic {basic_token(secret)}":
            parts += ["-u", _quote(basic_pair(secret), secret)]  # curl encodes it; the key stays a variable
            continue
        parts += ["-H", _quote(f"{name}: {value}", secret)]
    body = prepared.body
    if not body:
        return " ".join(parts)
    data = body.encode("utf-8") if isinstance(body, str) else body
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:  # a shell word cannot hold every byte: printf writes them to curl's stdin
        return f"printf -- {_printf_format(data)} | " + " ".join([*parts, "--data-binary", "@-"])
    return " ".join([*parts, "--data-binary", _quote(text, secret)])


def _quote(text: str, secret: str | None) -> str:
    """One shell word: single-quoted, or double-quoted around ``$APITWIN_API_KEY`` where the credential was."""
    pieces = _split_at_secret(text, secret) if secret else [text]
    if len(pieces) == 1:
        return shlex.quote(text)
    quoted = ""
    for index, piece in enumerate(pieces):
        quoted += _double_escape(piece)
        if index < len(pieces) - 1:
            following = pieces[index + 1][:1]
            quoted += "${APITWIN_API_KEY}" if following and _IDENTIFIER.match(following) else PLACEHOLDER
    return f'"{quoted}"'


def _double_escape(text: str) -> str:
    return "".join("\\" + character if character in '\\"$`' else character for character in text)


def _printf_format(data: bytes) -> str:
    """A single-quoted printf format that writes ``data`` byte for byte (octal escapes outside printable ASCII)."""
    out = []
    for byte in data:
        character = chr(byte)
        if character == "%":
            out.append("%%")
        elif character == "\\":
            out.append("\\\\")
        elif 32 <= byte < 127:
            out.append(character)
        else:
            out.append(f"\\{byte:03o}")
    return shlex.quote("".join(out))
