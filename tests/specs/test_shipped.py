"""The six shipped specs: present, lint-clean, loadable by schemathesis, and current with the seeds."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import specs
from specs.build import build_api, render
from specs.catalogue import SHIPPED
from specs.inventory import model_ids, operations
from specs.lint import lint
from specs.validation import SchemaChecker

NAMES = [api.name for api in SHIPPED]


@pytest.mark.parametrize("name", NAMES)
def test_shipped_spec_is_lint_clean(name):
    assert [str(problem) for problem in lint(specs.load(name))] == []


def test_the_catalogue_ships_six_apis():
    assert NAMES == ["aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"]


def test_aimlapi_keeps_all_operations_and_model_ids():
    document = specs.load("aimlapi")
    assert len(operations(document)) == 30
    assert len(model_ids(document)) == 390


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
        strategy = operation.as_strategy()

        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=strategy)
        def property_holds(case, operation=operation):
            definition = operation.definition.raw
            body = (definition.get("requestBody") or {}).get("content", {}).get(case.media_type or "", {})
            if "schema" in body and case.media_type and case.media_type.endswith("json"):
                assert checker.error(body["schema"], case.body) is None, f"{operation.label}: {case.body!r}"
            for parameter in definition.get("parameters") or []:
                values = {"query": case.query, "path": case.path_parameters, "header": case.headers}.get(parameter.get("in")) or {}
                if parameter["name"] in values and parameter.get("schema", {}).get("type") in ("object", "array", None):
                    continue  # serialised forms are schemathesis' business
                if parameter.get("required") and parameter.get("in") in ("query", "path"):
                    assert parameter["name"] in values, f"{operation.label}: required {parameter['name']} missing"

        property_holds()


@pytest.mark.seeds
@pytest.mark.parametrize("api", SHIPPED, ids=NAMES)
def test_committed_spec_is_what_the_seeds_build(api, seeds):
    built = build_api(api, seeds)
    assert render(built.document) == api.spec_path.read_text(encoding="utf-8"), (
        f"specs/apis/{api.name} is stale: run `make specs` and commit the result"
    )
    assert render(built.repairs.as_list()) == api.repairs_path.read_text(encoding="utf-8")
