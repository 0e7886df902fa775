"""Doc samples in a vendor's pages: the request payloads its code sends and the response examples it shows.

A page of the AIML API dump is one long line, so code blocks arrive flattened: a ``#`` or ``//`` comment
no longer ends at a newline. ``strip_comments`` ends it at the next quote or bracket instead, which keeps
the literals that follow. Every sample found is returned, parsed or not: what could not be read carries
its ``problem`` (``unparseable``: the text is no literal; ``unresolved``: it names something the page
does not assign a literal to), so a reader can account for all of them (``specs/sample_verdicts.py``).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import json5

PAGE = re.compile(r"# Source: (\S+)")
FENCE = re.compile(r"```(\w*)")
RESPONSE_LANGUAGES = frozenset({"", "json", "json5", "jsonp"})
CODE_LANGUAGES = {"python": "python", "javascript": "javascript", "typescript": "javascript", "ts": "javascript"}
SHELL_LANGUAGES = frozenset({"bash", "shell", "sh", "powershell", "http", "ruby"})
DEFAULT_SDK_BASE = "https://api.aimlapi.com/v1"
# The OpenAI SDK's resource methods (what the vendor's samples call) and the path each one posts to.
SDK_PATHS = {
    "chat.completions.create": "/chat/completions",
    "completions.create": "/completions",
    "responses.create": "/responses",
    "images.generate": "/images/generations",
    "images.edit": "/images/edits",
    "embeddings.create": "/embeddings",
    "audio.speech.create": "/audio/speech",
    "audio.transcriptions.create": "/audio/transcriptions",
    "batches.create": "/batches",
}
SDK_CALL = re.compile(r"\.(" + "|".join(re.escape(name) for name in SDK_PATHS) + r")\s*\(")
STRING_QUOTES = "\"'`"
OPENERS = {"{": "}", "[": "]", "(": ")"}


@dataclass(slots=True)
class Sample:
    """One request payload or response example, as found on a page."""

    kind: str
    """``request`` or ``response``."""
    page: str
    language: str
    block: int
    """The code block's number on its page (0-based), so two samples of one page can be told apart."""
    text: str
    """The sample's source text (the payload expression or the example object), shortened."""
    value: Any = None
    problem: str | None = None
    """Why the sample could not be read: ``unparseable: …`` or ``unresolved: …``; None when ``value`` holds it."""
    method: str | None = None
    url: str | None = None
    files: list[str] | None = None
    """The form fields the call uploads as files (``files={"audio": …}``): the body is multipart/form-data,
    ``value`` its other fields; None for a JSON body."""


FILE_PLACEHOLDER = "<file>"
"""What stands for an uploaded file's content when an upload is judged (a binary form field is a string)."""


def sent_body(value: Any, files: list[str] | None) -> Any:
    """The body a request sample sends: for an upload its form fields and a placeholder for each file."""
    if not files:
        return value
    fields = value if isinstance(value, dict) else {}
    return {**fields, **{name: FILE_PLACEHOLDER for name in files}}


class Unresolved(Exception):
    """The expression names something the page assigns no literal to."""


@dataclass(slots=True)
class Block:
    language: str
    code: str
    before: str
    """The prose just before the fence (where a page says "Response")."""


def pages(text: str) -> list[tuple[str, str]]:
    """``(url, body)`` for each ``# Source: <url>`` page of a dump."""
    parts = PAGE.split(text)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def blocks(body: str) -> list[Block]:
    """The fenced code blocks of a page, in order (a fence opens, the next one closes)."""
    found: list[Block] = []
    opened: re.Match[str] | None = None
    for fence in FENCE.finditer(body):
        if opened is None:
            opened = fence
            continue
        before = body[max(0, opened.start() - 80) : opened.start()]
        found.append(Block(opened.group(1).lower(), body[opened.end() : fence.start()], before))
        opened = None
    return found


def extract(text: str) -> list[Sample]:
    """Every request payload and response example of a dump."""
    samples: list[Sample] = []
    for url, body in pages(text):
        for number, block in enumerate(blocks(body)):
            samples.extend(block_samples(url, number, block))
    return samples


def block_samples(page: str, number: int, block: Block) -> list[Sample]:
    code = block.code
    if code.lstrip().startswith('{"openapi"'):
        return []
    if block.language in RESPONSE_LANGUAGES and "response" in block.before.lower():
        return response_samples(page, number, block.language, code)
    language = CODE_LANGUAGES.get(block.language)
    if language == "python":
        return python_samples(page, number, code)
    if language == "javascript":
        return javascript_samples(page, number, code)
    if block.language in SHELL_LANGUAGES or "curl " in code:
        return curl_samples(page, number, block.language, code)
    return []


# --- reading literals ------------------------------------------------------------------------------------


def strip_comments(code: str, marker: str) -> str:
    """``code`` without its comments, each ending at the next quote or bracket (the newline is lost).

    An apostrophe between letters (``don't``) belongs to the comment."""
    out: list[str] = []
    index, length = 0, len(code)
    while index < length:
        char = code[index]
        if char in STRING_QUOTES:
            end = _string_end(code, index)
            out.append(code[index:end])
            index = end
            continue
        if code.startswith(marker, index) and not (marker == "//" and index and code[index - 1] == ":"):
            index = _comment_end(code, index + len(marker), marker)
            out.append(" ")
            continue
        out.append(char)
        index += 1
    return "".join(out)


# Where code resumes inside a flattened comment: a statement (``name = …``, ``call(``, a definition), else
# (JavaScript) the last ``key:`` of an object literal before the next quote or bracket.
CODE_RESUMES = {
    "#": re.compile(r"\bdef\s+\w+\(|[A-Za-z_][\w.]*\(|[A-Za-z_]\w*\s*=(?!=)"),
    "//": re.compile(
        r"\b(?:const|let|var)\s+[\w$]+\s*=|\bfunction\s+[\w$]*\(|[A-Za-z_$][\w.$]*\(|[A-Za-z_$][\w$]*\s*=(?!=)"
    ),
}
OBJECT_KEY = re.compile(r"[A-Za-z_$][\w$]*\s*:(?!/)")


def _comment_end(code: str, index: int, marker: str) -> int:
    stop = index
    while stop < len(code):
        char = code[stop]
        if char in "()" and code[stop - 1 : stop] in (":", ";"):  # a smiley, ``# Choose your fighter :)``
            stop += 1
            continue
        if char in '"`{}[]()':
            break
        if char == "'" and not (code[stop - 1 : stop].isalpha() and code[stop + 1 : stop + 2].isalpha()):
            break
        stop += 1
    resumes = CODE_RESUMES[marker].search(code, index, stop + 1)  # a call's name ends at the stopping ``(``
    if resumes:
        return resumes.start()
    if marker == "//":
        keys = list(OBJECT_KEY.finditer(code[index:stop]))
        if keys:
            return index + keys[-1].start()
    return stop


def _string_end(code: str, start: int) -> int:
    """The index after the string literal opening at ``start`` (triple quotes included)."""
    quote = code[start]
    if code.startswith(quote * 3, start) and quote != "`":
        end = code.find(quote * 3, start + 3)
        return len(code) if end < 0 else end + 3
    index = start + 1
    while index < len(code):
        char = code[index]
        if char == "\\":
            index += 2
            continue
        if char == quote:
            return index + 1
        index += 1
    return len(code)


def _code_characters(code: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Each position of ``code`` from ``start`` with its character, string literals skipped whole: what the
    scanners for brackets and commas read."""
    index = start
    while index < len(code):
        char = code[index]
        if char in STRING_QUOTES:
            index = _string_end(code, index)
            continue
        yield index, char
        index += 1


def balanced_end(code: str, start: int) -> int:
    """The index after the bracket closing the one at ``start``; -1 when it never closes."""
    stack: list[str] = []
    for index, char in _code_characters(code, start):
        if char in OPENERS:
            stack.append(OPENERS[char])
        elif char in ")]}":
            if not stack or stack.pop() != char:
                return -1
            if not stack:
                return index + 1
    return -1


def split_arguments(arguments: str) -> list[tuple[str | None, str]]:
    """A call's argument text as ``(keyword or None, expression)`` at the top level."""
    parts: list[str] = []
    depth, start = 0, 0
    for index, char in _code_characters(arguments):
        if char in OPENERS:
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(arguments[start:index])
            start = index + 1
    parts.append(arguments[start:])
    found: list[tuple[str | None, str]] = []
    for part in (part.strip() for part in parts):
        if not part:
            continue
        keyword = re.match(r"([A-Za-z_]\w*)\s*[=:](?!=)\s*", part)
        if keyword and not part.startswith(("'", '"')):
            found.append((keyword.group(1), part[keyword.end() :]))
        else:
            found.append((None, part))
    return found


def call_arguments(code: str, open_paren: int) -> str | None:
    end = balanced_end(code, open_paren)
    return None if end < 0 else code[open_paren + 1 : end - 1]


def _calls(code: str, pattern: re.Pattern[str]) -> Iterator[tuple[re.Match[str], str]]:
    """Each call the pattern finds (it ends at the opening parenthesis) with its argument text."""
    for call in pattern.finditer(code):
        arguments = call_arguments(code, call.end() - 1)
        if arguments is not None:
            yield call, arguments


def parse_data(text: str) -> Any:
    """A data literal read as JSON, then as a Python literal, then as JSON5; ValueError when none fits."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        return json5.loads(text)
    except ValueError:
        pass
    cleaned = strip_comments(text, "//")
    try:
        return json5.loads(cleaned)
    except ValueError as error:
        raise ValueError(f"not JSON, a Python literal or JSON5 ({error})") from None


# --- assignments on a page ---------------------------------------------------------------------------


def assignments(code: str, pattern: re.Pattern[str], *, top_level: bool) -> dict[str, list[tuple[int, str]]]:
    """Names assigned a bracketed, quoted or simple value: ``name -> [(position, expression text)]``.

    ``top_level`` keeps only assignments outside brackets (Python: ``json=data`` in a call is no assignment)."""
    found: dict[str, list[tuple[int, str]]] = {}
    outside = _outside_brackets(code) if top_level else None
    for match in pattern.finditer(code):
        if outside is not None and match.start(1) not in outside:
            continue
        start = match.end()
        if start >= len(code):
            continue
        char = code[start]
        if char in OPENERS:
            end = balanced_end(code, start)
        elif char in STRING_QUOTES or (char in "fF" and code[start + 1 : start + 2] in ('"', "'")):
            end = _string_end(code, start + (char in "fF"))
        else:  # a name, a number, or a call such as ``JSON.stringify({...})`` / ``new URL(`...`)``
            simple = re.match(r"(?:new\s+)?[\w.$\-]+", code[start:])
            end = start + simple.end() if simple else -1
            if simple and code[end : end + 1] == "(":
                end = balanced_end(code, end)
        if end > start:
            found.setdefault(match.group(1), []).append((match.start(), code[start:end]))
    return found


def _outside_brackets(code: str) -> set[int]:
    """The positions of ``code`` outside any bracket and string."""
    positions: set[int] = set()
    depth = 0
    for index, char in _code_characters(code):
        if char in OPENERS:
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0:
            positions.add(index)
    return positions


def _latest(assigned: dict[str, list[tuple[int, str]]], name: str, before: int) -> str | None:
    candidates = assigned.get(name)
    if not candidates:
        return None
    earlier = [text for position, text in candidates if position < before]
    return earlier[-1] if earlier else candidates[0][1]


PYTHON_ASSIGNMENT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*=(?!=)\s*")


class PythonLiterals:
    """Python expressions evaluated when they are literals, names assigned literals, f-strings, json.dumps."""

    def __init__(self, code: str) -> None:
        self._assigned = assignments(code, PYTHON_ASSIGNMENT, top_level=True)

    def evaluate(self, expression: str, position: int, depth: int = 0) -> Any:
        try:
            tree = ast.parse(expression.strip(), mode="eval")
        except SyntaxError as error:
            raise ValueError(f"not a Python expression ({error.msg})") from None
        return self._node(tree.body, position, depth)

    def _node(self, node: ast.AST, position: int, depth: int) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise Unresolved("a ** expansion in a dict")
            return {
                self._node(key, position, depth): self._node(value, position, depth)
                for key, value in zip(node.keys, node.values, strict=True)
                if key is not None
            }
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._node(item, position, depth) for item in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = self._node(node.operand, position, depth)
            if isinstance(operand, (int, float)):
                return -operand
        if isinstance(node, ast.Name):
            return self._name(node.id, position, depth)
        if isinstance(node, ast.JoinedStr):
            return "".join(self._formatted(part, position, depth) for part in node.values)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "json.dumps" and node.args:
            return self._node(node.args[0], position, depth)
        raise Unresolved(f"`{_short(ast.unparse(node))}` is not a literal")

    def _formatted(self, part: ast.AST, position: int, depth: int) -> str:
        if isinstance(part, ast.FormattedValue):
            return str(self._node(part.value, position, depth))
        return str(self._node(part, position, depth))

    def assigned(self, name: str, position: int) -> str | None:
        """The expression last assigned to ``name`` before ``position``."""
        return _latest(self._assigned, name, position)

    def _name(self, name: str, position: int, depth: int) -> Any:
        text = _latest(self._assigned, name, position)
        if text is None or depth > 5:
            raise Unresolved(f"`{name}` is not assigned a literal on the page")
        return self.evaluate(text, position, depth + 1)


JS_ASSIGNMENT = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*")


class JavascriptLiterals:
    """JavaScript expressions: string and template literals, object literals (JSON5), names bound to them."""

    def __init__(self, code: str) -> None:
        self._assigned = assignments(code, JS_ASSIGNMENT, top_level=False)

    def bound(self, name: str, position: int) -> str | None:
        """The expression last assigned to ``name`` before ``position``."""
        return _latest(self._assigned, name, position)

    def evaluate(self, expression: str, position: int, depth: int = 0) -> Any:
        text = expression.strip()
        if re.fullmatch(r"[A-Za-z_$][\w$]*", text):
            bound = _latest(self._assigned, text, position)
            if bound is None or depth > 5:
                raise Unresolved(f"`{text}` is not assigned a literal on the page")
            return self.evaluate(bound, position, depth + 1)
        wrapped = re.fullmatch(r"(?:JSON\.stringify|new\s+URL)\s*\((.*)\)", text, re.S)
        if wrapped:  # the body a request writes, the URL it opens: the value inside
            return self.evaluate(wrapped.group(1), position, depth)
        if text.startswith("`") and text.endswith("`"):
            return re.sub(
                r"\$\{\s*([A-Za-z_$][\w$]*)\s*\}",
                lambda match: str(self.evaluate(match.group(1), position, depth + 1)),
                text[1:-1],
            )
        try:
            return json5.loads(_plain_templates(text))
        except ValueError:
            pass
        names = [name for name in re.findall(r":\s*([A-Za-z_$][\w$.]*)\s*[,}\]]", text) if name not in JS_WORDS]
        if not names:
            raise ValueError("not a JavaScript literal")
        substituted = _outside_strings(text, partial(self._substitute, position=position, depth=depth))
        try:
            return json5.loads(_plain_templates(substituted))
        except ValueError:
            raise Unresolved(f"`{_short(text)}` holds expressions (`{names[0]}`)") from None

    def _substitute(self, code: str, position: int, depth: int) -> str:
        """Property values that are names bound to literals on the page, written as those literals (JSON)."""

        def value(match: re.Match[str]) -> str:
            name = match.group(2)
            if name in JS_WORDS or _latest(self._assigned, name, position) is None:
                return match.group(0)
            try:
                return match.group(1) + json.dumps(self.evaluate(name, position, depth + 1))
            except (Unresolved, ValueError):
                return match.group(0)

        return JS_VALUE_NAME.sub(value, code)


JS_WORDS = frozenset({"true", "false", "null", "undefined"})
JS_VALUE_NAME = re.compile(r"(:\s*)([A-Za-z_$][\w$]*)(?=\s*[,}\]])")


def _outside_strings(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to each run of code between string literals."""
    out: list[str] = []
    start = index = 0
    while index < len(text):
        if text[index] in STRING_QUOTES:
            out.append(change(text[start:index]))
            end = _string_end(text, index)
            out.append(text[index:end])
            start = index = end
            continue
        index += 1
    out.append(change(text[start:]))
    return "".join(out)


def _plain_templates(text: str) -> str:
    """Template literals without ``${}`` written as JSON strings, which JSON5 reads."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char not in STRING_QUOTES:
            out.append(char)
            index += 1
            continue
        end = _string_end(text, index)
        literal = text[index:end]
        if char == "`" and "${" not in literal and literal.endswith("`"):
            literal = json.dumps(literal[1:-1])
        out.append(literal)
        index = end
    return "".join(out)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- request payloads ------------------------------------------------------------------------------------

PYTHON_HTTP_CALL = re.compile(r"\brequests\.(post|put|patch|request)\s*\(")


@dataclass(frozen=True, slots=True)
class Language:
    """How a language's code samples are read: its comments, its literals, where its SDK client is given a base
    URL, and the calls of its HTTP libraries (in the order a page's samples are listed)."""

    name: str
    comment: str
    literals: Callable[[str], PythonLiterals | JavascriptLiterals]
    sdk_base: re.Pattern[str]
    http_calls: Callable[[str, int, str, Any], list[Sample]]
    sdk_body: Callable[[Any, str, int], Any]
    """The body an SDK call's arguments make (literals, arguments, position)."""


def _samples(language: Language, page: str, number: int, raw: str) -> list[Sample]:
    """The request payloads of one code block: its HTTP-library calls, then its OpenAI SDK calls."""
    code = strip_comments(raw, language.comment)
    literals = language.literals(code)
    found = language.http_calls(page, number, code, literals)
    base_url = ""
    for call, arguments in _calls(code, SDK_CALL):
        if not base_url:
            base = language.sdk_base.search(code)
            base_url = _expression_at(code, base.end()) if base else json.dumps(DEFAULT_SDK_BASE)
        sample = Sample("request", page, language.name, number, _short(arguments), method="POST")
        url = partial(_sdk_url, literals, base_url, call)
        found.append(_read(sample, url, partial(language.sdk_body, literals, arguments, call.start())))
    return found


def python_samples(page: str, number: int, raw: str) -> list[Sample]:
    return _samples(PYTHON, page, number, raw)


def javascript_samples(page: str, number: int, raw: str) -> list[Sample]:
    return _samples(JAVASCRIPT, page, number, raw)


def _python_http_calls(page: str, number: int, code: str, literals: PythonLiterals) -> list[Sample]:
    found: list[Sample] = []
    for call, arguments in _calls(code, PYTHON_HTTP_CALL):
        parts = split_arguments(arguments)
        keywords = {keyword: value for keyword, value in parts if keyword}
        positional = [value for keyword, value in parts if keyword is None]
        method = call.group(1).upper()
        if method == "REQUEST":
            method = _python_text(literals, positional.pop(0), call.start()).upper() if positional else "POST"
        body = keywords.get("json", keywords.get("data"))
        if body is None:
            continue
        sample = Sample("request", page, "python", number, _short(body), method=method)
        if "files" in keywords:
            sample.files = _file_fields(literals, keywords["files"], call.start())
        url_text = keywords.get("url", positional[0] if positional else None)
        found.append(_call_sample(sample, literals, url_text, body, call.start()))
    return found


FILE_FIELD = re.compile(r"""[{,]\s*["'](\w+)["']\s*:""")


def _file_fields(literals: PythonLiterals, expression: str, position: int) -> list[str]:
    """The keys of a ``files=`` dict (its values are open files and tuples, no literals), inline or assigned."""
    text = expression.strip()
    if re.fullmatch(r"[A-Za-z_]\w*", text):
        text = literals.assigned(text, position) or text
    return FILE_FIELD.findall(text)


def _python_text(literals: PythonLiterals, expression: str, position: int) -> str:
    try:
        return str(literals.evaluate(expression, position))
    except (Unresolved, ValueError):
        return expression


def _python_sdk_body(literals: PythonLiterals, arguments: str, position: int) -> dict[str, Any]:
    """An SDK call's keyword arguments as the request body (``extra_body`` merged, client-side settings left out)."""
    keywords: dict[str, Any] = {}
    for keyword, expression in split_arguments(arguments):
        if keyword is None:
            raise Unresolved("a positional argument to an SDK call")
        value = literals.evaluate(expression, position)
        if keyword == "extra_body" and isinstance(value, dict):
            keywords.update(value)
        elif keyword not in ("extra_headers", "extra_query", "timeout"):
            keywords[keyword] = value
    return keywords


def _expression_at(code: str, start: int) -> str:
    """The string literal, bracketed value or name that begins at ``start``."""
    prefixed = code[start : start + 1] in ("f", "F") and code[start + 1 : start + 2] in STRING_QUOTES
    if code[start : start + 1] in STRING_QUOTES or prefixed:
        return code[start : _string_end(code, start + prefixed)]
    if code[start : start + 1] in OPENERS:
        end = balanced_end(code, start)
        return code[start:] if end < 0 else code[start:end]
    name = re.match(r"[\w.$]*", code[start:])
    return name.group(0) if name else ""


def _sdk_url(literals: PythonLiterals | JavascriptLiterals, base_url: str, call: re.Match[str]) -> str:
    return str(literals.evaluate(base_url, call.start())).rstrip("/") + SDK_PATHS[call.group(1)]


def _matched(match: re.Match[str] | None) -> str | None:
    return match.group(0) if match else None


def _read(sample: Sample, url: Callable[[], str | None], value: Callable[[], Any]) -> Sample:
    """Fill the sample's url and value, or the problem that stopped reading them."""
    try:
        sample.url = url()
        if sample.url is None:
            raise Unresolved("the sample names no URL")
        sample.value = value()
    except Unresolved as error:
        sample.problem = f"unresolved: {error}"
    except ValueError as error:
        sample.problem = f"unparseable: {error}"
    return sample


def _call_sample(
    sample: Sample, literals: PythonLiterals | JavascriptLiterals, url: str | None, body: str, at: int
) -> Sample:
    """A sample whose URL and body are expressions of the page's code."""
    return _read(
        sample,
        lambda: None if url is None else str(literals.evaluate(url, at)),
        lambda: literals.evaluate(body, at),
    )


FETCH_CALL = re.compile(r"\bfetch\s*\(")
AXIOS_CALL = re.compile(r"\baxios\.(post|put|patch)\s*\(")


def _javascript_http_calls(page: str, number: int, code: str, literals: JavascriptLiterals) -> list[Sample]:
    """``fetch``, Node's ``https.request`` and ``axios`` calls."""
    found: list[Sample] = []
    for call, arguments in _calls(code, FETCH_CALL):
        parts = split_arguments(arguments)
        if len(parts) < 2 or not parts[1][1].startswith("{"):
            continue
        options = parts[1][1]
        stringify = re.search(r"\bbody\s*:\s*JSON\.stringify\s*\(", options)
        if stringify is None:
            continue
        body = call_arguments(options, stringify.end() - 1) or ""
        method = re.search(r"\bmethod\s*:\s*['\"`](\w+)", options)
        sample = Sample(
            "request", page, "javascript", number, _short(body), method=(method.group(1) if method else "GET").upper()
        )
        found.append(_call_sample(sample, literals, parts[0][1], body, call.start()))
    found.extend(node_samples(page, number, code, literals))
    for call, arguments in _calls(code, AXIOS_CALL):
        parts = split_arguments(arguments)
        if len(parts) < 2:
            continue
        sample = Sample("request", page, "javascript", number, _short(parts[1][1]), method=call.group(1).upper())
        found.append(_call_sample(sample, literals, parts[0][1], parts[1][1], call.start()))
    return found


NODE_REQUEST = re.compile(r"\bhttps?\.request\s*\(")
NODE_WRITE = re.compile(r"\b[\w$]+\.write\(\s*([A-Za-z_$][\w$]*)\s*\)")


def node_samples(page: str, number: int, code: str, literals: JavascriptLiterals) -> list[Sample]:
    """Node's ``https.request(url?, options, …)`` whose request is sent a body with ``req.write(data)``."""
    found: list[Sample] = []
    for write in NODE_WRITE.finditer(code):
        opened = list(NODE_REQUEST.finditer(code, 0, write.start()))
        arguments = call_arguments(code, opened[-1].end() - 1) if opened else None
        if arguments is None:
            continue
        parts = [expression for _, expression in split_arguments(arguments)]
        options_name = parts[1] if len(parts) >= 3 else parts[0]
        options = literals.bound(options_name, write.start()) or options_name
        method = re.search(r"\bmethod\s*:\s*['\"`](\w+)", options)
        body = write.group(1)
        sample = Sample("request", page, "javascript", number, _short(literals.bound(body, write.start()) or body))
        sample.method = (method.group(1) if method else "GET").upper()
        if len(parts) >= 3:
            found.append(_call_sample(sample, literals, parts[0], body, write.start()))
        else:
            url = partial(_node_url, literals, options, write.start())
            found.append(_read(sample, url, partial(literals.evaluate, body, write.start())))
    return found


def _node_url(literals: JavascriptLiterals, options: str, position: int) -> str | None:
    """``https://{hostname}{path}`` from a Node request's options; None when they do not say both."""
    host = re.search(r"\bhostname\s*:\s*(['\"`][^'\"`]*['\"`])", options)
    path = re.search(r"\bpath\s*:\s*(['\"`][^'\"`]*['\"`])", options)
    if host is None or path is None:
        return None
    return f"https://{literals.evaluate(host.group(1), position)}{literals.evaluate(path.group(1), position)}"


PYTHON = Language("python", "#", PythonLiterals, re.compile(r"\bbase_url\s*=\s*"), _python_http_calls, _python_sdk_body)
JAVASCRIPT = Language(
    "javascript",
    "//",
    JavascriptLiterals,
    re.compile(r"\bbaseURL\s*:\s*"),
    _javascript_http_calls,
    lambda literals, arguments, position: literals.evaluate(arguments, position),
)


CURL_DATA = re.compile(r"(?:-d|--data(?:-raw|-binary)?)\s+(['\"])")


def curl_samples(page: str, number: int, language: str, code: str) -> list[Sample]:
    found: list[Sample] = []
    for command in re.split(r"\bcurl\b", code)[1:]:
        data = CURL_DATA.search(command)
        if data is None:
            continue
        end = _string_end(command, data.end() - 1)
        body = command[data.end() : end - 1]
        method = re.search(r"(?:-X|--request)\s+['\"]?(\w+)", command)
        url = re.search(r"https?://[^\s'\"\\]+", command)
        sample = Sample(
            "request",
            page,
            language or "shell",
            number,
            _short(body),
            method=(method.group(1) if method else "POST").upper(),
        )
        found.append(_read(sample, partial(_matched, url), partial(parse_data, body)))
    return found


# --- response examples -----------------------------------------------------------------------------------


def response_samples(page: str, number: int, language: str, code: str) -> list[Sample]:
    """Each top-level object of an output block (printed text around them is skipped)."""
    found: list[Sample] = []
    index = code.find("[") if code.strip().startswith("[") else _next_object(code, 0)
    while 0 <= index < len(code):
        end = balanced_end(code, index)
        text = code[index:] if end < 0 else code[index:end]
        sample = Sample("response", page, language, number, _short(text))
        try:
            if end < 0:
                raise ValueError("the example never closes its bracket")
            sample.value = parse_data(text)
        except ValueError as error:
            sample.problem = f"unparseable: {error}"
        found.append(sample)
        if end < 0:
            break
        index = _next_object(code, end)
    return found


def _next_object(code: str, start: int) -> int:
    """The next ``{`` that opens an object, not a GitBook tag (``{% code %}``)."""
    index = code.find("{", start)
    while index >= 0 and code.startswith("{%", index):
        index = code.find("{", index + 2)
    return index
