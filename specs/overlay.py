"""Enrich: apply an OpenAPI Overlay 1.0 document to a spec.

Overlays hold what the vendor documents say in prose but not in schemas, kept apart from
what was imported so anyone can see which is which. Targets are JSONPath expressions
(jsonpath-ng syntax). An ``update`` merges objects recursively and replaces everything
else; when the target itself is an array the update is appended to it. ``remove: true``
deletes the target. An action whose target matches nothing is an error: a stale overlay
must fail the build, not silently stop applying.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from jsonpath_ng import Fields, Index
from jsonpath_ng.ext import parse

from apitwin.specs import yaml_text
from apitwin.specs.errors import SpecError
from apitwin.specs.repairs import RepairLog


def read_overlay(path: Path) -> dict[str, Any]:
    try:
        overlay = yaml_text.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(str(path), "file", "no such overlay") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        location = f"line {mark.line + 1}" if mark else "document"
        raise SpecError(str(path), location, f"not valid YAML: {error}") from None
    _check_overlay(overlay, str(path))
    return overlay


def _check_overlay(overlay: Any, name: str) -> None:
    if not isinstance(overlay, dict) or not str(overlay.get("overlay", "")).startswith("1."):
        raise SpecError(name, "/overlay", "not an Overlay 1.x document (expected 'overlay: 1.0.0')")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise SpecError(name, "/actions", "an overlay needs a non-empty list of actions")
    for index, action in enumerate(actions):
        where = f"/actions/{index}"
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise SpecError(name, where, "each action needs a 'target' JSONPath string")
        if ("update" in action) == bool(action.get("remove")):
            raise SpecError(name, where, "each action needs exactly one of 'update' or 'remove: true'")


def apply_overlay(
    document: dict[str, Any], overlay: dict[str, Any], *, name: str, log: RepairLog | None = None
) -> dict[str, Any]:
    """A copy of ``document`` with the overlay's actions applied in order.

    With a ``log``, each action is recorded (kind ``overlay``) with its description, so the
    repair report shows what was added or removed next to what was repaired.
    """
    _check_overlay(overlay, name)
    document = copy.deepcopy(document)
    for index, action in enumerate(overlay["actions"]):
        where = f"/actions/{index}"
        try:
            expression = parse(action["target"])
        except Exception as error:  # noqa: BLE001 -- jsonpath-ng's lexer raises bare Exceptions besides JsonPathParserError
            raise SpecError(name, where, f"target {action['target']!r} is not valid JSONPath: {error}") from None
        matches = expression.find(document)
        if not matches:
            raise SpecError(name, where, f"target {action['target']!r} matches nothing in the document")
        if log is not None:
            log.record(
                "overlay",
                action["target"],
                source=f"{name}{where}",
                before="<present>" if action.get("remove") else "<as imported>",
                after="<absent>" if action.get("remove") else "<updated>",
                reason=str(action.get("description") or "(no description)").strip(),
            )
        if action.get("remove"):
            for match in reversed(matches):  # later list items first, so indices stay valid
                _remove(match)
            continue
        for match in matches:
            _update(match, copy.deepcopy(action["update"]), name, where)
    return document


def _update(match: Any, update: Any, name: str, where: str) -> None:
    target = match.value
    if isinstance(target, list):
        target.append(update)
    elif isinstance(target, dict) and isinstance(update, dict):
        merge(target, update)
    else:
        _replace(match, update, name, where)


def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Recursive merge of objects; any other value replaces what was there."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


def _replace(match: Any, value: Any, name: str, where: str) -> None:
    parent = match.context.value if match.context is not None else None
    if isinstance(match.path, Fields) and isinstance(parent, dict):
        parent[match.path.fields[0]] = value
    elif isinstance(match.path, Index) and isinstance(parent, list):
        parent[_position(match.path)] = value
    else:
        raise SpecError(name, where, "cannot update the document root with a non-object")


def _remove(match: Any) -> None:
    parent = match.context.value if match.context is not None else None
    if isinstance(match.path, Fields) and isinstance(parent, dict):
        parent.pop(match.path.fields[0], None)
    elif isinstance(match.path, Index) and isinstance(parent, list):
        del parent[_position(match.path)]


def _position(path: Index) -> int:
    """The list position of an ``Index`` step: jsonpath-ng 1.7 keeps ``indices``, older releases ``index``."""
    indices = getattr(path, "indices", None)
    if indices:
        return int(indices[0])
    return int(path.index)  # type: ignore[attr-defined]  # jsonpath-ng < 1.7
