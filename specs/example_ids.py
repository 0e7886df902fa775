"""Ids as a vendor's own examples show them: which names are ids, the prefix an id starts with, and the ids an
example gives the string schemas it fills.

A vendor's examples carry ids such as ``chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG`` or ``resp_67ccd3a9…``, while
its schemas say only ``type: string``. ``IdExamples`` walks example values beside the schema they answer (``$ref``s
followed, the ``oneOf``/``anyOf`` branch the value takes) and collects each id-like leaf at the string schema it
fills. Where the ids of one schema agree on a prefix, a few of them become that schema's ``examples``, each a
logged repair; the mock then answers ids of that prefix and shape, never one of the documented ids
(``mockserver/generate_types.py`` reads them with the rule below). Two sources feed it: the doc samples of a
vendor's pages (``sample_verdicts.id_examples``) and OpenAI's ``x-oaiMeta`` examples (``normalise``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from apitwin.specs.pointer import join, resolve
from apitwin.specs.repairs import RepairLog
from apitwin.specs.validation import SchemaChecker

ID_PREFIX = re.compile(r"^([a-z]{2,}[-_])(?=[A-Za-z]*[0-9])[A-Za-z0-9]{3,}(?:[-_][A-Za-z0-9]+)*$")
"""An id with a prefix: a lowercase word and ``-`` or ``_``, then runs of letters and digits (the first with a
digit, so ``text-embedding-3-small`` is a name, not an id): ``chatcmpl-B9MHDbslfk…``, ``file-abc123``,
``chatcmpl-81964e30-1a7c-…``, ``gen-1752165706-Nd1dXa1k…``."""
LEADING_WORD = re.compile(r"^([a-z]{2,}[-_])[A-Za-z0-9]")
"""The word an id starts with, whatever follows (``video_68e5…:openai/sora-2``): what the examples vote with."""
SHARE = 4
"""An agreed prefix starts at least 1/SHARE of a place's ids."""
MAX_EXAMPLES = 3
"""Ids given to one schema: enough to show the shape, few enough to keep the spec readable."""
MAX_DEPTH = 64


def id_like(name: str) -> bool:
    """A property that names an id: ``id`` or ``…_id``."""
    return name == "id" or name.endswith("_id")


def id_prefix(value: str) -> str | None:
    """``chatcmpl-`` of ``chatcmpl-123``; None when the value shows no prefix the mock can follow."""
    match = ID_PREFIX.match(value)
    return match.group(1) if match else None


def leading_word(value: str) -> str | None:
    match = LEADING_WORD.match(value)
    return match.group(1) if match else None


def agreed_prefix(values: list[str]) -> str | None:
    """The prefix the ids of one place agree on: the word more of them start with than any other, when it starts at
    least a quarter of them. A gateway's answers come from several upstreams (``chatcmpl-…``, ``gen-…``, UUIDs,
    hex digests): the prefix most of its examples show is its convention; one a few show is an upstream's."""
    words = Counter(word for word in map(leading_word, values) if word is not None)
    ranked = words.most_common(2)
    if not ranked:
        return None
    word, count = ranked[0]
    if count * SHARE < len(values) or (len(ranked) > 1 and ranked[1][1] == count):
        return None
    return word


class IdExamples:
    """Id-like leaves of example values, gathered per string schema of one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        """The document the values are walked in (its branches chosen by validating against it)."""
        self._checker = SchemaChecker(document)
        self._leaves: dict[str, list[tuple[str, str]]] = {}
        """Pointer of a string schema → the ids examples give it, each with where the example came from."""

    def add(self, value: Any, schema: Any, pointer: str, source: str) -> None:
        """The id-like leaves of ``value``, an example of ``schema`` (which sits at ``pointer``)."""
        self._walk(value, schema, pointer, None, source, 0)

    def accepts(self, schema: Any, value: Any) -> bool:
        try:
            return self._checker.fast(schema).is_valid(value)
        except Exception:  # noqa: BLE001 - a schema the native validator cannot compile accepts nothing here
            return False

    def _walk(self, value: Any, schema: Any, pointer: str, name: str | None, source: str, depth: int) -> None:
        if depth > MAX_DEPTH or not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref.startswith("#"):
                try:
                    target = resolve(self.document, ref)
                except KeyError:
                    target = None
                # The mock compiles a $ref's target without the property's name, so no id is named there.
                self._walk(value, target, ref[1:], None, source, depth + 1)
            schema = {key: item for key, item in schema.items() if key != "$ref"}
        for index, member in enumerate(schema.get("allOf") or []):
            self._walk(value, member, join(pointer, "allOf", index), name, source, depth + 1)
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list):
                for index in self._branches(schema, branches, value):
                    self._walk(value, branches[index], join(pointer, keyword, index), name, source, depth + 1)
        if isinstance(value, dict):
            properties = schema.get("properties")
            if isinstance(properties, dict):
                for key, item in value.items():
                    if key in properties:
                        self._walk(item, properties[key], join(pointer, "properties", key), key, source, depth + 1)
        elif isinstance(value, list):
            items = schema.get("items")
            if isinstance(items, dict):
                for item in value:
                    self._walk(item, items, join(pointer, "items"), None, source, depth + 1)
        elif isinstance(value, str) and name is not None and id_like(name) and _string_leaf(schema):
            self._leaves.setdefault(pointer, []).append((value, source))

    def _branches(self, schema: dict[str, Any], branches: list[Any], value: Any) -> list[int]:
        """The branches ``value`` takes: the discriminator's, else those that accept it (for an object or an
        array only when one does: a value several object shapes accept says nothing about which it is)."""
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(value, dict):
            chosen = (discriminator.get("mapping") or {}).get(value.get(discriminator.get("propertyName")))
            for index, branch in enumerate(branches):
                if isinstance(branch, dict) and chosen is not None and branch.get("$ref") == chosen:
                    return [index]
        accepted = [index for index, branch in enumerate(branches) if self.accepts(branch, value)]
        if isinstance(value, (dict, list)) and len(accepted) > 1:
            return []
        return accepted

    def give(self, document: dict[str, Any], log: RepairLog, *, kind: str, examples: str) -> int:
        """Give each string schema whose ids agree on a prefix up to ``MAX_EXAMPLES`` of them as ``examples``
        (``document`` has the same pointers as the one walked); each gift is a repair of ``kind`` citing the
        sources. ``examples`` names them in the reason (``response examples of its pages``). How many were given."""
        given = 0
        for pointer, leaves in self._leaves.items():
            schema = _schema_at(document, pointer)
            word = agreed_prefix([value for value, _ in leaves])
            if schema is None or word is None or _shows_a_prefix(schema):
                continue
            chosen: list[str] = []
            for value, _ in leaves:
                if id_prefix(value) == word and value not in chosen and self.accepts(schema, value):
                    chosen.append(value)
            if not chosen:
                continue
            chosen = chosen[:MAX_EXAMPLES]
            before = schema.get("examples", "<absent>")
            schema["examples"] = [*(before if isinstance(before, list) else []), *chosen]
            agreeing = [source for value, source in leaves if leading_word(value) == word]
            sources = list(dict.fromkeys(agreeing))
            log.record(
                kind,
                join(pointer, "examples"),
                source=", ".join(sources),
                before=before,
                after=schema["examples"],
                reason=_reason(len(agreeing), len(leaves), word, examples, len(chosen)),
            )
            given += 1
        return given


def _reason(agreeing: int, total: int, word: str, examples: str, given: int) -> str:
    if total == 1:
        said = f"The one id the vendor's {examples} give here starts with {word!r}"
    else:
        said = (
            f"{agreeing} of the {total} ids the vendor's {examples} give here start with {word!r}, more than with "
            "any other prefix"
        )
    kept = "It becomes its example" if given == 1 else f"{given} of them become its examples"
    return (
        f"{said}; the schema does not say so. {kept}, so the mock answers ids of that prefix and shape (fresh "
        "ones, never a documented one)."
    )


def _string_leaf(schema: dict[str, Any]) -> bool:
    """A schema an id string ends at: a string type, no enumeration."""
    declared = schema.get("type")
    strings = declared == "string" or (isinstance(declared, list) and "string" in declared)
    return strings and "enum" not in schema and "const" not in schema


def _schema_at(document: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    try:
        schema = resolve(document, pointer)
    except KeyError:
        return None
    return schema if isinstance(schema, dict) else None


def _shows_a_prefix(schema: dict[str, Any]) -> bool:
    """The schema's own examples already show an id prefix: the document's word stands."""
    listed = schema.get("examples")
    own = [*(listed if isinstance(listed, list) else []), schema.get("example")]
    return any(isinstance(example, str) and id_prefix(example) for example in own)
