"""A self-contained HTML page a person opens: the summary first (operations exercised, failing,
skipped, time), then per operation each cause collapsed to one line that opens onto the request, the
response, the violated checks, the JSON pointer and a ``curl`` command that reproduces it.

The page stays small whatever the run's size: causes are already grouped (one per cause, not per
request), and messages and bodies are cut at :data:`TEXT_LIMIT` characters with a pointer to the
JSON report (``--json``), which keeps what the run recorded in full.
"""

from __future__ import annotations

from html import escape

from apitwin.contracts.fuzz.events import Failure, OperationResult, RunReport

TEXT_LIMIT = 2_000
"""Characters of one message or body shown; the rest is in the JSON report."""
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.4rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.passed{color:#17733a}.failed,.error{color:#b3261e;font-weight:bold}.skipped{color:#8a6d00}
.counts span{margin-right:1.2rem}
details{margin:.4rem 0 .8rem 1rem}summary{cursor:pointer}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
code.check{background:#fde7e7;padding:0 .3rem}.cut{color:#666;font-style:italic}
"""


def render(report: RunReport, json_report: str | None = None) -> str:
    """The page; ``json_report`` is the JSON report's file name, linked where text is cut."""
    verdict = "no failures" if report.ok else f"{len(report.failures)} failures (one per cause)"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>apitwin fuzz {escape(report.api)}: {verdict}</title><style>{STYLE}</style></head><body>",
        f"<h1>apitwin fuzz <code>{escape(report.api)}</code> → <code>{escape(report.base_url)}</code>: {verdict}</h1>",
        _counts(report),
        f"<p>{report.requests_sent} "
        f"requests{f' of a budget of {report.max_requests}' if report.max_requests is not None else ''}, seed "
        f"{report.seed}"
        f"{', shards ' + escape(', '.join(report.shards)) if report.shards else ''}, {report.duration:.1f}s.</p>",
        _summary(report.operations),
    ]
    if report.unsafe:
        held_back = "".join(f"<li>{escape(item.label)}: {escape(item.reason)}</li>" for item in report.unsafe)
        parts.append(f"<p>Not called (unsafe; <code>--include-unsafe</code> calls them):</p><ul>{held_back}</ul>")
    for operation in report.operations:
        if operation.failures or operation.errors:
            parts.append(_operation(operation, json_report))
    parts.append("</body></html>")
    return "\n".join(parts)


def _counts(report: RunReport) -> str:
    operations = report.operations
    failing = sum(1 for op in operations if op.status in ("failed", "error"))
    counts = (
        ("operations", len(operations)),
        ("exercised", sum(1 for op in operations if op.exercised)),
        ("failing", failing),
        ("not exercised", len(report.not_exercised)),
        ("causes", len(report.failures)),
        ("seconds", f"{report.duration:.1f}"),
    )
    return "<p class='counts'>" + "".join(f"<span><b>{value}</b> {name}</span>" for name, value in counts) + "</p>"


def _summary(operations: list[OperationResult]) -> str:
    rows = "".join(
        f"<tr><td><a href='#{_anchor(op.label)}'>{escape(op.label)}</a></td><td class='{op.status}'>{op.status}</td>"
        f"<td>{op.sent}</td><td>{len(op.failures)}</td>"
        f"<td>{escape(', '.join(op.failed_checks()) or op.skipped)}</td></tr>"
        for op in operations
    )
    head = "<tr><th>operation</th><th>status</th><th>requests</th><th>causes</th><th>checks / note</th></tr>"
    return f"<table>{head}{rows}</table>"


def _operation(operation: OperationResult, json_report: str | None) -> str:
    parts = [
        f"<h2 id='{_anchor(operation.label)}'>{escape(operation.label)} "
        f"<small>{escape(operation.operation_id)}</small></h2>"
    ]
    for failure in operation.failures:
        parts.append(_failure(failure, json_report))
    for error in operation.errors:
        parts.append(f"<p class='error'>error: {_cut(error, json_report)}</p>")
    return "\n".join(parts)


def _failure(failure: Failure, json_report: str | None) -> str:
    exchange = failure.exchange
    parts = [
        "<details>",
        f"<summary><code class='check'>{escape(' + '.join(failure.all_checks()))}</code> {escape(failure.title)}"
        f"{f' · {failure.occurrences} requests' if failure.occurrences > 1 else ''}"
        f"{f' · <code>{escape(failure.pointer)}</code>' if failure.pointer else ''}</summary>",
        f"<pre>{_cut(failure.message, json_report)}</pre>",
        f"<p>JSON pointer: <code>{escape(failure.pointer or '(whole response)')}</code></p>",
        f"<p>Reproduce{f' (shrunk: {escape(failure.shrunk)})' if failure.shrunk else ''}:</p>"
        f"<pre>{escape(failure.curl)}</pre>",
    ]
    if exchange is not None:
        request_headers = "\n".join(f"{name}: {value}" for name, value in exchange.request_headers.items())
        response_headers = "\n".join(f"{name}: {value}" for name, value in exchange.response_headers.items())
        request_body = _cut(exchange.request_body or "", json_report)
        parts += [
            f"<p>Request</p><pre>{escape(exchange.method)} "
            f"{escape(exchange.url)}\n{escape(request_headers)}\n\n{request_body}</pre>",
            f"<p>Response "
            f"({exchange.elapsed:.3f}s)</p><pre>{exchange.status}\n{escape(response_headers)}\n\n"
            f"{_cut(exchange.response_body or '', json_report)}</pre>",
        ]
    parts.append("</details>")
    return "\n".join(parts)


def _cut(text: str, json_report: str | None) -> str:
    """``text`` escaped, cut at :data:`TEXT_LIMIT` characters with a note saying where the rest is."""
    if len(text) <= TEXT_LIMIT:
        return escape(text)
    rest = len(text) - TEXT_LIMIT
    where = (
        f"in <a href='{escape(json_report, quote=True)}'>{escape(json_report)}</a>"
        if json_report
        else "in the JSON report (<code>--json</code>)"
    )
    return f"{escape(text[:TEXT_LIMIT])}<span class='cut'>… {rest:,} more characters {where}</span>"


def _anchor(label: str) -> str:
    return "op-" + "".join(character if character.isalnum() else "-" for character in label)
