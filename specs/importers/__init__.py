"""Importers: one module per vendor document format.

Every importer module has one entry point::

    def import_api(source: Source, log: RepairLog, **options) -> dict

It returns one OpenAPI document (3.0 or 3.1 dialect, as the vendor wrote it, merged where
the format needs merging) and records every API-specific repair in ``log``. Provenance is
kept in the document itself: each operation has ``x-apitwin-sources`` (a list of
``{"file", "line", "url"?, "pointer"?}``), and each per-model request variant has
``x-apitwin-source``. Generic repairs (``nullable``, missing descriptions, ...) are left to
``specs.normalise``.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source


class Importer(Protocol):
    def __call__(self, source: Source, log: RepairLog, **options: Any) -> dict[str, Any]: ...


def importer(name: str) -> Importer:
    module = importlib.import_module(f"apitwin.specs.importers.{name}")
    return module.import_api
