"""``apitwin fuzz replay REPORT.json [N …]``: send a reported failure's request again and say whether it
still fails.

The JSON report keeps, per cause, the request exactly as it went over the wire (the credential replaced
by ``$APITWIN_API_KEY``, the body whole, as bytes when it was not text). Replay sends it again (to the
report's gateway, or ``--base-url``) and judges the answer with the checks ``apitwin proxy`` and
``check-traffic`` use: the status the spec documents, the body against its schema, every event of a
stream. A failure reproduces when the new answer still breaks the spec, or when, for the checks only
a fuzzer's intent explains, the answer still shows it (a 5xx; an invalid request accepted; a lifecycle
follow-up answering 404 or 410).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from apitwin.contracts.fuzz.events import Failure, RunReport
from apitwin.contracts.fuzz.repro import reveal
from apitwin.contracts.proxy.findings import Finding
from apitwin.contracts.proxy.judge import Judge
from apitwin.mockserver.operations import CompiledApi
from apitwin.recordings.records import RecordedExchange, RecordedRequest, RecordedResponse

NOT_SENT = {"content-length", "host", "connection", "accept-encoding"}
"""Headers the HTTP client sets itself for the re-sent request."""
LOST = (404, 410)


class ReplayError(ValueError):
    """A report or failure number that cannot be replayed (named in the message)."""


@dataclass(slots=True)
class Replayed:
    number: int
    failure: Failure
    status: int | None = None
    findings: list[Finding] = field(default_factory=list)
    still: list[str] = field(default_factory=list)
    """Why the failure still reproduces (empty: it does not)."""
    error: str = ""

    @property
    def reproduces(self) -> bool:
        return bool(self.still)


def pick(report: RunReport, numbers: list[int]) -> list[tuple[int, Failure]]:
    """Failures by their 1-based number in the report (all when ``numbers`` is empty)."""
    failures = report.failures
    if not failures:
        raise ReplayError("the report has no failures to replay")
    for number in numbers:
        if not 1 <= number <= len(failures):
            raise ReplayError(f"failure {number} is not in the report (it has {len(failures)}: 1-{len(failures)})")
    chosen = numbers or list(range(1, len(failures) + 1))
    return [(number, failures[number - 1]) for number in chosen]


def replay(
    api: CompiledApi,
    report: RunReport,
    numbers: list[int],
    *,
    base_url: str | None,
    api_key: str | None,
    session: requests.Session,
    timeout: float = 30.0,
) -> list[Replayed]:
    base = (base_url or report.base_url).rstrip("/")
    judge = Judge(api, urlsplit(base).path.rstrip("/"))
    results = []
    for number, failure in pick(report, numbers):
        result = Replayed(number, failure)
        if failure.exchange is None:
            result.error = "the report kept no request for it (written before requests were kept)"
        else:
            _send(result, failure, report.base_url.rstrip("/"), base, api_key, session, judge, timeout)
        results.append(result)
    return results


def _send(
    result: Replayed,
    failure: Failure,
    old_base: str,
    base: str,
    api_key: str | None,
    session: requests.Session,
    judge: Judge,
    timeout: float,
) -> None:
    exchange = failure.exchange
    assert exchange is not None
    url = reveal(exchange.url, api_key)
    if url.startswith(old_base):
        url = base + url[len(old_base) :]
    headers = {
        name: reveal(value, api_key) for name, value in exchange.request_headers.items() if name.lower() not in NOT_SENT
    }
    if exchange.request_body_base64 is not None:
        body: bytes | None = base64.b64decode(exchange.request_body_base64)
    else:
        body = reveal(exchange.request_body, api_key).encode() if exchange.request_body is not None else None
    try:
        response = session.request(exchange.method, url, headers=headers, data=body, timeout=timeout)
    except requests.RequestException as error:
        result.error = f"{type(error).__name__}: {error}"
        return
    result.status = response.status_code
    recorded = RecordedExchange(
        result.number,
        f"failure {result.number}",
        RecordedRequest(exchange.method, url, {name.lower(): value for name, value in headers.items()}, body),
        RecordedResponse(
            response.status_code, {name.lower(): value for name, value in response.headers.items()}, response.content
        ),
    )
    verdict = judge.request(recorded)
    result.findings = verdict.findings + judge.response(recorded, verdict.operation, [])
    result.still = _still(failure, response.status_code, verdict.findings, result.findings)


def _still(failure: Failure, status: int, request_findings: list[Finding], findings: list[Finding]) -> list[str]:
    checks = set(failure.all_checks())
    still = [f"{finding.check}: {finding.message}" for finding in findings if finding not in request_findings]
    if status >= 500 and "not_a_server_error" in checks:
        still.append(f"not_a_server_error: answered {status}")
    if request_findings and 200 <= status < 300 and "negative_data_rejection" in checks:
        still.append(f"negative_data_rejection: an invalid request was answered {status}")
    if status in LOST and "lifecycle_found" in checks:
        still.append(f"lifecycle_found: the follow-up answered {status}")
    return still
