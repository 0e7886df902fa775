"""External $refs of a user's spec: files beside it are inlined, anything else is one clean line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apitwin.specs.build import normalise_file
from apitwin.specs.errors import SpecError
from apitwin.specs.external_refs import ALLOW_ENV

SPEC = """
openapi: 3.1.0
info: {{title: t, version: '1'}}
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{$ref: '{ref}'}}
"""

COMMON = """
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {$ref: '#/components/schemas/Name'}
    Name: {type: string, minLength: 1}
"""


def _spec(folder: Path, ref: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "openapi.yaml"
    path.write_text(SPEC.format(ref=ref))
    return path


def _schema(document: dict) -> dict:
    return document["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def test_a_file_beside_the_spec_is_inlined_with_its_own_local_refs(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text(COMMON)
    built = normalise_file(_spec(tmp_path, "common.yaml#/components/schemas/Pet"))
    assert _schema(built.document)["properties"]["name"] == {"type": "string", "minLength": 1}
    assert "common.yaml" not in json.dumps(built.document)
    assert built.problems == []


@pytest.mark.parametrize(
    ("ref", "said"),
    [
        ("file:///etc/hostname", "leaves the spec's directory"),
        ("/etc/hostname", "leaves the spec's directory"),
        ("../outside.yaml#/X", "leaves the spec's directory"),
        ("http://127.0.0.1:9/x.json#/X", "never fetches"),
        ("https://example.com/common.yaml", "never fetches"),
        ("missing.yaml#/X", "cannot read missing.yaml"),
        ("common.yaml#/components/schemas/Nope", "/components/schemas/Nope is not in common.yaml"),
    ],
)
def test_what_may_not_be_followed_is_one_spec_error_naming_the_ref(tmp_path: Path, ref: str, said: str) -> None:
    (tmp_path / "spec" / "common.yaml").parent.mkdir(parents=True)
    (tmp_path / "spec" / "common.yaml").write_text(COMMON)
    (tmp_path / "outside.yaml").write_text("X: {type: string}\n")
    with pytest.raises(SpecError) as raised:
        normalise_file(_spec(tmp_path / "spec", ref))
    assert ref in str(raised.value) and said in str(raised.value)
    assert "/paths/~1pets/get/responses/200" in str(raised.value)


def test_files_outside_are_read_when_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "outside.yaml").write_text("X: {type: string, maxLength: 3}\n")
    monkeypatch.setenv(ALLOW_ENV, "1")
    built = normalise_file(_spec(tmp_path / "spec", "../outside.yaml#/X"))
    assert _schema(built.document) == {"type": "string", "maxLength": 3}


def test_a_cycle_across_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("A: {type: array, items: {$ref: 'b.yaml#/B'}}\n")
    (tmp_path / "b.yaml").write_text("B: {type: array, items: {$ref: 'a.yaml#/A'}}\n")
    with pytest.raises(SpecError, match="refers back to itself across files"):
        normalise_file(_spec(tmp_path, "a.yaml#/A"))


def _apitwin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apitwin", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_cli_refuses_in_one_line_and_the_flag_opens_outside_files(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("X: {type: string}\n")
    spec = _spec(tmp_path / "spec", "../outside.yaml#/X")
    refused = _apitwin("specs", "lint", str(spec))
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "leaves the spec's directory" in refused.stderr and "Traceback" not in refused.stderr
    allowed = _apitwin("--allow-external-refs", "specs", "lint", str(spec))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
