"""apitwin's specs: the shipped, normalised OpenAPI 3.1 documents and the pipeline that builds them.

``specs.load(name_or_path)`` is the one way the rest of apitwin reads a spec.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from apitwin.specs.catalogue import SHIPPED, names, shipped
from apitwin.specs.errors import SpecError

__all__ = ["SHIPPED", "SpecError", "load", "names"]


def load(name_or_path: str | Path) -> dict[str, Any]:
    """The composed document of a shipped API (by name) or of a user's OpenAPI file (by path).

    Loading is cached; treat the returned document as read-only.
    """
    api = shipped(str(name_or_path))
    if api is not None:
        return _load_shipped(api.name)
    path = Path(name_or_path).resolve()
    if not path.exists():
        raise SpecError(str(name_or_path), "name", f"not a shipped API ({', '.join(names())}) nor an existing file")
    return _load_file(path, path.stat().st_mtime_ns)


@functools.cache
def _load_shipped(name: str) -> dict[str, Any]:
    api = shipped(name)
    assert api is not None
    if not api.spec_path.exists():
        raise SpecError(str(api.spec_path), "file", "the spec has not been built: run `apitwin specs build`")
    return json.loads(api.spec_path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=32)
def _load_file(path: Path, _mtime_ns: int) -> dict[str, Any]:
    from apitwin.specs import spec_cache

    return spec_cache.load(path).document
