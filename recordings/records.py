"""Recorded exchanges as plain values, whatever file they were read from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from apitwin.specs import yaml_text


class TrafficError(Exception):
    """A recording that cannot be read: the CLI prints it and exits with code 2."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@dataclass(slots=True)
class RecordedRequest:
    method: str
    url: str
    headers: dict[str, str]
    """Lower-cased names; repeated headers joined with ``, `` as HTTP allows."""
    body: bytes | None


@dataclass(slots=True)
class RecordedResponse:
    status: int
    headers: dict[str, str]
    body: bytes | None
    truncated: bool = False
    """The recorder kept only a prefix of the body, so the body cannot be judged."""
    chunks: list[tuple[float, int]] | None = None
    """How the body arrived, when the recorder kept it (``apitwin proxy --record``): (milliseconds after the
    request was sent, bytes) per read, so a replay can pace a stream as it was recorded."""


@dataclass(slots=True)
class RecordedExchange:
    number: int
    """1-based position in the file, how the report names the exchange."""
    source: str
    """Where in the file it came from (``entry 3``, ``interaction 'QtbRjM'``)."""
    request: RecordedRequest
    response: RecordedResponse | None
    intentionally_invalid: bool = False
    """The recorder says it sent a request the spec forbids on purpose (negative testing)."""
    notes: list[str] = field(default_factory=list)


def join_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def read_traffic(path: Path) -> list[RecordedExchange]:
    """The exchanges in a HAR file or a schemathesis cassette, the format told by the content."""
    from apitwin.recordings import cassette, har

    text = _read_text(path)
    document = _parse(path, text)
    if har.is_har(document):
        return har.exchanges(str(path), document)
    if cassette.is_cassette(document):
        return cassette.exchanges(str(path), document)
    raise TrafficError(
        str(path),
        "neither a HAR file (JSON with log.entries) nor a schemathesis cassette (YAML with http_interactions)",
    )


RECORDING_SUFFIXES = (".har", ".json", ".yaml", ".yml")


def read_recordings(path: Path) -> list[RecordedExchange]:
    """The exchanges of one recording file, or of every recording in a directory (``apitwin proxy --record``
    writes one HAR per exchange), in file name order and numbered through."""
    if not path.is_dir():
        return read_traffic(path)
    files = sorted(item for item in path.iterdir() if item.is_file() and item.suffix.lower() in RECORDING_SUFFIXES)
    if not files:
        raise TrafficError(
            str(path), f"no recordings ({', '.join('*' + s for s in RECORDING_SUFFIXES)}) in the directory"
        )
    exchanges: list[RecordedExchange] = []
    for file in files:
        for exchange in read_traffic(file):
            exchange.number = len(exchanges) + 1
            exchange.source = f"{file.name} {exchange.source}"
            exchanges.append(exchange)
    return exchanges


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrafficError(str(path), "no such file") from None
    except IsADirectoryError:
        raise TrafficError(str(path), "is a directory, not a recording") from None
    except UnicodeDecodeError as error:
        raise TrafficError(str(path), f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise TrafficError(str(path), error.strerror or str(error)) from None


def _parse(path: Path, text: str) -> object:
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise TrafficError(
                str(path), f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ) from None
    try:
        return yaml_text.load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise TrafficError(str(path), f"malformed YAML{where}: {problem}") from None
