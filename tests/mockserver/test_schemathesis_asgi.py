"""schemathesis in-process against the ASGI app: every default check, every operation, 0 failures.

The loopback runs (its CLI, real HTTP) are in ``tests/e2e``; this one drives the same checks
through schemathesis's Python API with the app called directly, which is how a user's own test
suite would embed the mock.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection

from apitwin import specs
from apitwin.contracts.fuzz.wire import WireJudge
from apitwin.mockserver import create_app

API_KEY = "asgi-test-key"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Api-Key": "provider-key"}


def _schema(api: str) -> schemathesis.openapi.OpenApiSchema:
    app = create_app([api], self_check=True, api_key=API_KEY)
    return schemathesis.openapi.from_asgi(f"/_apitwin/openapi/{api}.json", app)


_JUDGES: dict[int, WireJudge] = {}


def _judge(schema: schemathesis.openapi.OpenApiSchema) -> WireJudge:
    if id(schema) not in _JUDGES:
        _JUDGES[id(schema)] = WireJudge(schema.raw_schema, "http://testserver/")
    return _JUDGES[id(schema)]


def _cases():
    """(schema, operation, mode) for every operation: valid requests, and invalid ones where the
    operation takes any input to break."""
    for api in specs.names():
        schema = _schema(api)
        for result in schema.get_all_operations():
            operation = result.ok()
            yield pytest.param(schema, operation, GenerationMode.POSITIVE, id=f"{api}:{operation.label}:valid")
            raw = operation.definition.raw
            if raw.get("parameters") or raw.get("requestBody") or operation.path_parameters:
                yield pytest.param(schema, operation, GenerationMode.NEGATIVE, id=f"{api}:{operation.label}:invalid")


@pytest.mark.parametrize(("schema", "operation", "mode"), list(_cases()))
def test_every_operation_passes_every_check_in_process(schema, operation, mode):
    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=HEADERS)
        # schemathesis sometimes marks a case negative that is valid as sent (a mutation inside an
        # `anyOf` with a `{}` branch, a one-item array that reads back as a string): the spec, read by
        # the same request validation `apitwin fuzz` and `check-traffic` use, decides those.
        valid_as_sent = mode is GenerationMode.NEGATIVE and _judge(schema).is_valid(response.request)
        case.validate_response(
            response, headers=HEADERS, excluded_checks=[negative_data_rejection] if valid_as_sent else []
        )

    run()
