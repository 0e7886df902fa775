"""schemathesis in-process against the ASGI app: every default check, every operation, 0 failures.

The loopback runs (its CLI, real HTTP) are in ``tests/e2e``; this one drives the same checks
through schemathesis's Python API with the app called directly, which is how a user's own test
suite would embed the mock.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings

import specs
from mockserver import create_app

API_KEY = "asgi-test-key"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Api-Key": "provider-key"}


def _schema(api: str) -> schemathesis.openapi.OpenApiSchema:
    app = create_app([api], self_check=True, api_key=API_KEY)
    return schemathesis.openapi.from_asgi(f"/_apitwin/openapi/{api}.json", app)


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
    @settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(headers=HEADERS)

    run()
