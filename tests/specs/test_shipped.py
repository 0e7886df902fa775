"""The six shipped specs: present, lint-clean, loadable by schemathesis, and current with the seeds."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from apitwin import specs
from apitwin.specs.catalogue import SHIPPED
from apitwin.specs.inventory import model_ids, operations
from apitwin.specs.lint import lint
from apitwin.specs.validation import SchemaChecker

NAMES = [api.name for api in SHIPPED]


@pytest.mark.parametrize("name", NAMES)
def test_shipped_spec_is_lint_clean(name):
    assert [str(problem) for problem in lint(specs.load(name))] == []


def test_the_catalogue_ships_six_apis():
    assert NAMES == ["aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"]


def test_aimlapi_keeps_all_operations_and_model_ids():
    """The dump's fragments document 30 (method, path) pairs and 390 model ids; all are served, and so are the 16
    ids that pages linking their schema list (13 embedding models, 3 Llama Guard models).

    ``POST /chat/completions`` is the unversioned alias of ``POST /v1/chat/completions`` (the docs
    say both base URLs work), so it is one operation with two paths, not an operation of its own.
    ``GET /v1/models`` is the overlay's OpenAI-style page of the same models for OpenAI clients, and
    ``POST /v2/generate/audio/minimax/upload`` the operation music-01.md links instead of embedding.
    """
    document = specs.load("aimlapi")
    added = {("GET", "/v1/models"), ("POST", "/v2/generate/audio/minimax/upload")}
    own = {(op.method, op.path) for op in operations(document)} - added
    every = {(op.method, op.path) for op in operations(document, aliases=True)}
    assert len(own) == 29 and added <= every
    assert ("POST", "/chat/completions") in every - own
    assert len(own | {("POST", "/chat/completions")}) == 30
    assert len(model_ids(document)) == 406


def test_load_is_cached():
    assert specs.load("aimlapi") is specs.load("aimlapi")


def _operations(name):
    schema = schemathesis.openapi.from_dict(specs.load(name))
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("name", NAMES)
def test_schemathesis_generates_valid_requests_for_every_operation(name):
    """Property: every request schemathesis generates as valid validates against the spec."""
    document = specs.load(name)
    checker = SchemaChecker(document)
    generated = _operations(name)
    assert generated, f"{name}: schemathesis found no operations"
    for operation in generated:
        _check_generated_requests(operation, checker)


def _check_generated_requests(operation, checker):
    definition = operation.definition.raw

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def property_holds(case):
        body = (definition.get("requestBody") or {}).get("content", {}).get(case.media_type or "", {})
        if "schema" in body and case.media_type and case.media_type.endswith("json"):
            assert checker.error(body["schema"], case.body) is None, f"{operation.label}: {case.body!r}"
        for parameter in definition.get("parameters") or []:
            values = {"query": case.query, "path": case.path_parameters, "header": case.headers}.get(
                parameter.get("in")
            ) or {}
            if parameter.get("required") and parameter.get("in") in ("query", "path"):
                assert parameter["name"] in values, f"{operation.label}: required {parameter['name']} missing"
            schema = parameter.get("schema") or {}
            if parameter["name"] in values and parameter.get("in") == "path" and schema.get("type") == "string":
                assert checker.error(schema, values[parameter["name"]]) is None

    property_holds()


def test_readme_catalogue_is_generated_from_the_specs():
    from apitwin.specs.catalogue import SPECS_DIR
    from apitwin.specs.readme import CATALOGUE_START, catalogue_markdown, replace_section

    readme = (SPECS_DIR.parent / "README.md").read_text(encoding="utf-8")
    assert CATALOGUE_START in readme
    assert replace_section(readme, catalogue_markdown()) == readme, "README catalogue is stale: run `make specs`"
