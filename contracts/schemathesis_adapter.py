"""Every use of schemathesis beyond its documented entry points, in one place.

apitwin drives schemathesis below its CLI and pytest plugin: it draws cases per phase itself (to
plan a budget breadth first), runs the checks one by one on answers it sent (to group causes), routes
schemathesis' own follow-up requests through the budget, and reuses the JSON-Schema-to-hypothesis
builder for response strategies. Those are internals that change between minor releases, so they are
reached only through this module; ``tests/contracts/test_schemathesis_adapter.py`` holds one test per
internal, and ``pyproject.toml`` pins schemathesis to the minor range those tests pass on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import hypothesis.strategies as st
import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CheckContext, load_all_checks, not_a_server_error, run_checks
from schemathesis.core.errors import InvalidSchema, UnsupportedSchema
from schemathesis.core.transport import is_event_stream
from schemathesis.generation.case import Case
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.modes import GenerationMode

__all__ = [
    "Case",
    "GenerationMode",
    "check_context",
    "coverage_cases",
    "fuzzing_strategy",
    "generation_mode",
    "is_event_stream",
    "json_schema_strategy",
    "load_openapi",
    "route_transport",
    "run_check",
    "standard_checks",
    "with_body",
]


def load_openapi(document: dict[str, Any], *, max_stream_events: int) -> Any:
    """schemathesis' schema of ``document``: whole streams are read, and nothing is masked in reports
    (schemathesis would hide any value whose name looks sensitive: ``max_tokens`` becomes "[Filtered]";
    apitwin hides the one credential it sent itself)."""
    schema = schemathesis.openapi.from_dict(document)
    schema.config.max_stream_events = max_stream_events
    schema.config.output.sanitization.update(enabled=False)
    return schema


def standard_checks() -> list[Callable[..., Any]]:
    """The schemathesis checks a fuzz run applies, in the order a reader expects them."""
    load_all_checks()
    from schemathesis.specs.openapi import checks

    return [
        not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_headers_conformance,
        checks.response_schema_conformance,
        checks.negative_data_rejection,
        checks.positive_data_acceptance,
        checks.ignored_auth,
    ]


def check_context(
    case: Case, phase: str, headers: Mapping[str, str], transport: dict[str, Any], enforced: Any
) -> CheckContext:
    """What schemathesis' checks need to judge an answer apitwin sent itself (``case.call``, not its runner)."""
    config = case.operation.schema.config.checks_config_for(operation=case.operation, phase=phase)
    return CheckContext(
        override=case._override,
        auth=None,
        headers=CaseInsensitiveDict(headers),
        config=config,
        transport_kwargs=transport,
        recorder=None,
        response_checks=None,
        auth_enforced_operations=enforced,
    )


def run_check(case: Case, response: Any, context: CheckContext, check: Callable[..., Any]) -> list[tuple[str, Any]]:
    """``(check name, failure)`` for each failure one check found in ``response``."""
    found: list[tuple[str, Any]] = []

    def collect(name: str, _case: Any, failure: Any) -> None:
        found.append((name, failure))

    run_checks(case=case, response=response, ctx=context, checks=[check], on_failure=collect)
    return found


def fuzzing_strategy(operation: Any, mode: GenerationMode) -> st.SearchStrategy[Case]:
    """The cases of the fuzzing phase in one generation mode."""
    return operation.as_strategy(generation_mode=mode, phase=TestPhase.FUZZING)


def coverage_cases(operation: Any) -> Iterator[Case]:
    """The coverage phase's deterministic cases (boundaries, each missing required field, …), positive and negative."""
    from schemathesis.generation.drivers import CoverageGenerator
    from schemathesis.generation.feedback import NO_FEEDBACK
    from schemathesis.generation.overrides import Override

    yield from CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=NO_FEEDBACK,
    )


def generation_mode(case: Case) -> str:
    """``positive`` or ``negative``: whether the case was drawn to satisfy the schema."""
    return case.meta.generation.mode.value if case.meta is not None else "positive"


def json_schema_strategy(schema: dict[str, Any], *, draft: int) -> st.SearchStrategy[Any] | None:
    """schemathesis' hypothesis strategy for a JSON Schema, or None when it admits nothing (or cannot be modelled)."""
    from schemathesis.generation.jsonschema.builder import EMPTY_STRATEGY, build

    try:
        strategy = build(schema, draft=draft, formats=_formats())
    except (InvalidSchema, UnsupportedSchema):
        return None
    return None if strategy is EMPTY_STRATEGY else strategy


_FORMATS: dict[str, st.SearchStrategy[str]] = {}


def _formats() -> dict[str, st.SearchStrategy[str]]:
    """String formats schemathesis knows (one dict, so its strategy cache keys stay stable)."""
    if not _FORMATS:
        from schemathesis.specs.openapi.formats import STRING_FORMATS, get_default_format_strategies

        _FORMATS.update({**get_default_format_strategies(), **STRING_FORMATS})
    return _FORMATS


class _SessionTransport:
    """The schema's transport, but a request sent without a session (schemathesis' auth probes drop
    the caller's) goes through ``session_for()``, so it is counted and refused like any other."""

    def __init__(self, inner: Any, session_for: Callable[[], requests.Session]) -> None:
        self.inner = inner
        self.session_for = session_for

    def send(self, case: Any, *, session: requests.Session | None = None, **kwargs: Any) -> Any:
        return self.inner.send(case, session=session or self.session_for(), **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def route_transport(schema: Any, session_for: Callable[[], requests.Session]) -> None:
    """Make every request of ``schema`` without a session of its own use ``session_for()``.

    ``schema.transport`` is a read-only property in schemathesis, so the schema's class is swapped
    for a subclass whose property returns the wrapped transport (once; a second call re-wraps)."""
    if getattr(schema, "_apitwin_routed", False):
        rewrapped = _SessionTransport(schema.transport.inner, session_for)
        schema.__class__.transport = property(lambda _self: rewrapped)
        return
    wrapper = _SessionTransport(schema.transport, session_for)
    schema.__class__ = type(
        f"Routed{type(schema).__name__}",
        (type(schema),),
        {"transport": property(lambda _self: wrapper), "_apitwin_routed": True},
    )


def with_body(case: Case, body: Any) -> Case:
    """A new case of the same operation with ``body`` (and the case's parameters); cases do not copy."""
    return case.operation.Case(
        body=body,
        media_type=case.media_type,
        path_parameters=dict(case.path_parameters or {}),
        query=dict(case.query or {}),
        headers=dict(case.headers or {}),
    )
