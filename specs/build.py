"""The pipeline end to end: import → normalise → enrich → compose → lint, and writing it out.

Everything is built in memory first; files are written only when every requested API
built, each through a temporary file and an atomic rename, so a failed build leaves the
committed specs as they were.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apitwin.specs import yaml_text
from apitwin.specs.catalogue import OVERLAYS_DIR, ShippedApi
from apitwin.specs.compose import compose
from apitwin.specs.errors import SpecError
from apitwin.specs.external_refs import bundle
from apitwin.specs.importers import importer
from apitwin.specs.lint import Problem, lint
from apitwin.specs.normalise import normalise
from apitwin.specs.overlay import apply_overlay, read_overlay
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source


@dataclass(slots=True)
class BuiltSpec:
    name: str
    document: dict[str, Any]
    repairs: RepairLog
    problems: list[Problem] = field(default_factory=list)
    sources: tuple[Path, ...] = ()
    """The other files the document was read from (siblings its ``$ref``s name); a cached copy depends on them."""


def build_api(api: ShippedApi, seeds: Path) -> BuiltSpec:
    source = Source.read(seeds / api.seed)
    log = RepairLog()
    raw = importer(api.importer)(source, log, **api.options)
    overlay = read_overlay(api.overlay_path) if api.overlay_path.exists() else None
    document = finish(raw, log, source=source.name, overlay=overlay, overlay_name=_relative(api.overlay_path))
    document["info"]["x-apitwin"] = {
        "api": api.name,
        "source": api.seed,
        "overlay": _relative(api.overlay_path) if overlay else None,
        "repairs": len(log),
    }
    return BuiltSpec(api.name, document, log, lint(document))


def finish(
    raw: dict[str, Any],
    log: RepairLog,
    *,
    source: str,
    overlay: dict[str, Any] | None = None,
    overlay_name: str = "",
) -> dict[str, Any]:
    """normalise → enrich → compose: the path every document takes, shipped or user-supplied."""
    document = normalise(raw, log, source=source)
    if overlay is not None:
        document = apply_overlay(document, overlay, name=overlay_name, log=log)
    return compose(document, log, source=source)


def normalise_file(path: Path) -> BuiltSpec:
    """A user-supplied OpenAPI 3.0/3.1 file (JSON or YAML) through the same normalise → compose path, then lint."""
    spec = load_file(path)
    spec.problems = lint_file(path, spec)
    return spec


def load_file(path: Path) -> BuiltSpec:
    """A user's file normalised and composed, not linted: what serving, diffing and linting start from.

    Lint (seconds on a large spec) is a separate step, ``lint_file``; nothing on the serving path needs it.
    """
    read: list[Path] = []
    document = bundle(read_document(path), path, read=read)
    log = RepairLog()
    try:
        finished = finish(document, log, source=str(path))
    except SpecError:
        raise
    except Exception as error:  # noqa: BLE001 - a user's file must end in one line naming it, never a traceback
        raise SpecError(
            str(path), _last_pointer(log), f"cannot be normalised: {type(error).__name__}: {error}"
        ) from None
    return BuiltSpec(path.stem, finished, log, sources=tuple(read))


def lint_file(path: Path, spec: BuiltSpec) -> list[Problem]:
    """``lint`` of a user's normalised file; a failure inside it is one line naming the file."""
    try:
        return lint(spec.document)
    except Exception as error:  # noqa: BLE001 - a user's file must end in one line naming it, never a traceback
        raise SpecError(str(path), "/", f"cannot be linted: {type(error).__name__}: {error}") from None


def _last_pointer(log: RepairLog) -> str:
    """Where the pipeline last changed something: the nearest location there is to a failure."""
    return f"near {log.repairs[-1].pointer}" if log.repairs else "/"


def read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "file", "no such file") from None
    except OSError as error:
        raise SpecError(str(path), "file", f"cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise SpecError(str(path), f"byte {error.start}", "not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            document = yaml_text.load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            location = f"line {mark.line + 1}, column {mark.column + 1}" if mark else f"line {json_error.lineno}"
            raise SpecError(str(path), location, "neither JSON nor YAML") from None
    if not isinstance(document, dict):
        raise SpecError(str(path), "line 1", "not an OpenAPI document: the top level is not an object")
    return document


def render(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_specs(built: list[BuiltSpec], apis: list[ShippedApi]) -> list[Path]:
    by_name = {api.name: api for api in apis}
    pending: list[tuple[Path, str]] = []
    for spec in built:
        api = by_name[spec.name]
        pending.append((api.spec_path, render(spec.document)))
        pending.append((api.repairs_path, render(spec.repairs.as_list())))
    return write_atomically(pending)


def write_atomically(pending: list[tuple[Path, str]]) -> list[Path]:
    """Write every file to a temporary sibling first, then rename them all into place."""
    staged = []
    try:
        for path, text in pending:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(text, encoding="utf-8")
            staged.append((temporary, path))
    except OSError as error:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise SpecError(str(error.filename), "write", error.strerror or str(error)) from None
    for temporary, path in staged:
        os.replace(temporary, path)
    return [path for _, path in staged]


def _relative(path: Path) -> str:
    return f"specs/overlays/{path.name}" if path.parent == OVERLAYS_DIR else str(path)
