"""External ``$ref``s of a user's file: the ones beside it are inlined, the rest refused.

A published spec may be split into files (``$ref: common.yaml#/components/schemas/Pet``). Those that sit in
the document's own directory (or below it) are read and inlined here, so every later stage sees one
self-contained document. A reference anywhere else — another directory, ``file:///etc/passwd``,
``http://…`` — is refused with one line naming it: loading a spec must not read or fetch what it points at.
``apitwin --allow-external-refs`` (the ``APITWIN_ALLOW_EXTERNAL_REFS=1`` environment variable) lifts that
for files outside the directory; URLs are never fetched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from apitwin.specs import yaml_text
from apitwin.specs.errors import SpecError
from apitwin.specs.pointer import escape, resolve

ALLOW_ENV = "APITWIN_ALLOW_EXTERNAL_REFS"
MAX_DEPTH = 64


def bundle(document: dict[str, Any], path: Path, *, read: list[Path] | None = None) -> dict[str, Any]:
    """``document`` (read from ``path``) with every external ``$ref`` inlined, or a SpecError naming the first
    one that may not be followed. ``read``, when given, receives the other files that were read."""
    bundler = _Bundler(path)
    bundled = bundler.inline(document, path, document, "", ())
    if read is not None:
        read.extend(bundler.files)
    return bundled


class _Bundler:
    def __init__(self, path: Path) -> None:
        self.root = path.resolve().parent
        self.source = str(path)
        self.allow_outside = os.environ.get(ALLOW_ENV, "") not in ("", "0")
        self.files: dict[Path, Any] = {}

    def inline(self, node: Any, file: Path, file_document: Any, pointer: str, chain: tuple[str, ...]) -> Any:
        """``node`` of ``file`` with its external refs inlined; local refs of ``file`` are inlined too when
        ``file`` is not the main document (they point into that file, not into the result)."""
        if isinstance(node, list):
            return [
                self.inline(item, file, file_document, f"{pointer}/{index}", chain) for index, item in enumerate(node)
            ]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (not ref.startswith("#") or chain):
            target_file, fragment = self._target(ref, file, pointer) if not ref.startswith("#") else (file, ref[1:])
            key = f"{target_file}#{fragment}"
            if key in chain or len(chain) >= MAX_DEPTH:
                raise SpecError(
                    self.source,
                    pointer or "/",
                    f"$ref {ref!r} refers back to itself across files: bundle the spec first",
                )
            target_document = file_document if target_file == file else self._read(target_file, ref, pointer)
            try:
                target = resolve(target_document, fragment)
            except KeyError:
                raise SpecError(
                    self.source, pointer or "/", f"$ref {ref!r}: {fragment or '/'} is not in {target_file.name}"
                ) from None
            siblings = {name: value for name, value in node.items() if name != "$ref"}
            inlined = self.inline(target, target_file, target_document, pointer, (*chain, key))
            if siblings and isinstance(inlined, dict):
                return {
                    **inlined,
                    **{
                        name: self.inline(value, file, file_document, pointer, chain)
                        for name, value in siblings.items()
                    },
                }
            return inlined
        return {
            name: self.inline(value, file, file_document, f"{pointer}/{escape(name)}", chain)
            for name, value in node.items()
        }

    def _target(self, ref: str, file: Path, pointer: str) -> tuple[Path, str]:
        parts = urlsplit(ref)
        where = pointer or "/"
        if parts.scheme not in ("", "file") or parts.netloc:
            raise SpecError(
                self.source,
                where,
                f"$ref {ref!r} points at a URL; apitwin never fetches while loading a spec (bundle it first)",
            )
        raw = unquote(parts.path)
        target = Path(raw) if Path(raw).is_absolute() else (file.parent / raw)
        target = target.resolve()
        if not target.is_relative_to(self.root) and not self.allow_outside:
            raise SpecError(
                self.source,
                where,
                f"$ref {ref!r} leaves the spec's directory; only files beside it are read "
                "(apitwin --allow-external-refs, or bundle the spec first)",
            )
        return target, unquote(parts.fragment)

    def _read(self, target: Path, ref: str, pointer: str) -> Any:
        if target not in self.files:
            try:
                text = target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise SpecError(
                    self.source, pointer or "/", f"$ref {ref!r}: cannot read {target.name}: {error}"
                ) from None
            try:
                self.files[target] = json.loads(text)
            except json.JSONDecodeError:
                try:
                    self.files[target] = yaml_text.load(text)
                except yaml.YAMLError:
                    raise SpecError(
                        self.source, pointer or "/", f"$ref {ref!r}: {target.name} is neither JSON nor YAML"
                    ) from None
        return self.files[target]
