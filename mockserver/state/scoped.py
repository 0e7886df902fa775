"""Stored objects scoped by API and by credential, as a real gateway scopes them by project.

A stored response, a job or a session belongs to the API it was made on and to the credential that
made it: another API or another key asking for it finds nothing (a 404 where the spec documents
one), so an id computed or overheard from someone else's request is no way into their state.

The scope is per request (a context variable the app sets once the request is authenticated), so
the behaviours keep reading and writing ``server.store`` as before; only the keys change.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
from typing import Any

from apitwin.mockserver.state import Change, Store

SCOPED_KINDS = frozenset({"response", "job", "session"})
"""Kinds of object a client owns. Media files stay reachable by their (unguessable) URL, as signed URLs are."""

CURRENT_SCOPE: contextvars.ContextVar[str] = contextvars.ContextVar("apitwin_scope", default="")


@functools.lru_cache(maxsize=1024)
def scope_for(api: str, credential: str) -> str:
    """The scope of a request: its API and a digest of the secret it presented (none: the API alone). Asked on every
    request, mostly with the same few keys: remembered."""
    digest = hashlib.sha256(credential.encode("utf-8", "backslashreplace")).hexdigest()[:24] if credential else "-"
    return f"{api}/{digest}"


def scoped_key(scope: str, key: str) -> str:
    return f"{scope}\x1f{key}"


class ScopedStore:
    """A :class:`Store` whose keys of the ``SCOPED_KINDS`` carry the current request's scope."""

    def __init__(self, store: Store) -> None:
        self.inner = store

    def _key(self, kind: str, key: str) -> str:
        return scoped_key(CURRENT_SCOPE.get(), key) if kind in SCOPED_KINDS else key

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self.inner.get(kind, self._key(kind, key))

    async def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self.inner.put(kind, self._key(kind, key), value)

    async def update(self, kind: str, key: str, change: Change) -> dict[str, Any] | None:
        return await self.inner.update(kind, self._key(kind, key), change)

    async def delete(self, kind: str, key: str) -> bool:
        return await self.inner.delete(kind, self._key(kind, key))

    async def items(self, kind: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Every scope's values (keys ``<api>/<credential digest>\x1f<key>`` for the scoped kinds)."""
        return await self.inner.items(kind, limit)

    async def clear(self, kind: str) -> int:
        return await self.inner.clear(kind)

    async def close(self) -> None:
        await self.inner.close()
