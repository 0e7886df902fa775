"""Planning a run: which operations (filters, shard), and the cases schemathesis draws for each.

Cases are drawn before anything is sent, with a seeded hypothesis run per operation and phase, so a
dry run prints exactly the requests a real run would start with, and the same seed plans the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity
from schemathesis.generation.case import Case
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.modes import GenerationMode

from apitwin.contracts.fuzz.models import constrain_models, known_model_ids
from apitwin.contracts.fuzz.shards import Shard, take_shard
from apitwin.contracts.fuzz.sse import deref, property_names

PHASES = ("examples", "coverage", "fuzzing")
MAX_STREAM_EVENTS = 10_000
"""Read whole streams: the lifecycle and terminator checks need the last event."""


class PlanError(ValueError):
    """A request for a run that cannot be planned (unknown operation, phase, …)."""


@dataclass(slots=True)
class PlannedCase:
    phase: str
    mode: str
    case: Case


@dataclass(slots=True)
class OperationPlan:
    label: str
    operation_id: str
    operation: Any
    cases: list[PlannedCase] = field(default_factory=list)
    skipped: str = ""


@dataclass(slots=True)
class Settings:
    operations: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    max_examples: int = 10
    phases: tuple[str, ...] = ("examples", "fuzzing")
    seed: int = 0
    shard: Shard | None = None


def load_schema(document: dict[str, Any], models: list[str]) -> Any:
    """The schemathesis schema of ``document``, its request bodies narrowed to ``models``."""
    if models:
        document = constrain_models(document, models)
    schema = schemathesis.openapi.from_dict(document)
    schema.config.max_stream_events = MAX_STREAM_EVENTS
    return schema


def select(schema: Any, settings: Settings) -> list[Any]:
    """The operations to run: all, or those named by operationId or ``METHOD /path``; then this shard."""
    operations = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations[operation.label] = operation
    chosen = list(operations)
    if settings.operations:
        chosen = [_find(operations, wanted) for wanted in settings.operations]
    return [operations[label] for label in take_shard(list(dict.fromkeys(chosen)), settings.shard)]


def _find(operations: dict[str, Any], wanted: str) -> str:
    for label, operation in operations.items():
        method, _, path = wanted.strip().partition(" ")
        if operation_id(operation) == wanted.strip() or (
            method.upper() == operation.method.upper() and path.strip() == operation.path
        ):
            return label
    known = ", ".join(sorted(operation_id(operation) or label for label, operation in operations.items()))
    raise PlanError(f"no operation {wanted!r} in the spec; it has: {known}")


def operation_id(operation: Any) -> str:
    return str(operation.definition.raw.get("operationId") or "")


def plan(operation: Any, settings: Settings, forbidden_models: set[str]) -> OperationPlan:
    """The cases for one operation, phase by phase, with unsendable model ids dropped."""
    result = OperationPlan(operation.label, operation_id(operation), operation)
    notes = []
    for phase in settings.phases:
        try:
            cases = _draw_phase(operation, phase, settings)
        except Exception as error:  # an unsatisfiable or unsupported schema: say so, keep the other phases
            notes.append(f"{phase}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            continue
        result.cases += [case for case in cases if not _names_forbidden_model(case.case, forbidden_models)]
    if streams(operation):
        _ask_for_streams(result.cases)
    if not result.cases:
        result.skipped = "; ".join(notes) or "no case could be generated"
    return result


def streams(operation: Any) -> bool:
    """The operation answers ``text/event-stream`` and its body has a ``stream`` switch (the spec's convention)."""
    raw = operation.definition.raw
    document = operation.schema.raw_schema
    answers_stream = any(
        "event-stream" in media
        for response in (raw.get("responses") or {}).values()
        for media in (deref(document, response) or {}).get("content") or {}
    )
    body = deref(document, raw.get("requestBody")) or {}
    return answers_stream and any(
        "stream" in property_names(document, media.get("schema")) for media in (body.get("content") or {}).values()
    )


def _ask_for_streams(cases: list[PlannedCase]) -> None:
    """Every other positive case asks for a stream: hypothesis alone may never draw ``stream: true``."""
    positives = [planned for planned in cases if planned.mode == "positive" and isinstance(planned.case.body, dict)]
    for planned in positives[::2]:
        planned.case.body["stream"] = True


def forbidden_models(document: dict[str, Any], models: list[str]) -> set[str]:
    """Model ids the spec knows that ``--models`` did not allow (never sent, even by a negative case)."""
    return known_model_ids(document) - set(models) if models else set()


def _names_forbidden_model(case: Case, forbidden: set[str]) -> bool:
    body = case.body if isinstance(case.body, dict) else None
    return bool(forbidden) and body is not None and body.get("model") in forbidden


def _draw_phase(operation: Any, phase: str, settings: Settings) -> list[PlannedCase]:
    if phase == "examples":
        return [PlannedCase("examples", "positive", case) for case in _examples(operation, settings)]
    if phase == "coverage":
        return _coverage(operation, settings)
    planned = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            cases = draw(
                operation.as_strategy(generation_mode=mode, phase=TestPhase.FUZZING),
                settings.max_examples,
                settings.seed,
            )
        except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck):
            if mode is GenerationMode.POSITIVE:
                raise
            continue  # nothing to negate in this operation
        planned += [PlannedCase("fuzzing", mode.value, case) for case in cases]
    return planned


def _examples(operation: Any, settings: Settings) -> list[Case]:
    cases = []
    for strategy in operation.get_strategies_from_examples():
        cases += draw(strategy, 1, settings.seed)
    return cases[: settings.max_examples]


def _coverage(operation: Any, settings: Settings) -> list[PlannedCase]:
    from schemathesis.generation.drivers import CoverageGenerator
    from schemathesis.generation.feedback import NO_FEEDBACK
    from schemathesis.generation.overrides import Override

    generator = CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=NO_FEEDBACK,
    )
    planned = []
    for case in generator:
        mode = case.meta.generation.mode.value if case.meta is not None else "positive"
        planned.append(PlannedCase("coverage", mode, case))
        if len(planned) >= settings.max_examples:
            break
    return planned


def draw(strategy: Any, count: int, seed: int) -> list[Case]:
    """Up to ``count`` cases from ``strategy``, the same ones for the same seed."""
    found: list[Case] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        database=None,
        max_examples=count,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @hypothesis.given(strategy)
    def collect(case: Case) -> None:
        found.append(case)

    collect()
    return found[:count]
