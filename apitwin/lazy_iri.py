"""rfc3987-syntax on first use, not on import: two seconds off every apitwin start.

``jsonschema[format-nongpl]`` checks the ``iri`` and ``iri-reference`` formats with rfc3987-syntax, which builds
an Earley parser of RFC 3987's grammar the moment it is imported — and jsonschema imports it with itself. That
cost ~2 s of CPU in every process that validates anything (``apitwin serve``, every CLI command, every test
worker), for two formats LLM APIs do not use.

``install()`` (called by ``apitwin/__init__.py``, before anything imports jsonschema) puts a stand-in module in
its place: jsonschema binds the stand-in's ``is_valid_syntax``, which imports the real module on its first call
and asks it. The verdicts are the real module's; only the moment the grammar is built moves.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

NAME = "rfc3987_syntax"

_real: dict[str, types.ModuleType] = {}


def install() -> None:
    """Put the stand-in in place, unless the real module (or jsonschema, which bound it) is already loaded."""
    if NAME in sys.modules or "jsonschema" in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(NAME)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return  # not installed: jsonschema goes without the iri checks, as it would anyway
    stand_in = types.ModuleType(NAME, "apitwin's stand-in: the real rfc3987_syntax is imported on first use")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = _attribute  # type: ignore[method-assign]  # PEP 562: any other name comes from the real one
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)  # its submodules still import as usual
    sys.modules[NAME] = stand_in


def is_valid_syntax(term: str, value: str) -> bool:
    """rfc3987_syntax.is_valid_syntax, from the real module."""
    return bool(real().is_valid_syntax(term, value))


def real() -> types.ModuleType:
    """The real rfc3987_syntax, imported (and put in the stand-in's place) on the first call."""
    if NAME not in _real:
        if getattr(sys.modules.get(NAME), "is_valid_syntax", None) is is_valid_syntax:
            del sys.modules[NAME]
        _real[NAME] = importlib.import_module(NAME)
    return _real[NAME]


def _attribute(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(real(), name)
