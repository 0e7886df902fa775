"""Each doc sample judged against a built spec: valid, repaired, a doc-conflict, unparseable, unresolved or unrouted.

A request payload is routed by its method and URL (the server's base path stripped) to one operation and
checked against that operation's request body; a response example is checked against the 2xx answers of
the operations its page documents (its OpenAPI fragments and the calls its code makes) and is valid when
one of them accepts it, else a conflict with the closest one. A valid sample that the page's own fragment
refuses is ``repaired`` (``specs/sample_fragments.py``), and so is one that lacks only fields an overlay
requires for clients' sake (``x-apitwin-client-required``), not the vendor. Every sample lands in exactly one
class. A call that uploads files (``files=``) is judged against the operation's multipart/form-data body.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from apitwin.specs import sample_fragments
from apitwin.specs import samples as found
from apitwin.specs.example_ids import IdExamples
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.spec_cache import cache_dir
from apitwin.specs.validation import SchemaChecker
from apitwin.specs.walk import answer_schemas

CLASSES = ("valid", "repaired", "conflict", "unparseable", "unresolved", "unrouted")
METHODS = ("get", "put", "post", "delete", "patch")
CLIENT_REQUIRED = "x-apitwin-client-required"
"""Beside a schema's ``required``: the names in it that an overlay added for clients, not the vendor."""
MULTIPART = "multipart/form-data"
EXAMPLES_KIND = "examples-from-samples"
"""The repair that gives a string schema the ids the vendor's response examples agree on (``id_examples``)."""
FRAGMENT_OPERATION = re.compile(r'"paths":\{"(/[^"]*)":\{"(get|post|put|patch|delete)"')


@dataclass(slots=True)
class Verdict:
    kind: str
    verdict: str
    page: str
    language: str
    block: int
    text: str
    method: str | None = None
    url: str | None = None
    operation: str | None = None
    """``METHOD /path`` of the operation judged against."""
    pointer: str | None = None
    """Where in the sample the spec disagrees (a JSON pointer), for a conflict."""
    message: str | None = None
    raw: str | None = None
    """The page's own fragment on the sample: ``valid``, ``invalid``, or None when it has none to judge by.

    A conflict the fragment calls valid is apitwin's (a repair or an overlay refuses it), not the vendor's."""
    value: Any = None
    files: list[str] | None = None
    """The form fields a request uploads as files (its body is multipart/form-data); None for JSON."""


class Router:
    """Method and URL to an operation of the document (a path template's parameter matches one segment)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        servers = document.get("servers") or [{}]
        self._base = urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")
        self._routes: list[tuple[re.Pattern[str], str]] = []
        # Literal paths win over templated ones, as OpenAPI says (and the mock's router does).
        for path in sorted(document.get("paths", {}), key=lambda path: "{" in path):
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
            self._routes.append((re.compile(pattern + "/?"), path))

    def route(self, method: str, url: str) -> tuple[str, dict[str, Any]] | str:
        """``(path, operation)``, or why nothing answers (a message)."""
        path = urlsplit(url).path
        if self._base and path.startswith(self._base):
            path = path[len(self._base) :]
        for pattern, template in self._routes:
            if pattern.fullmatch(path):
                operation = self.document["paths"][template].get(method.lower())
                if isinstance(operation, dict):
                    return template, operation
                return f"{template} has no {method.upper()} operation"
        return f"no operation serves {method.upper()} {path}"


class Judge:
    """Verdicts against one built document; validators are built once per schema."""

    def __init__(self, document: dict[str, Any], *, relax: bool = True) -> None:
        self.router = Router(document)
        self._checker = SchemaChecker(document)
        self._relaxed: Judge | None = None
        self._client_fields: list[str] = []
        if relax:
            relaxed, self._client_fields = without_client_requirements(document)
            if self._client_fields:
                self._relaxed = Judge(relaxed, relax=False)

    def request(self, sample: found.Sample) -> Verdict:
        verdict = _verdict(sample)
        if sample.problem is not None:
            return verdict
        routed = self.router.route(sample.method or "POST", sample.url or "")
        if isinstance(routed, str):
            verdict.verdict, verdict.message = "unrouted", routed
            return verdict
        path, operation = routed
        verdict.operation = f"{(sample.method or 'POST').upper()} {path}"
        schema = _request_schema(operation, multipart=bool(sample.files))
        if schema is None:
            verdict.verdict, verdict.message = "conflict", "the operation takes no request body"
            verdict.pointer = ""
            return verdict
        self._judge(verdict, found.sent_body(sample.value, sample.files), [schema])
        if verdict.verdict == "conflict" and self._relaxed is not None:
            self._for_clients(verdict, self._relaxed.request(sample))
        return verdict

    def response(self, sample: found.Sample, operations: list[str]) -> Verdict:
        verdict = _verdict(sample)
        if sample.problem is not None:
            return verdict
        candidates: list[tuple[str, Any]] = []
        for name in operations:
            method, path = name.split(" ", 1)
            operation = self.router.document["paths"][path][method.lower()]
            pointer = join("", "paths", path, method.lower())
            candidates.extend((name, schema) for _, schema in answer_schemas(self.router.document, operation, pointer))
        if not candidates:
            verdict.verdict, verdict.message = "unrouted", "the page documents no operation to check it against"
            return verdict
        self._judge(verdict, sample.value, [schema for _, schema in candidates], [name for name, _ in candidates])
        if verdict.verdict == "conflict" and self._relaxed is not None:
            self._for_clients(verdict, self._relaxed.response(sample, operations))
        return verdict

    def _for_clients(self, verdict: Verdict, relaxed: Verdict) -> None:
        """A conflict only over fields an overlay requires for clients is the overlay's repair, not the vendor's
        error: the sample is what the vendor documents, the spec asks more of answers for clients' sake."""
        if relaxed.verdict != "valid":
            return
        verdict.verdict = "repaired"
        verdict.operation = relaxed.operation
        verdict.message = (
            f"repaired (overlay, client compatibility): valid but for {verdict.message}; an overlay requires "
            f"{', '.join(self._client_fields)} for clients ({CLIENT_REQUIRED}), the vendor's document does not"
        )

    def _judge(self, verdict: Verdict, value: Any, schemas: list[Any], names: list[str] | None = None) -> None:
        best: tuple[int, str, str, int] | None = None
        for index, schema in enumerate(schemas):
            fast = self._checker.fast(schema)
            if fast.is_valid(value):
                verdict.verdict = "valid"
                if names:
                    verdict.operation = names[index]
                return
            errors = list(fast.iter_errors(value))
            error = jsonschema.exceptions.best_match(iter(errors))
            if error is None:  # the native and the Python validators disagree; the native one decides
                pointer, message = "", "invalid (the native validator's verdict)"
            else:
                pointer = "".join(f"/{part}" for part in error.absolute_path)
                message = error.message
            if best is None or len(errors) < best[0]:
                best = (len(errors), pointer, message, index)
        assert best is not None
        verdict.verdict, verdict.pointer, verdict.message = "conflict", best[1], _shorten(best[2])
        if names:
            verdict.operation = names[best[3]]


def _verdict(sample: found.Sample) -> Verdict:
    verdict = Verdict(
        sample.kind, "", sample.page, sample.language, sample.block, sample.text, sample.method, sample.url
    )
    verdict.value = sample.value
    verdict.files = sample.files
    if sample.problem is not None:
        kind, _, message = sample.problem.partition(": ")
        verdict.verdict, verdict.message = kind, message
    return verdict


UNKNOWN_VARIANT = re.compile(r"reference '#/components/schemas/(.*)' could not be resolved$")


def _shorten(message: str, limit: int = 300) -> str:
    """jsonschema's message with the sample's repr cut down (its end says what is wrong)."""
    unknown = UNKNOWN_VARIANT.search(message)
    if unknown:
        return f"the discriminator value {unknown.group(1)!r} names no variant of the operation (not one of its ids)"
    return message if len(message) <= limit else message[:60] + " … " + message[-(limit - 63) :]


def _request_schema(operation: dict[str, Any], *, multipart: bool = False) -> Any:
    """The JSON body's schema, or for an upload the multipart one (else whatever body the operation takes)."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    first = MULTIPART if multipart else "application/json"
    for media in (first, *content):
        schema = (content.get(media) or {}).get("schema")
        if schema is not None:
            return schema
    return None


def without_client_requirements(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of the document whose schemas no longer require what ``x-apitwin-client-required`` names, and
    those names (empty, and the document itself, when no schema carries the mark)."""
    if f'"{CLIENT_REQUIRED}"' not in json.dumps(document):
        return document, []
    relaxed = copy.deepcopy(document)
    names: list[str] = []
    stack: list[Any] = [relaxed]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        marked = node.get(CLIENT_REQUIRED)
        if isinstance(marked, list) and isinstance(node.get("required"), list):
            node["required"] = [name for name in node["required"] if name not in marked]
            names.extend(name for name in marked if name not in names)
        stack.extend(node.values())
    return relaxed, sorted(names)


def page_operations(judge: Judge, body: str, requests: list[found.Sample]) -> list[str]:
    """The operations a page documents: its OpenAPI fragments and the calls its code samples make."""
    names: list[str] = []
    calls = [(method, "https://host" + path) for path, method in FRAGMENT_OPERATION.findall(body)]
    calls += [(sample.method or "POST", sample.url or "") for sample in requests if sample.problem is None]
    for method, url in calls:
        routed = judge.router.route(method, url)
        if isinstance(routed, tuple):
            name = f"{method.upper()} {routed[0]}"
            if name not in names:
                names.append(name)
    return names


def judge_text(text: str, document: dict[str, Any]) -> list[Verdict]:
    """Every sample of a dump, each with its verdict."""
    judge = Judge(document)
    verdicts: list[Verdict] = []
    for url, body in found.pages(text):
        page_samples: list[found.Sample] = []
        for number, block in enumerate(found.blocks(body)):
            page_samples.extend(found.block_samples(url, number, block))
        requests = [sample for sample in page_samples if sample.kind == "request"]
        operations = page_operations(judge, body, requests)
        fragments = sample_fragments.PageFragments(body) if page_samples else None
        for sample in page_samples:
            verdict = judge.request(sample) if sample.kind == "request" else judge.response(sample, operations)
            if fragments is not None and verdict.verdict in ("valid", "repaired", "conflict"):
                _second_opinion(verdict, sample, fragments)
            verdicts.append(verdict)
    return verdicts


def _second_opinion(verdict: Verdict, sample: found.Sample, fragments: sample_fragments.PageFragments) -> None:
    """The page's own fragment judges too: a sample only the built spec accepts was repaired."""
    if sample.kind == "request":
        verdict.raw = fragments.request(sample.method or "POST", sample.url or "", sample.value, sample.files)
    else:
        verdict.raw = fragments.response(sample.value)
    if verdict.verdict == "valid" and verdict.raw == "invalid":
        verdict.verdict = "repaired"


def counts(verdicts: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per kind (``request``, ``response``): ``found`` and one count per class."""
    table: dict[str, dict[str, int]] = {}
    for kind in ("request", "response"):
        tally = Counter(verdict["verdict"] for verdict in verdicts if verdict["kind"] == kind)
        table[kind] = {"found": sum(tally.values()), **{name: tally.get(name, 0) for name in CLASSES}}
    return table


CACHE_ENTRIES = 4
"""Verdicts kept per cache directory (about 1 MB each): the current seed and spec, and a few before them."""


def judge_file(seed: Path, spec: Path, document: dict[str, Any]) -> list[dict[str, Any]]:
    """``judge_text`` for a seed file as JSON values, kept in the spec cache directory keyed by the bytes of the
    seed, the spec and the code that judges."""
    data = seed.read_bytes()
    digest = hashlib.sha256()
    code = (Path(__file__), Path(found.__file__), Path(sample_fragments.__file__))
    for part in (data, spec.read_bytes(), *(path.read_bytes() for path in code)):
        digest.update(hashlib.sha256(part).digest())
    directory = cache_dir()
    entry = directory / "doc-samples" / f"{digest.hexdigest()[:32]}.json" if directory else None
    if entry is not None:
        try:
            return list(json.loads(entry.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    # Through JSON, so a sample's Python-literal value (a tuple, say) reads the same from the cache as now.
    text = json.dumps([asdict(verdict) for verdict in judge_text(data.decode("utf-8"), document)], default=repr)
    if entry is not None:
        _store(entry, text)
    return list(json.loads(text))


def _store(entry: Path, text: str) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(entry)
        kept = sorted(entry.parent.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
        for stale in kept[CACHE_ENTRIES:]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass  # an unwritable cache costs the next run the seconds, nothing else


def judge_seed(seed: Path, spec: Path) -> list[dict[str, Any]] | None:
    """The verdicts on a seed written as ``# Source:`` pages; None when the seed is absent or not such a dump."""
    try:
        with seed.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    if b"# Source: " not in head:
        return None
    document = json.loads(spec.read_text(encoding="utf-8"))
    return judge_file(seed, spec, document)


def id_examples(document: dict[str, Any], verdicts: list[dict[str, Any]], log: RepairLog) -> int:
    """The ids of the vendor's valid and repaired response examples as ``examples`` of the string schemas they
    fill, where the examples of one schema agree on a prefix (``specs/example_ids.py``): each schema given some is
    an ``examples-from-samples`` repair citing the pages. How many schemas were given ids."""
    judged_by, _ = without_client_requirements(document)  # a sample repaired for clients is read as it validates
    ids = IdExamples(judged_by)
    for verdict in verdicts:
        if verdict["kind"] != "response" or verdict["verdict"] not in ("valid", "repaired") or not verdict["operation"]:
            continue
        method, path = verdict["operation"].split(" ", 1)
        operation = judged_by["paths"][path][method.lower()]
        for pointer, schema in answer_schemas(judged_by, operation, join("", "paths", path, method.lower())):
            if ids.accepts(schema, verdict["value"]):
                ids.add(verdict["value"], schema, pointer, verdict["page"])
                break
    return ids.give(document, log, kind=EXAMPLES_KIND, examples="response examples on its pages")


LOG_FIELDS = ("page", "block", "language", "method", "url", "operation", "pointer", "message", "raw", "text")


def log(seed: str, verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``specs build`` writes beside the repair log: the counts, and one entry per sample that is not
    plainly valid (``doc-conflict``, ``doc-repaired``, ``doc-unrouted``, …), without the sample's value."""
    entries = [
        {"kind": f"doc-{verdict['verdict']}", "sample": verdict["kind"], **{key: verdict[key] for key in LOG_FIELDS}}
        for verdict in verdicts
        if verdict["verdict"] != "valid"
    ]
    return {"seed": seed, "counts": counts(verdicts), "entries": entries}
