"""pytest plugin for client teams: a spec-true mock per test, and a test fails when its client
breaks the spec.

- ``apitwin_mock``: the mock named by ``@pytest.mark.apitwin(api="aimlapi", seed=1, strict=True,
  responses="generate", reject_invalid=True, api_key=None, self_check=True)``;
- ``apitwin_mock_factory(api, **options)``: several mocks in one test;
- ``apitwin_mock.requests(operation="createChatCompletion")``: the requests it received, bodies parsed, and
  ``apitwin_mock.assert_called(operation, times=1, body_matches={...})`` (``contracts.verification``).

In strict mode (the default) every request is checked against the spec; after the test body the
test fails listing each violation (request, field, expected, received), and a failure the client
already raised gets that list as a note. Every violation is also listed by test in a summary at
the end of the run (also under pytest-xdist: it travels in the reports' ``user_properties``).

Heavy imports (the mock server, hypothesis strategies) happen when a fixture is first used, so the
plugin costs nothing in a test run that does not use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from apitwin.contracts.client_mode import ApitwinMock, MockSettings, RunningMock

MARKER = "apitwin"
PROPERTY = "apitwin"
"""Name of the ``user_properties`` entry carrying a test's violations to the summary."""
USED_MOCKS = pytest.StashKey[list["ApitwinMock"]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(api, seed=0, strict=True, responses='generate', reject_invalid=True, api_key=None, self_check=True, "
        "replay=None, replay_strict=False): "
        "the spec mock the apitwin_mock fixture serves",
    )
    config.pluginmanager.register(ViolationSummary(), "apitwin-violation-summary")


class MockPool:
    """Mocks by server settings: each started once per session and shared by the tests asking for it."""

    def __init__(self) -> None:
        self._mocks: dict[tuple[Any, ...], RunningMock] = {}

    def get(self, settings: MockSettings) -> RunningMock:
        from apitwin.contracts.client_mode import RunningMock

        key = settings.server_key()
        if key not in self._mocks:
            self._mocks[key] = RunningMock(settings)
        return self._mocks[key]

    def close(self) -> None:
        for mock in self._mocks.values():
            mock.stop()
        self._mocks.clear()


@pytest.fixture(scope="session")
def apitwin_pool() -> Iterator[MockPool]:
    pool = MockPool()
    yield pool
    pool.close()


@pytest.fixture
def apitwin_mock_factory(request: pytest.FixtureRequest, apitwin_pool: MockPool) -> Callable[..., ApitwinMock]:
    """``apitwin_mock_factory("aimlapi", seed=1, strict=False)`` → a mock for this test."""

    def make(api: str, **options: Any) -> ApitwinMock:
        from apitwin.contracts.client_mode import MockConfigError, MockSettings
        from apitwin.mockserver.replay import ReplayError

        replay = options.get("replay")
        if replay is not None:
            options = {**options, "replay": str(request.config.rootpath / replay)}  # an absolute path stays as it is
        try:
            settings = MockSettings.from_options(api, options)
            return _attach(request.node, apitwin_pool, settings)
        except (MockConfigError, ReplayError, TypeError) as error:
            raise pytest.UsageError(str(error)) from None

    return make


@pytest.fixture
def apitwin_mock(request: pytest.FixtureRequest, apitwin_mock_factory: Callable[..., ApitwinMock]) -> ApitwinMock:
    """The mock ``@pytest.mark.apitwin(api=...)`` describes (the closest marker wins)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: apitwin_mock needs @pytest.mark.{MARKER}(api='<name>') (or use "
            f"apitwin_mock_factory)"
        )
    options = dict(marker.kwargs)
    api = options.pop("api", None) or (marker.args[0] if marker.args else None)
    return apitwin_mock_factory(api, **options)


def _attach(item: pytest.Item, pool: MockPool, settings: MockSettings) -> ApitwinMock:
    from apitwin.contracts.client_mode import ApitwinMock

    running = pool.get(settings)
    used = item.stash.setdefault(USED_MOCKS, [])
    if not any(mock.running is running for mock in used):
        running.reset()  # the log and the chosen answers start empty for every test
    mock = ApitwinMock(running, settings)
    used.append(mock)
    return mock


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Judge the test's requests once its body has run: strict mocks turn violations into a failure."""
    uses_mock = bool({"apitwin_mock", "apitwin_mock_factory"} & set(getattr(item, "fixturenames", ())))
    try:
        with _examples_printed(uses_mock):
            result = yield
    except Exception as error:  # pytest's outcomes (skip, xfail) are BaseExceptions and pass untouched
        message = _judge(item)
        if message:
            error.add_note(message)
        raise
    message = _judge(item)
    if message:
        pytest.fail(message, pytrace=False)
    return result


@contextlib.contextmanager
def _examples_printed(wanted: bool) -> Iterator[None]:
    """Hypothesis's own printer while a mock test runs.

    schemathesis's pytest plugin swaps hypothesis's printer for one that prints nothing (for its
    own speed), which would leave a shrunk response out of the failure report (``answer=,``).
    """
    if not wanted:
        yield
        return
    from hypothesis import core
    from hypothesis.vendor import pretty

    swapped = core.RepresentationPrinter
    core.RepresentationPrinter = pretty.RepresentationPrinter  # type: ignore[misc]
    try:
        yield
    finally:
        core.RepresentationPrinter = swapped  # type: ignore[misc]


def _judge(item: pytest.Item) -> str:
    """The failure message of the strict mocks with violations ('' if none), recording every
    mock's violations for the summary."""
    used = item.stash.get(USED_MOCKS, [])
    if not used:
        return ""  # a test without a mock must not pay for importing the mock server
    from apitwin.contracts.client_mode import render_violations

    seen: set[int] = set()
    failures: list[str] = []
    for mock in used:
        if id(mock.running) in seen:
            continue
        seen.add(id(mock.running))
        failures.extend(dict.fromkeys(mock.running.responder.unanswered))  # a usage error, strict or not
        records = mock.requests
        if not any(record.violations for record in records):
            continue
        strict = any(other.settings.strict for other in used if other.running is mock.running)
        text = render_violations(records, mock.api)
        item.user_properties.append((PROPERTY, {"api": mock.api, "strict": strict, "text": text}))
        if strict:
            failures.append(text)
    return "\n".join(failures)


class ViolationSummary:
    """Collects every test's violations from the reports and lists them at the end of the run."""

    def __init__(self) -> None:
        self.by_test: dict[str, list[dict[str, Any]]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == PROPERTY and isinstance(value, dict):
                self.by_test.setdefault(report.nodeid, []).append(value)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.by_test:
            return
        terminalreporter.section("apitwin contract violations", sep="=")
        for nodeid, entries in self.by_test.items():
            for entry in entries:
                verdict = "failed the test (strict)" if entry.get("strict") else "recorded (strict=False)"
                terminalreporter.write_line(f"{nodeid}: {verdict}")
                for line in str(entry.get("text", "")).splitlines():
                    terminalreporter.write_line("  " + line)
        terminalreporter.write_line(f"apitwin: violations in {len(self.by_test)} test(s)")
