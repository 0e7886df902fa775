"""Planning a run: which operations (filters, safety, shard), the cases schemathesis draws for each,
and the order the budget is spent in.

Cases are drawn before anything is sent, with a seeded hypothesis run per operation and phase, so a
dry run prints exactly the requests a real run would send, in the same order, and the same seed plans
the same run. The order is breadth first (:func:`rounds`): every operation gets its first case before
any gets a second, so a budget that is too small still touches everything it can.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity

from apitwin.contracts.fuzz.models import constrain_models, known_model_ids
from apitwin.contracts.fuzz.shards import Shard, take_shard
from apitwin.contracts.schemathesis_adapter import (
    Case,
    GenerationMode,
    coverage_cases,
    fuzzing_strategy,
    generation_mode,
    load_openapi,
)
from apitwin.contracts.sse import property_names
from apitwin.specs.pointer import follow

PHASES = ("examples", "coverage", "fuzzing", "lifecycles")
DRAWN_PHASES = PHASES[:3]
"""Phases whose cases are drawn before the run; ``lifecycles`` follows what the run's creates answered."""
HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
UNSAFE = "x-apitwin-unsafe"
"""Operation extension an overlay sets to the reason (citing the vendor's docs) why fuzzing must not call it."""
MAX_WEIGHT = 64
"""An operation's weight is 1 + the fields it takes, capped: a huge body should not starve the rest."""
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
    weight: int = 1
    """1 + the parameters and request-body fields the operation takes: its share of the budget after round one."""


@dataclass(slots=True)
class Settings:
    operations: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    max_examples: int = 10
    phases: tuple[str, ...] = ("examples", "fuzzing", "lifecycles")
    seed: int = 0
    shard: Shard | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    include_unsafe: bool = False


@dataclass(slots=True)
class Unsafe:
    """A selected operation that is not called: DELETE, or marked ``x-apitwin-unsafe`` by an overlay."""

    label: str
    operation_id: str
    reason: str


@dataclass(slots=True)
class Selection:
    operations: list[Any]
    """What this run (this shard) calls, sorted by label."""
    unsafe: list[Unsafe] = field(default_factory=list)
    """What the filters chose but safety kept back (``--include-unsafe`` calls them)."""


def load_schema(document: dict[str, Any], models: list[str]) -> Any:
    """The schemathesis schema of ``document``, its request bodies narrowed to ``models``."""
    if models:
        document = constrain_models(document, models)
    return load_openapi(document, max_stream_events=MAX_STREAM_EVENTS)


def select(schema: Any, settings: Settings) -> Selection:
    """The operations to run: ``--operations`` / ``--include`` (all when neither), less ``--exclude``,
    less the unsafe ones (unless ``--include-unsafe``); then this shard."""
    operations = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations[operation.label] = operation
    named = [_find(operations, wanted) for wanted in settings.operations]
    chosen = list(operations)
    if settings.operations or settings.include:
        included = set(named)
        for token in settings.include:
            included |= _matching(operations, token, "--include")
        chosen = [label for label in operations if label in included]
    for token in settings.exclude:
        excluded = _matching(operations, token, "--exclude")
        chosen = [label for label in chosen if label not in excluded]
    unsafe = []
    if not settings.include_unsafe:
        for label in list(chosen):
            reason = unsafe_reason(operations[label])
            if reason is None:
                continue
            if label in named:
                raise PlanError(
                    f"{operation_id(operations[label]) or label} is unsafe to call ({reason}); "
                    "pass --include-unsafe to call it anyway"
                )
            unsafe.append(Unsafe(label, operation_id(operations[label]), reason))
            chosen.remove(label)
    if not operations:
        webhooks = len(schema.raw_schema.get("webhooks") or {})
        only = f" (only {webhooks} webhook(s), which the API calls, not its clients)" if webhooks else ""
        raise PlanError(f"no operation to fuzz: the spec declares no paths{only}")
    if not chosen:
        held_back = f"; {len(unsafe)} unsafe operation(s) held back, --include-unsafe calls them" if unsafe else ""
        raise PlanError(f"no operation left to fuzz after --include/--exclude{held_back}")
    return Selection(
        [operations[label] for label in take_shard(list(dict.fromkeys(chosen)), settings.shard)],
        sorted(unsafe, key=lambda item: item.label),
    )


def unsafe_reason(operation: Any) -> str | None:
    """Why calling ``operation`` on a live server is unsafe, or None when it is safe to fuzz."""
    marked = operation.definition.raw.get(UNSAFE)
    if marked:
        return str(marked) if marked is not True else "marked x-apitwin-unsafe"
    if operation.method.upper() == "DELETE":
        return "DELETE: removes what it names"
    return None


def _find(operations: dict[str, Any], wanted: str) -> str:
    for label, operation in operations.items():
        method, _, path = wanted.strip().partition(" ")
        if operation_id(operation) == wanted.strip() or (
            method.upper() == operation.method.upper() and path.strip() == operation.path
        ):
            return label
    known = ", ".join(sorted(operation_id(operation) or label for label, operation in operations.items()))
    raise PlanError(f"no operation {wanted!r} in the spec; it has: {known}")


def _matching(operations: dict[str, Any], token: str, option: str) -> set[str]:
    found = {label for label, operation in operations.items() if matches(operation, token)}
    if not found:
        raise PlanError(
            f"{option} {token!r} matches no operation (give an operationId, a method, a tag, a path regex "
            "starting with / or ^, 'METHOD /path-regex', or prefix id:, method:, tag:, path:)"
        )
    return found


def matches(operation: Any, token: str) -> bool:
    """Whether a ``--include``/``--exclude`` token names ``operation``.

    ``id:X``, ``method:X``, ``tag:X`` and ``path:REGEX`` say what ``X`` is. Unprefixed: an HTTP method,
    ``METHOD /path-regex``, a path regex starting with ``/`` or ``^``, else an operationId or a tag.
    """
    token = token.strip()
    kind, colon, value = token.partition(":")
    kind = kind.strip().lower()
    if colon and kind in ("id", "operationid", "method", "tag", "path"):
        value = value.strip()
        if kind in ("id", "operationid"):
            return operation_id(operation) == value
        if kind == "method":
            return operation.method.upper() == value.upper()
        if kind == "tag":
            return value.casefold() in {tag.casefold() for tag in _tags(operation)}
        return _path_matches(value, operation.path, whole=False)
    if token.upper() in HTTP_METHODS:
        return operation.method.upper() == token.upper()
    method, space, path = token.partition(" ")
    if space and method.upper() in HTTP_METHODS:
        return operation.method.upper() == method.upper() and _path_matches(path.strip(), operation.path, whole=True)
    if token.startswith(("/", "^")):
        return _path_matches(token, operation.path, whole=False)
    return operation_id(operation) == token or token.casefold() in {tag.casefold() for tag in _tags(operation)}


def _path_matches(pattern: str, path: str, *, whole: bool) -> bool:
    if pattern == path:
        return True
    try:
        return bool(re.fullmatch(pattern, path) if whole else re.search(pattern, path))
    except re.error:  # a path template such as /batches/{batch_id} is not a regex: compare it as written
        return False


def _tags(operation: Any) -> list[str]:
    return [str(tag) for tag in operation.definition.raw.get("tags") or ()]


def operation_id(operation: Any) -> str:
    return str(operation.definition.raw.get("operationId") or "")


def plan_within(
    operations: list[Any], settings: Settings, forbidden_models: set[str], max_requests: int | None
) -> list[OperationPlan]:
    """Every operation's plan, in ``operations``' order, drawing no more than a budget can send.

    Without a budget each operation draws ``max_examples`` cases per phase and mode. With one, the order
    :func:`rounds` sends in decides how many cases each operation can get (round one gives each its first,
    heaviest first; the rest go by weight): an operation draws at most that many per phase and mode, and one
    the budget never reaches draws none and is listed as not reached. A small budget against OpenAI's spec
    spent minutes drawing hundreds of cases per operation for a few dozen requests. An operation that runs
    out of cases before its share (its schema allowed fewer) leaves budget to the others, which then draw
    more, until the budget is covered or nobody can draw more."""
    caps = _case_quotas(operations, settings, max_requests)
    plans = [
        _capped(operation, settings, forbidden_models, cap, max_requests)
        for operation, cap in zip(operations, caps, strict=True)
    ]
    while max_requests is not None:
        taken = [0] * len(plans)
        for index, _ in rounds(plans)[:max_requests]:
            taken[index] += 1
        starved = [
            index
            for index, plan in enumerate(plans)
            if plan.cases and taken[index] == len(plan.cases) and caps[index] < settings.max_examples
        ]
        if sum(taken) >= max_requests or not starved:
            return plans
        for index in starved:
            caps[index] = min(settings.max_examples, caps[index] * 2)
            plans[index] = _capped(operations[index], settings, forbidden_models, caps[index], max_requests)
    return plans


def _case_quotas(operations: list[Any], settings: Settings, max_requests: int | None) -> list[int]:
    """Cases per phase and mode each operation can be sent within ``max_requests``, were every operation to
    draw all it may (``max_examples`` per phase and mode)."""
    if max_requests is None:
        return [settings.max_examples] * len(operations)
    groups = sum(2 if phase == "fuzzing" else 1 for phase in settings.phases if phase in DRAWN_PHASES)
    sizes = [groups * settings.max_examples] * len(operations)
    order = send_order(sizes, [weight(operation) for operation in operations], [op.label for op in operations])
    sent = [0] * len(operations)
    for index, _ in order[:max_requests]:
        sent[index] += 1
    return [min(settings.max_examples, count) for count in sent]


def _capped(
    operation: Any, settings: Settings, forbidden_models: set[str], cap: int, max_requests: int | None
) -> OperationPlan:
    if cap == 0:
        skipped = f"not reached: the budget of {max_requests} requests is spent before its turn"
        return OperationPlan(
            operation.label, operation_id(operation), operation, skipped=skipped, weight=weight(operation)
        )
    return plan(operation, replace(settings, max_examples=cap), forbidden_models)


def plan(operation: Any, settings: Settings, forbidden_models: set[str]) -> OperationPlan:
    """The cases for one operation, phase by phase, with unsendable model ids dropped."""
    result = OperationPlan(operation.label, operation_id(operation), operation, weight=weight(operation))
    notes = []
    for phase in (phase for phase in settings.phases if phase in DRAWN_PHASES):
        try:
            cases = _draw_phase(operation, phase, settings)
        except Exception as error:  # noqa: BLE001 -- an unsatisfiable or unsupported schema: say so, keep the rest
            notes.append(f"{phase}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            continue
        result.cases += [case for case in cases if not _names_forbidden_model(case.case, forbidden_models)]
    if streams(operation):
        _ask_for_streams(result.cases)
    result.cases = _interleave(result.cases)
    if not result.cases:
        result.skipped = "; ".join(notes) or "no case could be generated"
    return result


def _interleave(cases: list[PlannedCase]) -> list[PlannedCase]:
    """Examples first, then one case of each (phase, mode) in turn: a cut-short operation still saw both kinds."""
    groups: dict[tuple[str, str], list[PlannedCase]] = {}
    for planned in cases:
        groups.setdefault((planned.phase, planned.mode), []).append(planned)
    ordered: list[PlannedCase] = []
    queues = list(groups.values())
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def weight(operation: Any) -> int:
    """1 + the operation's parameters and request-body fields (nested ones too), at most ``MAX_WEIGHT``."""
    raw = operation.definition.raw
    document = operation.schema.raw_schema
    fields = len(raw.get("parameters") or ())
    body = follow(document, raw.get("requestBody")) or {}
    paths: set[str] = set()
    for media in (body.get("content") or {}).values():
        if isinstance(media, dict):
            _field_paths(document, media.get("schema"), "", paths, 0)
    return min(MAX_WEIGHT, 1 + fields + len(paths))


def _field_paths(document: dict[str, Any], schema: Any, prefix: str, found: set[str], depth: int) -> None:
    schema = follow(document, schema)
    if not isinstance(schema, dict) or depth > 6 or len(found) >= MAX_WEIGHT:
        return
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(keyword) or ():
            _field_paths(document, branch, prefix, found, depth + 1)
    if "items" in schema:
        _field_paths(document, schema["items"], prefix + "[]", found, depth + 1)
    for name, value in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        found.add(path)
        _field_paths(document, value, path, found, depth + 1)


def rounds(plans: list[OperationPlan]) -> list[tuple[int, int]]:
    """The order cases are sent in, as (plan index, case index): the budget is spent in this order.

    Round one gives every operation its first case (heaviest first, then by label); after that, each
    next case goes to the operation with the fewest cases sent per unit of weight (ties: the heavier,
    then round one's order), so operations share what is left in proportion to their input space.
    """
    return send_order(
        [len(plan.cases) for plan in plans], [plan.weight for plan in plans], [plan.label for plan in plans]
    )


def send_order(sizes: list[int], weights: list[int], labels: list[str]) -> list[tuple[int, int]]:
    """:func:`rounds` for operations of these case counts, weights and labels."""
    first = sorted(
        (index for index, size in enumerate(sizes) if size), key=lambda index: (-weights[index], labels[index])
    )
    position = {index: rank for rank, index in enumerate(first)}
    order = [(index, 0) for index in first]
    heap = [(Fraction(1, weights[index]), -weights[index], position[index], index) for index in first]
    heap = [entry for entry in heap if sizes[entry[3]] > 1]
    heapq.heapify(heap)
    taken = dict.fromkeys(first, 1)
    while heap:
        _, negative_weight, rank, index = heapq.heappop(heap)
        order.append((index, taken[index]))
        taken[index] += 1
        if taken[index] < sizes[index]:
            heapq.heappush(heap, (Fraction(taken[index], weights[index]), negative_weight, rank, index))
    return order


def streams(operation: Any) -> bool:
    """The operation answers ``text/event-stream`` and its body has a ``stream`` switch (the spec's convention)."""
    raw = operation.definition.raw
    document = operation.schema.raw_schema
    answers_stream = any(
        "event-stream" in media
        for response in (raw.get("responses") or {}).values()
        for media in (follow(document, response) or {}).get("content") or {}
    )
    body = follow(document, raw.get("requestBody")) or {}
    return answers_stream and any(
        "stream" in property_names(document, media.get("schema")) for media in (body.get("content") or {}).values()
    )


def _ask_for_streams(cases: list[PlannedCase]) -> None:
    """Every other positive case asks for a stream: hypothesis alone may never draw ``stream: true``."""
    positives = [planned for planned in cases if planned.mode == "positive" and isinstance(planned.case.body, dict)]
    for planned in positives[::2]:
        body = planned.case.body
        if isinstance(body, dict):
            body["stream"] = True


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
                fuzzing_strategy(operation, mode),
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
    planned = []
    for case in coverage_cases(operation):
        planned.append(PlannedCase("coverage", generation_mode(case), case))
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
