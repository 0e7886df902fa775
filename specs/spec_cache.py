"""An on-disk cache of normalised user spec files: OpenAI's 3 MB spec takes seconds to normalise, a
fraction of a second to read back.

An entry is ``<cache dir>/specs/<key>.json``. The key is a SHA-256 of everything the result depends on: the
cache format, apitwin's version, the source of the ``specs`` pipeline (so a changed normaliser never serves an
old result), the options that change loading (``--allow-external-refs``), the file's path and bytes; the entry also
lists the sibling files the spec's ``$ref``s read, with their hashes. JSON, never pickle: a corrupt, foreign or
stale entry is ignored and rewritten, and a cache directory that cannot be written costs one warning line, not
the load. ``specs lint`` keeps its verdict in the entry too, with the versions of the validators that gave it.

Where: ``$APITWIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/apitwin``, else ``~/.cache/apitwin``;
``APITWIN_NO_CACHE=1`` (``apitwin --no-cache``) turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from apitwin import __version__
from apitwin.specs.build import BuiltSpec, lint_file, load_file
from apitwin.specs.external_refs import ALLOW_ENV
from apitwin.specs.lint import Problem
from apitwin.specs.repairs import Repair, RepairLog

CACHE_DIR_ENV = "APITWIN_CACHE_DIR"
NO_CACHE_ENV = "APITWIN_NO_CACHE"
FORMAT = 1
MAX_ENTRIES = 32
"""Entries kept; the least recently used go first (a big spec's entry is a few MB)."""

_warned: set[str] = set()


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is off."""
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return None
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"  # the XDG spec: relative = unset
    return base / "apitwin"


def load(path: Path) -> BuiltSpec:
    """``build.load_file(path)``, from the cache when an entry for these bytes (and these siblings) is there."""
    return _cached(path, with_lint=False)


def linted(path: Path) -> BuiltSpec:
    """``load(path)`` with its lint problems. Lint's verdict is kept in the entry as well (valid for the versions
    of the validators that gave it), so linting an unchanged file again is a read."""
    return _cached(path, with_lint=True)


def _cached(path: Path, *, with_lint: bool) -> BuiltSpec:
    directory = cache_dir()
    try:
        data = path.read_bytes() if directory is not None else None
    except OSError:
        data = None  # load_file says what is wrong with the file, in one line
    if directory is None or data is None:
        return _built(path, with_lint)
    key = entry_key(path, data)
    entry = directory / "specs" / f"{key}.json"
    cached = _read(entry, key, path)
    if cached is not None and (cached[1] or not with_lint):
        return cached[0]
    spec = cached[0] if cached is not None else load_file(path)
    if with_lint:
        spec.problems = lint_file(path, spec)
    _write(directory, entry, key, spec, linted=with_lint)
    return spec


def _built(path: Path, with_lint: bool) -> BuiltSpec:
    spec = load_file(path)
    if with_lint:
        spec.problems = lint_file(path, spec)
    return spec


def entry_key(path: Path, data: bytes) -> str:
    """The key of a file's entry: its bytes and whatever else decides the normalised document (its place too:
    the repair log names it, and its ``$ref``s are read beside it)."""
    digest = hashlib.sha256()
    identity = (f"format {FORMAT}", f"apitwin {__version__}", _pipeline_fingerprint(), _options(), str(path.resolve()))
    for part in identity:
        digest.update(part.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


@functools.cache
def _pipeline_fingerprint() -> str:
    """A hash of the specs package's source: an edited normaliser (a development checkout) misses the cache."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def _options() -> str:
    return f"external refs {os.environ.get(ALLOW_ENV, '') not in ('', '0')}"


@functools.cache
def _lint_versions() -> str:
    """The validators lint's verdict comes from: another version may judge the same document otherwise."""
    found = []
    for distribution in ("openapi-spec-validator", "openapi-schema-validator", "jsonschema", "jsonschema-rs"):
        try:
            found.append(f"{distribution} {metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            found.append(f"{distribution} absent")
    return ", ".join(found)


def _read(entry: Path, key: str, path: Path) -> tuple[BuiltSpec, bool] | None:
    """The entry's spec, and whether it carries lint problems these validators gave; None when there is no
    usable entry."""
    try:
        text = entry.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        stored = json.loads(text)
        if not _fresh(stored, key):
            return None
        spec = BuiltSpec(
            path.stem,
            stored["document"],
            RepairLog([Repair(**repair) for repair in stored["repairs"]]),
            sources=tuple(Path(source) for source in stored["sources"]),
        )
        lint = stored.get("lint")
        linted = isinstance(lint, dict) and lint.get("versions") == _lint_versions()
        if linted:
            spec.problems = [Problem(check, pointer, message) for check, pointer, message in lint["problems"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # written by something else, or damaged: built again and rewritten
    if not isinstance(spec.document, dict):
        return None
    _touch(entry)
    return spec, linted


def _fresh(stored: Any, key: str) -> bool:
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("key") != key:
        return False
    sources = stored.get("sources")
    if not isinstance(sources, dict):
        return False
    return all(_file_hash(Path(source)) == digest for source, digest in sources.items())


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _touch(entry: Path) -> None:
    """Mark an entry as used, so pruning keeps it."""
    with contextlib.suppress(OSError):  # a read-only cache still serves its entries
        os.utime(entry)


def _write(directory: Path, entry: Path, key: str, built: BuiltSpec, *, linted: bool) -> None:
    """Through a temporary file and a rename: a reader sees the whole entry or none."""
    stored: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "sources": {str(source): _file_hash(source) for source in built.sources},
        "document": built.document,
        "repairs": built.repairs.as_list(),
    }
    if linted:
        problems = [[problem.check, problem.pointer, problem.message] for problem in built.problems]
        stored["lint"] = {"versions": _lint_versions(), "problems": problems}
    try:
        text = json.dumps(stored, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return  # not JSON after all (it always is once normalised): serve it uncached
    temporary: Path | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=entry.parent, prefix=".", suffix=".tmp", delete=False
        ) as sink:
            temporary = Path(sink.name)
            sink.write(text)
        os.replace(temporary, entry)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        _warn_once(directory, error)
        return
    _prune(entry.parent)


def _prune(folder: Path) -> None:
    try:
        entries = sorted(folder.glob("*.json"), key=lambda entry: entry.stat().st_mtime, reverse=True)
        for stale in entries[MAX_ENTRIES:]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass  # another process pruned first; the next write tries again


def _warn_once(directory: Path, error: OSError) -> None:
    if str(directory) in _warned:
        return
    _warned.add(str(directory))
    reason = error.strerror or str(error)
    print(
        f"warning: cannot write the spec cache in {directory} ({reason}); loading without it "
        f"(set {CACHE_DIR_ENV}, or apitwin --no-cache)",
        file=sys.stderr,
    )
