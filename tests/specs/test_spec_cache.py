"""The on-disk cache of normalised spec files: a hit serves what a cold load serves; a changed file or sibling,
a corrupt or foreign entry is a miss that is rewritten; an unwritable directory costs one warning line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver.app import create_app
from apitwin.specs import spec_cache
from apitwin.specs.build import BuiltSpec
from apitwin.specs.build import lint_file as real_lint_file
from apitwin.specs.build import load_file as real_load_file
from apitwin.specs.lint import Problem

SPEC = """\
openapi: 3.0.3
info: {title: Cached, version: '1'}
servers: [{url: 'https://api.example.com/v1'}]
paths:
  /items/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {$ref: '#/components/schemas/Id'}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
  /chat:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [prompt], properties: {prompt: {type: string}, stream: {type: boolean}}}
      responses:
        '200':
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Item'}}
            text/event-stream: {schema: {$ref: '#/components/schemas/Chunk'}}
components:
  schemas:
    Id: {type: integer}
    Item:
      type: object
      required: [id, name, tags]
      properties:
        id: {type: integer, minimum: 1, exclusiveMinimum: true}
        name: {type: string, nullable: true}
        tags: {type: array, items: {type: string}}
        created: {type: string, format: date, example: 2024-10-01}
    Chunk: {type: object, required: [delta], properties: {delta: {type: string}}}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(spec_cache.CACHE_DIR_ENV, str(directory))
    monkeypatch.delenv(spec_cache.NO_CACHE_ENV, raising=False)
    return directory


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec" / "api.yaml"
    path.parent.mkdir()
    path.write_text(SPEC, encoding="utf-8")
    return path


def counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every cold load from now on, recorded (the cache calls build.load_file on a miss)."""
    calls: list[Path] = []

    def load_file(path: Path) -> BuiltSpec:
        calls.append(path)
        return real_load_file(path)

    monkeypatch.setattr(spec_cache, "load_file", load_file)
    return calls


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "specs").glob("*.json"))


def answers(document: dict[str, Any]) -> list[tuple[int, str, bytes]]:
    app = create_app({"api": document}, state="memory", clock=lambda: 1_700_000_000.0)
    requests = [
        ("GET", "/items/1", None),
        ("GET", "/v1/items/7", None),
        ("GET", "/items/x", None),
        ("POST", "/chat", {"prompt": "hi"}),
        ("POST", "/v1/chat", {"prompt": "hi", "stream": True}),
        ("POST", "/chat", {}),
    ]
    with TestClient(app) as client:
        found = []
        for method, path, body in requests:
            answer = client.request(method, path, json=body, headers={"Authorization": "Bearer k"})
            found.append((answer.status_code, answer.headers["content-type"], answer.content))
    return found


def test_a_hit_serves_exactly_what_a_cold_load_serves(cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch):
    loads = counting_loads(monkeypatch)
    cold = spec_cache.load(spec)
    warm = spec_cache.load(spec)
    assert loads == [spec]  # the second came from the entry
    assert len(entries(cache)) == 1
    assert warm.document == cold.document
    assert warm.repairs.as_list() == json.loads(json.dumps(cold.repairs.as_list(), default=str))
    assert len(cold.repairs) > 0  # 3.0 keywords and a YAML date were repaired: the log comes back too
    served = answers(cold.document)
    assert answers(warm.document) == served
    assert [status for status, _, _ in served] == [200, 200, 400, 200, 200, 400]
    assert served[4][1].startswith("text/event-stream")


def test_a_changed_file_is_a_miss(cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch):
    loads = counting_loads(monkeypatch)
    first = spec_cache.load(spec)
    spec.write_text(SPEC.replace("title: Cached", "title: Changed"), encoding="utf-8")
    second = spec_cache.load(spec)
    assert len(loads) == 2
    assert (first.document["info"]["title"], second.document["info"]["title"]) == ("Cached", "Changed")


def test_a_changed_sibling_file_is_a_miss(cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch):
    spec.write_text(SPEC.replace("Id: {type: integer}", "Id: {$ref: 'common.yaml#/Id'}"), encoding="utf-8")
    sibling = spec.parent / "common.yaml"
    sibling.write_text("Id: {type: integer}\n", encoding="utf-8")
    loads = counting_loads(monkeypatch)
    assert spec_cache.load(spec).document["components"]["schemas"]["Id"] == {"type": "integer"}
    assert spec_cache.load(spec).document["components"]["schemas"]["Id"] == {"type": "integer"}
    sibling.write_text("Id: {type: string}\n", encoding="utf-8")
    assert spec_cache.load(spec).document["components"]["schemas"]["Id"] == {"type": "string"}
    assert len(loads) == 2


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        "[]",
        '{"format": 1, "key": "another key", "sources": {}, "document": {}, "repairs": []}',
        "\udcff",
    ],
    ids=["truncated", "not an object", "foreign key", "not UTF-8"],
)
def test_a_corrupt_entry_is_ignored_and_rewritten(
    cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch, damage: str
):
    cold = spec_cache.load(spec)
    (entry,) = entries(cache)
    entry.write_bytes(damage.encode("utf-8", "surrogateescape"))
    loads = counting_loads(monkeypatch)
    assert spec_cache.load(spec).document == cold.document
    assert spec_cache.load(spec).document == cold.document
    assert loads == [spec]  # rebuilt once, then read from the rewritten entry
    assert json.loads(entry.read_text(encoding="utf-8"))["document"] == cold.document


def test_an_entry_with_the_right_key_and_wrong_fields_is_ignored(cache: Path, spec: Path):
    cold = spec_cache.load(spec)
    (entry,) = entries(cache)
    stored = json.loads(entry.read_text(encoding="utf-8"))
    entry.write_text(json.dumps({**stored, "repairs": [{"kind": "x"}]}), encoding="utf-8")
    assert spec_cache.load(spec).document == cold.document
    entry.write_text(json.dumps({**stored, "document": ["not", "a", "document"]}), encoding="utf-8")
    assert spec_cache.load(spec).document == cold.document


def test_an_unwritable_directory_loads_with_one_warning(
    tmp_path: Path, spec: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv(spec_cache.CACHE_DIR_ENV, str(blocker / "cache"))
    monkeypatch.setattr(spec_cache, "_warned", set())
    first = spec_cache.load(spec)
    assert spec_cache.load(spec).document == first.document
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: cannot write the spec cache in ")


def test_no_cache_writes_nothing(cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(spec_cache.NO_CACHE_ENV, "1")
    loads = counting_loads(monkeypatch)
    spec_cache.load(spec)
    spec_cache.load(spec)
    assert len(loads) == 2 and not cache.exists()


def test_the_options_that_change_loading_are_in_the_key(cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch):
    data = spec.read_bytes()
    plain = spec_cache.entry_key(spec, data)
    monkeypatch.setenv("APITWIN_ALLOW_EXTERNAL_REFS", "1")
    assert spec_cache.entry_key(spec, data) != plain
    monkeypatch.delenv("APITWIN_ALLOW_EXTERNAL_REFS")
    assert spec_cache.entry_key(spec, data) == plain
    assert spec_cache.entry_key(spec.with_name("other.yaml"), data) != plain
    assert spec_cache.entry_key(spec, data + b"\n") != plain


def test_the_least_recently_used_entries_are_pruned(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(spec_cache, "MAX_ENTRIES", 2)
    for index in range(4):
        path = tmp_path / f"spec{index}.yaml"
        path.write_text(SPEC.replace("version: '1'", f"version: '{index}'"), encoding="utf-8")
        spec_cache.load(path)
    assert len(entries(cache)) == 2


def test_where_the_cache_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(spec_cache.NO_CACHE_ENV, raising=False)
    monkeypatch.setenv(spec_cache.CACHE_DIR_ENV, str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert spec_cache.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv(spec_cache.CACHE_DIR_ENV)
    assert spec_cache.cache_dir() == tmp_path / "xdg" / "apitwin"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert spec_cache.cache_dir() == tmp_path / "home" / ".cache" / "apitwin"
    monkeypatch.setenv(spec_cache.NO_CACHE_ENV, "1")
    assert spec_cache.cache_dir() is None


def test_the_cli_serves_lint_from_an_unwritable_cache_with_one_warning(tmp_path: Path, spec: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    environment = {"APITWIN_CACHE_DIR": str(blocker / "cache"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "apitwin", "specs", "lint", str(spec)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "cannot write the spec cache" in warnings[0]
    assert "0 problems" in result.stdout


BAD_PATTERN = """\
openapi: 3.1.0
info: {title: P, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {n: {type: string, pattern: '('}}}
"""


def counting_lints(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def lint_file(path: Path, spec: BuiltSpec) -> list[Problem]:
        calls.append(path)
        return real_lint_file(path, spec)

    monkeypatch.setattr(spec_cache, "lint_file", lint_file)
    return calls


def test_lint_problems_are_kept_with_the_entry(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PATTERN, encoding="utf-8")
    lints = counting_lints(monkeypatch)
    first = spec_cache.linted(path).problems
    again = spec_cache.linted(path).problems
    assert lints == [path] and again == first
    assert {problem.check for problem in first} == {"openapi-spec-validator", "schema"}
    assert spec_cache.load(path).document == spec_cache.linted(path).document
    assert lints == [path]


def test_a_load_then_a_lint_lints_once_and_other_validator_versions_lint_again(
    cache: Path, spec: Path, monkeypatch: pytest.MonkeyPatch
):
    loads, lints = counting_loads(monkeypatch), counting_lints(monkeypatch)
    spec_cache.load(spec)
    assert spec_cache.linted(spec).problems == []
    assert spec_cache.linted(spec).problems == []
    assert (len(loads), len(lints)) == (1, 1)
    monkeypatch.setattr(spec_cache, "_lint_versions", lambda: "openapi-spec-validator 99")
    spec_cache.linted(spec)
    assert (len(loads), len(lints)) == (1, 2)


def test_specs_lint_of_a_file_reads_the_verdict_back(cache: Path, tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PATTERN, encoding="utf-8")
    environment = {"APITWIN_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "apitwin", "specs", "lint", str(path)]
    runs = [subprocess.run(command, capture_output=True, text=True, check=False, env=environment) for _ in range(2)]
    assert [run.returncode for run in runs] == [1, 1]
    assert runs[0].stdout == runs[1].stdout and "2 problems" in runs[0].stdout
    (entry,) = entries(cache)
    assert len(json.loads(entry.read_text(encoding="utf-8"))["lint"]["problems"]) == 2
