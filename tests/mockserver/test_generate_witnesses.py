"""mockserver/generate_nodes.py ``Witnesses``: a node that judges its draws never fails on a satisfiable schema.

The property runs over every node that can reject a draw, in every response schema of every shipped spec and of
the real published specs in ``../shared/foreign-specs``; ``python -m bench generation`` runs it over many more seeds.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apitwin import specs
from apitwin.mockserver.generate import Generator, judging_nodes
from apitwin.mockserver.generate_nodes import INF
from apitwin.mockserver.operations import RESPONSE_OPTIONAL_RATE
from apitwin.specs.validation import SchemaChecker
from tests.mockserver.test_generate import APIS_DIR, response_schemas

FOREIGN = Path(__file__).resolve().parents[2].parent / "shared" / "foreign-specs"
SHIPPED = sorted(path.parent.name for path in APIS_DIR.glob("*/openapi.json"))
# The OAI examples and the newest OpenAI spec; the month-older one is the bench's (it adds ~25 s of loading).
PUBLISHED = [*sorted(str(path) for path in FOREIGN.glob("oai-*.yaml")), str(FOREIGN / "openai-2026-08-21.yaml")]
GENERATORS = {"server": (RESPONSE_OPTIONAL_RATE, 0.0), "sparse": (0.5, 0.25)}
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)

# Only arrays and fractions match exactly one branch: the `{}` branch draws mostly strings, and everything else
# it draws (integers, booleans, objects, null) is taken by a sibling as well.
ONLY_ARRAYS_SEPARATE = {
    "oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "null"}, {"type": "object"}, {}]
}


def draw(schema: Any, seed: int) -> Any:
    return Generator({}).compile(schema).generate(random.Random(seed))


def test_a_oneof_that_drawing_cannot_separate_is_answered_from_witnesses(caplog):
    caplog.set_level(logging.INFO, logger="apitwin.generate")
    values = [draw(ONLY_ARRAYS_SEPARATE, seed) for seed in range(40)]
    for value in values:
        assert SchemaChecker({}).error(ONLY_ARRAYS_SEPARATE, value) is None, value
    assert len({repr(value) for value in values}) > 1  # more than one witness, chosen by the seed
    repairs = [record.getMessage() for record in caplog.records if "witnesses" in record.getMessage()]
    assert repairs and "oneOf" in repairs[0]


def test_a_not_no_draw_escapes_is_answered_from_witnesses():
    schema = {"not": {"type": ["string", "integer", "boolean", "null", "object"]}}
    for seed in range(20):
        value = draw(schema, seed)
        assert isinstance(value, (list, float)), value


def test_witnesses_keep_answers_a_function_of_the_seed():
    first = Generator({}).compile(ONLY_ARRAYS_SEPARATE)
    second = Generator({}).compile(ONLY_ARRAYS_SEPARATE)
    second.generate(random.Random(99))  # the second generator found its witnesses while drawing another seed
    assert [first.generate(random.Random(seed)) for seed in range(10)] == [
        second.generate(random.Random(seed)) for seed in range(10)
    ]


@pytest.fixture(scope="module", params=SHIPPED + PUBLISHED, ids=lambda name: Path(name).stem)
def compiled_spec(request):
    if not Path(request.param).exists() and request.param not in SHIPPED:
        pytest.skip("needs ../shared/foreign-specs")
    document = specs.load(request.param)
    spec = CompiledSpec(Path(request.param).stem, document)
    for optional_rate, null_rate in GENERATORS.values():
        generator = Generator(document, optional_rate=optional_rate, null_rate=null_rate)
        for location, schema in response_schemas(document):
            spec.compiled.append((location, schema, generator.compile(schema, location)))
    return spec


class CompiledSpec:
    """A spec's response schemas compiled by both generators (a short repr for hypothesis's reports)."""

    def __init__(self, name: str, document: dict[str, Any]) -> None:
        self.name = name
        self.document = document
        self.compiled: list[tuple[str, Any, Any]] = []

    def __repr__(self) -> str:
        return f"<{self.name}: {len(self.compiled)} response schemas>"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=SEEDS)
def test_every_response_schema_and_every_judging_node_in_it_draws_a_valid_value(compiled_spec, seed):
    """One test, so the 3 MB OpenAI spec is loaded once (~25 s)."""
    checker = SchemaChecker(compiled_spec.document)
    for location, schema, compiled in compiled_spec.compiled:
        value = compiled.generate(random.Random(seed))
        assert checker.error(schema, value) is None, (location, seed, checker.error(schema, value))
        for node in judging_nodes(compiled.node):
            if node.cost == INF:
                continue  # unsatisfiable, so never drawn: the union or property above it skips it
            for budget in (compiled.max_depth, 0):
                value = node.gen(random.Random(seed), budget)
                assert node.ok(value), (location, node.pointer, seed, budget, value)
