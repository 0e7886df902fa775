"""Per-type nodes: string, integer/number, boolean, null, array, object.

Each applies only the keywords of its own type; ``TypedNode`` (generate_nodes) picks among them.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import functools
import json
import math
import os
import random
import re
import string
import time
import uuid
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from apitwin.mockserver.generate_nodes import ATTEMPTS, INF, Node, unique_key
from apitwin.mockserver.generate_regex import RegexGenerator
from apitwin.specs import ecma_regex
from apitwin.specs.example_ids import id_like
from apitwin.specs.example_ids import id_prefix as example_id_prefix
from apitwin.specs.validation import FORMAT_CHECKER

DAY = 86_400


def run_epoch(environ: Mapping[str, str] = os.environ, now: Callable[[], float] = time.time) -> int:
    """Where generated timestamps start: midnight (UTC) of the day before this process started, so answers look
    as recent as a real gateway's and stay the same all day for a seed. ``APITWIN_EPOCH`` (Unix seconds) pins it,
    for answers that must match across days (golden files, recordings compared later)."""
    pinned = environ.get("APITWIN_EPOCH", "").strip()
    if pinned:
        try:
            return int(float(pinned))
        except ValueError:
            raise ValueError(f"APITWIN_EPOCH must be Unix seconds, got {pinned!r}") from None
    return int(now() // DAY * DAY) - DAY


EPOCH = run_epoch()
"""Timestamps are this Unix time plus a seeded offset of up to a day: the day before the run's."""
EPOCH_SPREAD = DAY
WORDS = [
    "the",
    "quick",
    "model",
    "answers",
    "every",
    "question",
    "with",
    "care",
    "and",
    "a",
    "short",
    "clear",
    "reply",
    "about",
    "data",
    "tokens",
    "streams",
    "tools",
    "results",
    "when",
    "asked",
    "for",
    "more",
    "detail",
    "it",
    "explains",
    "its",
    "reasoning",
    "plainly",
]
ID_ALPHABET = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
TIME_FORMAT = "%H:%M:%SZ"
"""RFC 3339's full-time, which needs a zone."""
_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*[-_])[A-Za-z0-9]{3,}$")
LONGER_TIMESTAMPS = ("%Y-%m-%dT%H:%M:%S.000Z", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%S.000000Z")
"""RFC 3339 timestamps of 24, 25 and 27 characters, for a date-time whose length rules out the 20 of ``…:SSZ``."""
STRETCH = 16
"""Characters past the shortest a length-bound pattern's draw may take (a draw stays readable)."""
ID_LENGTH = 24
"""Letters and digits after the prefix of an id whose example is a placeholder (``chatcmpl-123``)."""
PLACEHOLDER = 8
"""An example's suffix with fewer letters and digits than this is a placeholder, not a shape to follow."""


def id_prefix(examples: list[Any]) -> str | None:
    """``chatcmpl-`` from an example like ``chatcmpl-123`` (the first example that shows one)."""
    for example in examples:
        if isinstance(example, str):
            match = _PREFIX.match(example)
            if match:
                return match.group(1)
    return None


def random_chars(rng: random.Random, alphabet: str, length: int) -> str:
    """``length`` characters drawn uniformly from ``alphabet``, from draws of bytes: ``rng.choices`` takes a Python
    call per character (~2.5 µs of a 29-character id), this one C call for the whole run (~0.5 µs)."""
    if not alphabet.isascii() or not 0 < len(alphabet) <= 256:
        return "".join(rng.choices(alphabet, k=length))
    table, dropped = _byte_table(alphabet)
    drawn = b""
    while len(drawn) < length:  # a byte is dropped at most a quarter of the time: one draw nearly always does
        drawn += rng.randbytes(length + length // 2 + 2).translate(table, dropped)
    return drawn[:length].decode("ascii")


@functools.cache
def _byte_table(alphabet: str) -> tuple[bytes, bytes]:
    """(translation, bytes to drop) that make a random byte a character of ``alphabet``, each equally likely: the
    bytes under the largest multiple of its size below 256 map to a character, the rest are dropped."""
    usable = 256 - 256 % len(alphabet)
    table = bytes(ord(alphabet[byte % len(alphabet)]) if byte < usable else 0 for byte in range(256))
    return table, bytes(range(usable, 256))


class IdShape:
    """How an id-like property's examples look: their prefix, then runs of characters (``8-4-4-4-12`` hex after
    ``chatcmpl-``, 29 letters and digits after another ``chatcmpl-``). A drawn id has the prefix and fresh runs
    of the same lengths and alphabets, so it looks like the vendor's ids without being one of them."""

    __slots__ = ("prefix", "runs")

    def __init__(self, prefix: str, suffix: str) -> None:
        self.prefix = prefix
        self.runs: list[tuple[str, str, int]] = []
        """(separator before, alphabet, length) of each run."""
        if sum(char.isalnum() for char in suffix) < PLACEHOLDER:
            self.runs = [("", ID_ALPHABET, ID_LENGTH)]
            return
        for separator, run in re.findall(r"([-_]?)([A-Za-z0-9]+)", suffix):
            self.runs.append((separator, _run_alphabet(run), len(run)))

    @classmethod
    def of(cls, examples: list[Any]) -> IdShape | None:
        """The shape of the first example that shows an id prefix (``specs.example_ids.id_prefix``)."""
        for example in examples:
            prefix = example_id_prefix(example) if isinstance(example, str) else None
            if prefix is not None:
                return cls(prefix, example[len(prefix) :])
        return None

    def draw(self, rng: random.Random, node: StringNode) -> str:
        parts = [self.prefix]
        for separator, alphabet, length in self.runs:
            parts += [separator, random_chars(rng, alphabet, length)]
        value = "".join(parts)
        if node.max_length is not None:
            value = value[: node.max_length]
        missing = node.min_length - len(value)
        if missing > 0:
            value += random_chars(rng, self.runs[-1][1], missing)
        return value


def _run_alphabet(run: str) -> str:
    if run.isdigit():
        return string.digits
    if all(char in HEX for char in run):
        return HEX
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    return "".join(chars for chars in classes if any(char in chars for char in run))


def _timestamp(rng: random.Random) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(EPOCH + rng.randrange(EPOCH_SPREAD), tz=datetime.UTC)


class StringNode(Node):
    __slots__ = ("content", "format", "id_shape", "max_length", "min_length", "name", "pattern", "prefix", "regex")

    def __init__(self, pointer: str, schema: dict[str, Any], name: str | None, examples: list[Any]) -> None:
        super().__init__(pointer)
        self.min_length = int(schema.get("minLength", 0))
        self.max_length = int(schema["maxLength"]) if "maxLength" in schema else None
        pattern = schema.get("pattern")
        self.pattern = ecma_regex.matcher(pattern) if isinstance(pattern, str) else None
        drawable = ecma_regex.drawable(pattern) if isinstance(pattern, str) else None
        self.regex = RegexGenerator(drawable) if drawable is not None else None
        self.format = schema.get("format")
        self.content: Node | None = None
        """The compiled ``contentSchema`` when ``contentMediaType`` is JSON."""
        self.name = name or ""
        self.prefix = id_prefix(examples)
        self.id_shape = IdShape.of(examples) if id_like(self.name) and not self.format else None
        """An id-like property whose examples show a prefix: its ids are drawn in their prefix and shape."""
        if self.max_length is not None:  # a prefix that leaves no room is no prefix to draw
            if self.prefix is not None and len(self.prefix) >= self.max_length:
                self.prefix = None
            if self.id_shape is not None and len(self.id_shape.prefix) >= self.max_length:
                self.id_shape = None

    def gen(self, rng: random.Random, budget: int) -> Any:
        for attempt in range(ATTEMPTS):
            value = self._draw(rng, budget, attempt)
            if self.ok(value):
                return value
        raise self.fail(f"no drawn string satisfied pattern/length/format {self.format or ''}".rstrip())

    def _draw(self, rng: random.Random, budget: int, attempt: int) -> str:
        if self.content is not None:
            return json.dumps(self.content.gen(rng, budget))
        if self.id_shape is not None and (self.regex is None or attempt < ATTEMPTS // 2):
            return self.id_shape.draw(rng, self)  # a pattern the shape misses gets the regex's draws after
        if self.regex is not None and self.format and attempt % 3 == 2:
            formatted = _format_value(self.format, rng)  # a pattern beside a format: its own draws may not be one
            if formatted is not None:
                return formatted
        if self.regex is not None:
            drawn = self.regex.generate(rng)
            if self._fits(drawn) or attempt % 2 == 0:
                return drawn
            # A repeat left open (`^[0-9]+$`) beside a length (12: an AWS account id): the shortest form,
            # then as many more repetitions as the length asks.
            shortest = len(self.regex.generate(rng, stretch=0))
            low = max(self.min_length, shortest)
            high = low + STRETCH if self.max_length is None else max(low, min(self.max_length, low + STRETCH))
            return self.regex.generate(rng, stretch=rng.randint(low, high) - shortest)
        if self.format:
            formatted = _format_value(self.format, rng)
            if formatted is not None and self.format == "date-time" and not self._fits(formatted):
                formatted = _timestamp(rng).strftime(rng.choice(LONGER_TIMESTAMPS))  # telstra: maxLength 24
            if formatted is not None:
                return formatted
        if self.prefix is not None:
            return self.prefix + _fit(random_chars(rng, ID_ALPHABET, 24), len(self.prefix), self)
        if id_like(self.name):
            return _fit(random_chars(rng, ID_ALPHABET, 24), 0, self)
        return _fit(_text(rng), 0, self)

    def _fits(self, value: str) -> bool:
        return self.min_length <= len(value) and (self.max_length is None or len(value) <= self.max_length)

    def ok(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if not self._fits(value):
            return False
        if self.pattern is not None and not self.pattern.search(value):
            return False
        if self.format and not FORMAT_CHECKER.conforms(value, self.format):
            return False
        if self.content is not None:
            try:
                return self.content.ok(json.loads(value))
            except ValueError:
                return False
        return True

    def children(self) -> list[Node]:
        return [self.content] if self.content is not None else []

    def compute_cost(self) -> float:
        return 1.0 if self.content is None else self.content.cost


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(2, 6))).capitalize()


def _fit(text: str, used: int, node: StringNode) -> str:
    """``text`` cut or padded so that ``used + len`` lies within the node's length bounds."""
    if node.max_length is not None:
        text = text[: max(node.max_length - used, 0)]
    missing = node.min_length - used - len(text)
    if missing > 0:
        text += "x" * missing
    return text


def _format_value(fmt: str, rng: random.Random) -> str | None:
    if fmt == "date-time":
        return _timestamp(rng).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return _timestamp(rng).strftime("%Y-%m-%d")
    if fmt == "time":
        return _timestamp(rng).strftime(TIME_FORMAT)
    if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
        return f"https://example.com/{rng.choice(WORDS)}/{rng.randrange(1000)}"
    if fmt in ("email", "idn-email"):
        return f"{rng.choice(WORDS)}{rng.randrange(100)}@example.com"
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt == "byte":
        return base64.b64encode(rng.randbytes(rng.randint(3, 12))).decode("ascii")
    if fmt == "binary":
        return random_chars(rng, ID_ALPHABET, 16)
    if fmt in ("ipv4", "ip"):
        return ".".join(str(rng.randrange(1, 255)) for _ in range(4))
    if fmt == "ipv6":
        return ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))
    if fmt in ("hostname", "idn-hostname"):
        return f"{rng.choice(WORDS)}.example.com"
    if fmt == "duration":
        return rng.choice(("P{}D", "PT{}H", "PT{}M", "PT{}S")).format(rng.randint(1, 59))
    if fmt == "json-pointer":
        return f"/{rng.choice(WORDS)}/{rng.randrange(10)}"
    if fmt == "relative-json-pointer":
        return f"{rng.randrange(3)}/{rng.choice(WORDS)}"
    if fmt == "uri-template":
        return f"https://example.com/{rng.choice(WORDS)}/{{id}}"
    if fmt == "color":
        return f"#{rng.getrandbits(24):06x}"
    if fmt == "regex":
        return f"^{rng.choice(WORDS)}-[0-9]+$"
    if fmt == "password":
        return random_chars(rng, ID_ALPHABET, 16)
    return None


class NumberNode(Node):
    """``integer`` (``integral=True``) or ``number``."""

    __slots__ = ("format", "high", "high_open", "integral", "low", "low_open", "multiple", "name", "plausible")

    def __init__(self, pointer: str, schema: dict[str, Any], integral: bool, name: str | None) -> None:
        super().__init__(pointer)
        self.integral = integral
        self.name = (name or "").lower()
        self.format = schema.get("format")
        self.low, self.low_open = _bound(schema, "minimum", "exclusiveMinimum", max)
        self.high, self.high_open = _bound(schema, "maximum", "exclusiveMaximum", min)
        if self.format == "int32":
            self.low, self.high = _narrow(self.low, -(2**31), max), _narrow(self.high, 2**31 - 1, min)
        self.multiple = schema.get("multipleOf")
        self.plausible = self._plausible()
        """The range a value is drawn from first (worked out once: every answer's timestamps and counts ask)."""

    def gen(self, rng: random.Random, budget: int) -> Any:
        for attempt in range(ATTEMPTS):
            value = self._draw(rng, attempt)
            if value is not None and self.ok(value):
                return value
        raise self.fail("no number satisfies the bounds and multipleOf")

    def _draw(self, rng: random.Random, attempt: int) -> int | float | None:
        low, high = self._range(attempt)
        if low > high:
            return None
        if self.multiple:
            step = self.multiple
            if self.integral and isinstance(step, float):
                # Integral multiples of p/q are the multiples of p.
                step = Fraction(step).limit_denominator(10**6).numerator
            first, last = math.ceil(low / step), math.floor(high / step)
            if first > last:
                return None
            value = rng.randint(first, min(last, first + 100)) * step
            if isinstance(step, int):
                return int(value)
            return round(value, _decimals(step))  # 87 * 0.1 is 8.700000000000001; 8.7 is what's meant
        if self.integral:
            return rng.randint(math.ceil(low), math.floor(high)) if math.ceil(low) <= math.floor(high) else None
        if self.plausible[0] == EPOCH:
            return rng.randint(math.ceil(low), math.floor(high)) if math.ceil(low) <= math.floor(high) else None
        value = rng.uniform(low, high)
        return round(value, 2) if attempt < ATTEMPTS // 2 else value

    def _range(self, attempt: int) -> tuple[float, float]:
        """A plausible sub-range of the allowed one (timestamps, token counts, small numbers)."""
        low = self.low if self.low is not None else -math.inf
        high = self.high if self.high is not None else math.inf
        if attempt < ATTEMPTS // 4:
            wanted = self.plausible
            plausible = (max(low, wanted[0]), min(high, wanted[1]))
            if plausible[0] <= plausible[1]:
                return plausible
        # The plausible range misses the allowed one: stay near an allowed edge instead.
        if self.low is not None:
            return low, min(high, low + 100)
        if self.high is not None:
            return high - 100, high
        return 0, 100

    def _plausible(self) -> tuple[float, float]:
        if self.name in ("created", "timestamp") or self.name.endswith("_at"):
            return EPOCH, EPOCH + EPOCH_SPREAD
        if "token" in self.name:
            return 0, 500
        if not self.integral and self.low is not None and self.high is not None and self.high - self.low <= 2:
            return self.low, self.high
        return 0, 100

    def ok(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integral and not (isinstance(value, int) or value.is_integer()):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        if self.multiple and not _is_multiple(value, self.multiple):
            return False
        return not (self.format and not FORMAT_CHECKER.conforms(value, self.format))


def _decimals(step: float) -> int:
    """Decimal places ``step`` is written with (0.25: 2; 2.5e-05: 6)."""
    exponent = decimal.Decimal(repr(step)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, tighter: Any) -> tuple[float | None, bool]:
    """The effective bound and whether it is open, from the inclusive and exclusive keywords."""
    closed, opened = schema.get(inclusive), schema.get(exclusive)
    if isinstance(opened, bool):  # OpenAPI 3.0 leftovers: a flag on the inclusive bound
        closed, opened = (None, closed) if opened else (closed, None)
    if opened is None:
        return closed, False
    if closed is None or tighter(closed, opened) == opened:
        return opened, True
    return closed, False


def _narrow(bound: float | None, limit: float, tighter: Any) -> float:
    return limit if bound is None else tighter(bound, limit)


def _is_multiple(value: float, multiple: float) -> bool:
    """A multiple by both judges' rules.

    For a float divisor jsonschema divides in floats and jsonschema-rs (the self-check's and
    schemathesis's judge) compares decimals; for 0.1 the first accepts only 8.700000000000001, the
    second only 8.7. Values both accept (4.4, 7.3) are the ones to answer."""
    if isinstance(multiple, float):
        quotient = value / multiple
        try:
            if int(quotient) != quotient:
                return False
        except OverflowError:
            return False
        return decimal.Decimal(repr(value)) % decimal.Decimal(repr(multiple)) == 0
    if isinstance(value, float):
        return value.is_integer() and int(value) % multiple == 0
    return value % multiple == 0


class ConstantNode(Node):
    """``boolean`` and ``null``: the type check is the whole schema."""

    __slots__ = ("kind",)

    def __init__(self, pointer: str, kind: str) -> None:
        super().__init__(pointer)
        self.kind = kind

    def gen(self, rng: random.Random, budget: int) -> Any:
        return None if self.kind == "null" else rng.random() < 0.5

    def ok(self, value: Any) -> bool:
        return value is None if self.kind == "null" else isinstance(value, bool)


class ArrayNode(Node):
    __slots__ = ("contains", "items", "max_items", "min_items", "prefix", "unique")

    def __init__(self, pointer: str, schema: dict[str, Any]) -> None:
        super().__init__(pointer)
        self.items: Node | None = None
        self.prefix: list[Node] = []
        self.contains: Node | None = None
        self.min_items = int(schema.get("minItems", 0))
        self.max_items = int(schema["maxItems"]) if "maxItems" in schema else None
        self.unique = bool(schema.get("uniqueItems"))

    def gen(self, rng: random.Random, budget: int) -> Any:
        low = max(self.min_items, 1 if self.contains is not None else 0)
        high = low if budget <= 0 else low + 3
        if self.max_items is not None:
            high = min(high, self.max_items)
        if self.items is None:
            high = min(high, len(self.prefix))
        if low > high:
            raise self.fail("minItems cannot be met")
        count = rng.randint(low, high)
        values: list[Any] = []
        seen: set[str] = set()
        for index in range(count):
            node = self._node_at(index)
            for _ in range(ATTEMPTS):
                value = node.gen(rng, budget)
                if not self.unique or unique_key(value) not in seen:
                    break
            else:
                if index >= self.min_items:
                    break
                raise self.fail("uniqueItems: no further distinct item could be drawn")
            seen.add(unique_key(value)) if self.unique else None
            values.append(value)
        return values

    def _node_at(self, index: int) -> Node:
        if index < len(self.prefix):
            return self.prefix[index]
        if index == len(self.prefix) and self.contains is not None:
            return self.contains
        return self.items  # type: ignore[return-value]

    def ok(self, value: Any) -> bool:
        if not isinstance(value, list):
            return False
        if len(value) < self.min_items or (self.max_items is not None and len(value) > self.max_items):
            return False
        for index, item in enumerate(value):
            node = self.prefix[index] if index < len(self.prefix) else self.items
            if node is not None and not node.ok(item):
                return False
        if self.contains is not None and not any(self.contains.ok(item) for item in value):
            return False
        return not (self.unique and len({unique_key(item) for item in value}) != len(value))

    def children(self) -> list[Node]:
        return [node for node in (self.items, self.contains, *self.prefix) if node is not None]

    def compute_cost(self) -> float:
        first = self.prefix[: self.min_items]
        rest = max(self.min_items - len(self.prefix), 0)
        cost = 1 + sum(node.cost for node in first)
        if rest:  # (0 * inf is nan: an empty tail costs nothing even when items recurse)
            cost += rest * (self.items.cost if self.items is not None else INF)
        return cost + (self.contains.cost if self.contains is not None else 0)


class ObjectNode(Node):
    """Declared properties; extra keys only when ``minProperties`` asks for them."""

    __slots__ = (
        "additional",
        "max_properties",
        "min_properties",
        "names",
        "optional",
        "optional_rate",
        "pattern_properties",
        "properties",
        "required",
    )

    def __init__(self, pointer: str, schema: dict[str, Any]) -> None:
        super().__init__(pointer)
        self.properties: dict[str, Node] = {}
        self.required: list[str] = list(dict.fromkeys(schema.get("required", [])))
        self.optional: list[str] = []
        self.additional: Node | None = None
        """Schema for undeclared keys; None accepts anything (``additionalProperties`` absent/true)."""
        self.pattern_properties: list[tuple[ecma_regex.Matcher, Node]] = []
        self.names: Node | None = None
        self.min_properties = int(schema.get("minProperties", 0))
        self.max_properties = int(schema["maxProperties"]) if "maxProperties" in schema else None
        self.optional_rate = 0.5
        """How often an optional property is present (while the depth budget lasts)."""

    def finalise(self) -> None:
        self.optional = [name for name in self.properties if name not in self.required]

    def gen(self, rng: random.Random, budget: int, skip: frozenset[str] = frozenset()) -> Any:
        """A drawn object; properties named in ``skip`` are left out (a caller fills them itself)."""
        value: dict[str, Any] = {}
        for name in self.required:
            if name not in skip:
                value[name] = self._node_for(name).gen(rng, budget)
        room = (self.max_properties - len(value)) if self.max_properties is not None else len(self.optional)
        missing = self.min_properties - len(value)
        for name in self.optional:
            if room <= 0:
                break
            if name in skip:
                continue
            wanted = missing > 0 or (budget > 0 and rng.random() < self.optional_rate)
            if wanted and self.properties[name].cost < INF:
                value[name] = self.properties[name].gen(rng, budget)
                room, missing = room - 1, missing - 1
        extra = 0
        while len(value) < self.min_properties:
            extra += 1
            key = self.names.gen(rng, budget) if self.names is not None else f"key_{extra}"
            if key not in value and extra < 100:
                value[key] = self._node_for(key).gen(rng, budget)
            elif extra >= 100:
                raise self.fail("minProperties cannot be met")
        return value

    def _node_for(self, name: str) -> Node:
        node = self.properties.get(name)
        if node is not None:
            return node
        for pattern, pattern_node in self.pattern_properties:
            if pattern.search(name):
                return pattern_node
        if self.additional is None:
            return _DEFAULT_VALUE
        return self.additional

    def ok(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if len(value) < self.min_properties or (self.max_properties is not None and len(value) > self.max_properties):
            return False
        if any(name not in value for name in self.required):
            return False
        for name, item in value.items():
            if self.names is not None and not self.names.ok(name):
                return False
            if not self._accepts(name, item):
                return False
        return True

    def _accepts(self, name: str, item: Any) -> bool:
        declared = self.properties.get(name)
        if declared is not None and not declared.ok(item):
            return False
        matched = False
        for pattern, node in self.pattern_properties:
            if pattern.search(name):
                matched = True
                if not node.ok(item):
                    return False
        if declared is None and not matched and self.additional is not None:
            return self.additional.ok(item)
        return True

    def children(self) -> list[Node]:
        nodes = [*self.properties.values(), *(node for _, node in self.pattern_properties)]
        return nodes + [node for node in (self.additional, self.names) if node is not None]

    def compute_cost(self) -> float:
        cost = 1.0 + sum(self._node_for(name).cost for name in self.required)
        short = self.min_properties - len(self.required)
        if short > 0:
            optional = sorted(self.properties[name].cost for name in self.properties if name not in self.required)
            cost += sum(optional[:short])
            if short > len(optional):
                cost += (short - len(optional)) * (self.additional.cost if self.additional is not None else 1)
        return cost


class _DefaultValue(Node):
    """A required key no schema describes: any value is valid; a short word is drawn."""

    __slots__ = ()

    def gen(self, rng: random.Random, budget: int) -> Any:
        return rng.choice(WORDS)

    def ok(self, value: Any) -> bool:
        return True

    def compute_cost(self) -> float:
        return 1.0


_DEFAULT_VALUE = _DefaultValue("#")
_DEFAULT_VALUE.cost = 1.0
