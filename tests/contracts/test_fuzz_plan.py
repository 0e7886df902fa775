"""The budget plan: breadth first, weighted after round one, safe by default, filters, honest exit codes."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
import schemathesis

from apitwin import specs
from apitwin.contracts.fuzz.events import NotCalled, OperationResult, RunReport
from apitwin.contracts.fuzz.hints import base_url_hint
from apitwin.contracts.fuzz.plan import (
    OperationPlan,
    PlanError,
    Settings,
    load_schema,
    matches,
    plan_within,
    rounds,
    select,
)
from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import faulty_gateway
from tests.e2e.conftest import API_KEY

LMDEPLOY_UNSAFE = {
    "GET /terminate",
    "POST /sleep",
    "POST /wakeup",
    "POST /update_weights",
    "POST /update_weights_from_distributed",
    "POST /init_weights_update_group",
    "POST /destroy_weights_update_group",
    "POST /abort_request",
    "POST /distserve/free_cache",
    "POST /distserve/p2p_connect",
    "POST /distserve/p2p_drop_connect",
    "POST /distserve/p2p_initialize",
}
PROXY_UNSAFE = {
    "POST /nodes/add",
    "POST /nodes/remove",
    "POST /nodes/terminate",
    "GET /nodes/terminate_all",
    "POST /distserve/gc",
}


def labels(api: str) -> set[str]:
    document = specs.load(api)
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def fake_plans(cases_and_weights: dict[str, tuple[int, int]]) -> list[OperationPlan]:
    return [
        OperationPlan(label, label, None, cases=[SimpleNamespace(number=n) for n in range(cases)], weight=weight)
        for label, (cases, weight) in cases_and_weights.items()
    ]


# -- the order ---------------------------------------------------------------------------------


def test_every_operation_gets_its_first_case_before_any_gets_a_second():
    plans = fake_plans({"GET /a": (5, 1), "POST /b": (20, 30), "POST /c": (20, 3), "GET /d": (1, 1)})
    order = rounds(plans)
    assert sorted(index for index, case in order[:4]) == [0, 1, 2, 3]
    assert all(case == 0 for _, case in order[:4])
    assert [plans[index].label for index, _ in order[:2]] == ["POST /b", "POST /c"]  # heaviest first
    assert len(order) == 46 and len(set(order)) == 46  # every case once
    for index, plan in enumerate(plans):  # each operation's cases in their own order
        assert [case for i, case in order if i == index] == list(range(len(plan.cases)))


def test_after_round_one_the_budget_follows_the_weights():
    plans = fake_plans({"POST /big": (100, 30), "POST /small": (100, 3), "GET /tiny": (100, 1)})
    first_hundred = [plans[index].label for index, _ in rounds(plans)[:100]]
    counts = {label: first_hundred.count(label) for label in ("POST /big", "POST /small", "GET /tiny")}
    assert counts["POST /big"] > 7 * counts["POST /small"] > 0
    assert counts["POST /small"] >= 2 * counts["GET /tiny"] >= 2
    # interleaved, not one operation's cases in a block: no run of the heavy one longer than its weight allows
    letters = "".join(label.split("/")[1][0] for label in first_hundred)
    assert max(len(run) for run in re.findall("b+", letters)) <= 11, letters


def test_an_operation_without_cases_has_no_place_in_the_order():
    plans = fake_plans({"GET /a": (0, 1), "GET /b": (2, 1)})
    assert rounds(plans) == [(1, 0), (1, 1)]


# -- selection ---------------------------------------------------------------------------------

SMALL = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/v1/chat": {"post": {"operationId": "chat", "tags": ["Chat"], "responses": {"200": {"description": "ok"}}}},
        "/v1/files/{id}": {
            "get": {
                "operationId": "getFile",
                "tags": ["Files"],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            },
            "delete": {
                "operationId": "deleteFile",
                "tags": ["Files"],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            },
        },
        "/admin/stop": {
            "post": {
                "operationId": "stop",
                "x-apitwin-unsafe": "stops the server (docs: Stop)",
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/health": {"get": {"operationId": "health", "responses": {"200": {"description": "ok"}}}},
    },
}


def chosen(**settings) -> tuple[list[str], list[str]]:
    selection = select(schemathesis.openapi.from_dict(SMALL), Settings(**settings))
    return [operation.label for operation in selection.operations], [item.label for item in selection.unsafe]


def test_unsafe_and_delete_are_held_back_by_default():
    calls, held = chosen()
    assert calls == ["GET /health", "GET /v1/files/{id}", "POST /v1/chat"]
    assert held == ["DELETE /v1/files/{id}", "POST /admin/stop"]
    calls, held = chosen(include_unsafe=True)
    assert len(calls) == 5 and held == []


def test_naming_an_unsafe_operation_without_include_unsafe_is_an_error():
    with pytest.raises(PlanError, match=r"stop is unsafe to call \(stops the server"):
        chosen(operations=["stop"])
    assert chosen(operations=["stop"], include_unsafe=True)[0] == ["POST /admin/stop"]


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["chat"], [], ["POST /v1/chat"]),  # operationId
        (["GET"], [], ["GET /health", "GET /v1/files/{id}"]),  # method
        (["files"], [], ["GET /v1/files/{id}"]),  # tag, case-insensitively; DELETE still held back
        (["^/v1/"], [], ["GET /v1/files/{id}", "POST /v1/chat"]),  # path regex
        (["GET /v1/files/.*"], [], ["GET /v1/files/{id}"]),  # METHOD /path-regex
        (["GET /v1/files/{id}"], [], ["GET /v1/files/{id}"]),  # METHOD /template as written
        (["path:chat", "tag:Files"], [], ["GET /v1/files/{id}", "POST /v1/chat"]),  # prefixed forms, a union
        ([], ["GET"], ["POST /v1/chat"]),
        (["/v1/"], ["id:chat"], ["GET /v1/files/{id}"]),
    ],
)
def test_include_and_exclude(include, exclude, expected):
    assert chosen(include=include, exclude=exclude)[0] == expected


@pytest.mark.parametrize(("option", "token"), [("include", "nothing-like-it"), ("exclude", "/nope")])
def test_a_filter_matching_nothing_is_an_error(option, token):
    with pytest.raises(PlanError, match=f"--{option} '{re.escape(token)}' matches no operation"):
        chosen(**{option: [token]})


def test_nothing_left_is_an_error_that_names_the_unsafe_ones():
    with pytest.raises(PlanError, match="2 unsafe operation"):
        chosen(include=["method:delete", "id:stop"])


def test_matches_reads_methods_without_mistaking_them_for_paths():
    operation = SimpleNamespace(
        method="post", path="/get_ppl", definition=SimpleNamespace(raw={"operationId": "post_get_ppl"})
    )
    assert not matches(operation, "GET") and matches(operation, "POST") and matches(operation, "/get_")


# -- the command line --------------------------------------------------------------------------


def dry_run(*args: str) -> tuple[int, str]:
    result = fuzz(*args, "--dry-run")
    return result.exit_code, result.output


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) == 8 and re.match(r"(GET|POST|PUT|PATCH|DELETE) /", cells[1]):
            rows[cells[1]] = cells
    return rows


def test_dry_run_of_lmdeploy_reaches_every_safe_operation_within_100_requests():
    code, output = dry_run("lmdeploy", "--max-requests", "100")
    assert code == 0, output
    rows = table_rows(output)
    assert set(rows) == labels("lmdeploy") - LMDEPLOY_UNSAFE
    assert all(int(row[5]) >= 1 for row in rows.values()), output  # "sent" within the budget
    assert sum(int(row[5]) for row in rows.values()) == 100
    firsts = sorted(int(row[0].lstrip("#")) for row in rows.values())
    assert firsts == list(range(1, len(rows) + 1))  # round one: positions 1..13, one per operation
    assert rows["POST /v1/chat/completions"][0] in ("#1", "#2")  # the LLM endpoints come first, not /terminate
    for label in LMDEPLOY_UNSAFE:
        assert f"not called (unsafe, --include-unsafe calls it): {label} " in output
    positions = re.findall(r"^\s+#(\d+)(?:-#(\d+))? (\S+ \S+) x(\d+)$", output, re.MULTILINE)
    assert sum(int(count) for *_, count in positions) == 100
    assert "would send 100 requests to 13 operations (--max-requests 100 of" in output


def test_dry_run_says_how_many_operations_a_small_budget_leaves_out():
    code, output = dry_run("lmdeploy", "--max-requests", "5")
    assert code == 0
    assert "would send 5 requests to 5 operations" in output
    assert "8 of 13 operations would not be exercised" in output


def test_proxy_node_management_is_held_back():
    _, output = dry_run("lmdeploy-proxy")
    assert set(table_rows(output)) == labels("lmdeploy-proxy") - PROXY_UNSAFE
    _, output = dry_run("lmdeploy-proxy", "--include-unsafe")
    assert set(table_rows(output)) == labels("lmdeploy-proxy")


@pytest.mark.parametrize(
    "args",
    [
        ("lmdeploy", "--operations", "post_v1_chat_completions", "GET /health"),
        ("lmdeploy", "--operations", "post_v1_chat_completions,GET /health"),
        ("lmdeploy", "--operations", "post_v1_chat_completions", "--operations", "GET /health"),
        ("--operations", "post_v1_chat_completions", "GET /health", "lmdeploy"),
        ("lmdeploy", "--include", "post_v1_chat_completions", "/health$", "--max-examples", "1"),
    ],
)
def test_operations_and_include_take_several_values_every_way(args):
    code, output = dry_run(*args)
    assert code == 0, output
    assert set(table_rows(output)) == {"POST /v1/chat/completions", "GET /health"}


def test_usage_errors_exit_2():
    assert dry_run("lmdeploy", "--operations", "post_sleep")[0] == 2
    code, output = dry_run("lmdeploy", "--exclude", "nothing-like-it")
    assert code == 2 and "matches no operation" in output
    assert dry_run("lmdeploy", "--include", "post_sleep", "--include-unsafe")[0] == 0


# -- exit codes and hints (no network) ---------------------------------------------------------


def report_of(*operations: OperationResult, **fields) -> RunReport:
    return RunReport(api="x", base_url="http://127.0.0.1:9/v1", seed=0, operations=list(operations), **fields)


def test_exit_codes():
    exercised = OperationResult("GET /a", "a", planned=1, sent=1, answered=1, statuses={"200": 1})
    unreached = OperationResult("GET /b", "b", planned=1, skipped="the budget of 1 requests is spent")
    assert report_of(exercised).exit_code == 0
    assert report_of(exercised, unreached).exit_code == 3
    failing = OperationResult("GET /c", "c", planned=1, sent=1, answered=1)
    failing.failures.append(SimpleNamespace(check="not_a_server_error"))
    assert report_of(exercised, unreached, failing).exit_code == 1


def test_report_round_trips_with_the_unsafe_list():
    report = report_of(
        OperationResult("GET /a", "a", answered=1), unsafe=[NotCalled("GET /terminate", "t", "shuts it down")]
    )
    again = RunReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.unsafe == report.unsafe and again.operations[0].exercised


def test_hint_for_404s_names_the_servers_prefix_and_the_mock_prefix():
    document = {"servers": [{"url": "https://api.example.com/v2"}]}
    report = report_of(OperationResult("GET /a", "a", answered=10, statuses={"404": 9, "200": 1}))
    hint = base_url_hint(report, document, "lmdeploy")
    assert hint is not None and "9 of 10 answers were 404" in hint
    assert "--base-url http://127.0.0.1:9/v2 (the spec's servers say https://api.example.com/v2)" in hint
    assert "--base-url http://127.0.0.1:9/lmdeploy (`apitwin serve` serving several APIs" in hint
    assert "--base-url http://127.0.0.1:9 (the spec's paths at the gateway's root)" in hint
    healthy = report_of(OperationResult("GET /a", "a", answered=10, statuses={"404": 2, "200": 8}))
    assert base_url_hint(healthy, document, "lmdeploy") is None


def test_hint_for_connection_errors():
    operation = OperationResult("GET /a", "a", errors=["GET /a: ConnectionError: Connection refused"] * 3)
    hint = base_url_hint(report_of(operation), {}, None)
    assert hint is not None and "3 of 3 requests could not connect" in hint


# -- against the mock, through a counting gateway ----------------------------------------------


@pytest.mark.e2e
def test_100_requests_exercise_every_safe_operation_and_never_an_unsafe_one(mock_url, tmp_path):
    report = tmp_path / "run.json"
    with faulty_gateway(mock_url("lmdeploy"), "none", API_KEY) as (url, gateway):
        result = fuzz("lmdeploy", "--base-url", url, "--max-requests", "100", "--json", str(report))
    called = set(gateway.calls)
    assert called == labels("lmdeploy") - LMDEPLOY_UNSAFE, result.output[-3000:]
    assert not called & LMDEPLOY_UNSAFE
    assert gateway.requests == 100 == json.loads(report.read_text())["requests_sent"]
    assert result.exit_code == 0, result.output[-3000:]
    assert "13 of 13 operations exercised" in result.output


@pytest.mark.e2e
def test_a_budget_too_small_exits_3_with_the_count(mock_url):
    with faulty_gateway(mock_url("lmdeploy"), "none", API_KEY) as (url, gateway):
        result = fuzz("lmdeploy", "--base-url", url, "--max-requests", "6")
    assert result.exit_code == 3, result.output[-3000:]
    assert "7 of 13 operations not exercised" in result.output
    assert gateway.requests == 6 and len(gateway.calls) == 6  # six requests, six different operations


@pytest.mark.e2e
def test_a_wrong_prefix_gets_a_hint(mock_url):
    result = fuzz("lmdeploy", "--base-url", mock_url("lmdeploy") + "/v1", "--max-requests", "13")
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "13 of 13 answers were 404" in output
    assert f"--base-url {mock_url('lmdeploy')} (the spec's paths at the gateway's root)" in output
    assert f"--base-url {mock_url('lmdeploy')}/lmdeploy (`apitwin serve` serving several APIs" in output


# -- drawing within the budget -------------------------------------------------------------------


@pytest.fixture(scope="module")
def lmdeploy_operations():
    settings = Settings(max_examples=4)
    return select(load_schema(specs.load("lmdeploy"), []), settings).operations, settings


def sends(plans: list[OperationPlan], budget: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for index, _ in rounds(plans)[:budget]:
        counts[plans[index].label] = counts.get(plans[index].label, 0) + 1
    return counts


@pytest.mark.parametrize("budget", [5, 40])
def test_a_budget_draws_only_what_it_can_send_and_sends_as_the_full_plan_would(lmdeploy_operations, budget):
    """A budget of 30 against OpenAI's spec drew every case of 245 operations first (~105 s of 108)."""
    operations, settings = lmdeploy_operations
    full = plan_within(operations, settings, set(), None)
    budgeted = plan_within(operations, settings, set(), budget)
    assert sends(budgeted, budget) == sends(full, budget)
    assert sum(len(plan.cases) for plan in budgeted) < sum(len(plan.cases) for plan in full)
    unreached = [plan for plan in budgeted if not plan.cases]
    if budget < len(operations):
        assert len(unreached) == len(operations) - budget
        assert all(plan.skipped.startswith("not reached: the budget of 5 requests") for plan in unreached)
    else:
        assert unreached == []
