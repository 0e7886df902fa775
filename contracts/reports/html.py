"""A self-contained HTML page a person opens: per operation, each failure with the request, the
response, the violated check, the JSON pointer and a ``curl`` command that reproduces it."""

from __future__ import annotations

from html import escape

from apitwin.contracts.fuzz.events import Failure, OperationResult, RunReport

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.4rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.passed{color:#17733a}.failed,.error{color:#b3261e;font-weight:bold}.skipped{color:#8a6d00}
details{margin:.4rem 0 .8rem 1rem}summary{cursor:pointer}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
code.check{background:#fde7e7;padding:0 .3rem}
"""


def render(report: RunReport) -> str:
    verdict = "no failures" if report.ok else f"{len(report.failures)} failures"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>apitwin fuzz {escape(report.api)}: {verdict}</title><style>{STYLE}</style></head><body>",
        f"<h1>apitwin fuzz <code>{escape(report.api)}</code> → <code>{escape(report.base_url)}</code>: {verdict}</h1>",
        f"<p>{report.requests_sent} "
        f"requests{f' of a budget of {report.max_requests}' if report.max_requests is not None else ''}, seed "
        f"{report.seed}"
        f"{', shards ' + escape(', '.join(report.shards)) if report.shards else ''}, {report.duration:.1f}s.</p>",
        _summary(report.operations),
    ]
    for operation in report.operations:
        if operation.failures or operation.errors:
            parts.append(_operation(operation))
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary(operations: list[OperationResult]) -> str:
    rows = "".join(
        f"<tr><td><a href='#{_anchor(op.label)}'>{escape(op.label)}</a></td><td class='{op.status}'>{op.status}</td>"
        f"<td>{op.sent}</td><td>{len(op.failures)}</td>"
        f"<td>{escape(', '.join(op.failed_checks()) or op.skipped)}</td></tr>"
        for op in operations
    )
    head = "<tr><th>operation</th><th>status</th><th>requests</th><th>failures</th><th>checks / note</th></tr>"
    return f"<table>{head}{rows}</table>"


def _operation(operation: OperationResult) -> str:
    parts = [
        f"<h2 id='{_anchor(operation.label)}'>{escape(operation.label)} "
        f"<small>{escape(operation.operation_id)}</small></h2>"
    ]
    for failure in operation.failures:
        parts.append(_failure(failure))
    for error in operation.errors:
        parts.append(f"<p class='error'>error: {escape(error)}</p>")
    return "\n".join(parts)


def _failure(failure: Failure) -> str:
    exchange = failure.exchange
    parts = [
        "<details open>",
        f"<summary><code class='check'>{escape(' + '.join(failure.all_checks()))}</code> {escape(failure.title)}"
        f"{f' · {failure.occurrences} requests' if failure.occurrences > 1 else ''}</summary>",
        f"<pre>{escape(failure.message)}</pre>",
        f"<p>JSON pointer: <code>{escape(failure.pointer or '(whole response)')}</code></p>",
        f"<p>Reproduce:</p><pre>{escape(failure.curl)}</pre>",
    ]
    if exchange is not None:
        request_headers = "\n".join(f"{name}: {value}" for name, value in exchange.request_headers.items())
        response_headers = "\n".join(f"{name}: {value}" for name, value in exchange.response_headers.items())
        parts += [
            f"<p>Request</p><pre>{escape(exchange.method)} "
            f"{escape(exchange.url)}\n{escape(request_headers)}\n\n{escape(exchange.request_body or '')}</pre>",
            f"<p>Response "
            f"({exchange.elapsed:.3f}s)</p><pre>{exchange.status}\n{escape(response_headers)}\n\n"
            f"{escape(exchange.response_body or '')}</pre>",
        ]
    parts.append("</details>")
    return "\n".join(parts)


def _anchor(label: str) -> str:
    return "op-" + "".join(character if character.isalnum() else "-" for character in label)
