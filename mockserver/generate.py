"""The response generator: a JSON value drawn from a JSON Schema (OpenAPI 3.1 dialect).

Compile once, run many::

    generator = Generator(document)
    compiled = generator.compile(schema, pointer)      # at load time
    value = compiled.generate(random.Random(seed))      # per request: same seed, same value

Compiling turns a schema into a tree of nodes (``generate_nodes``, ``generate_types``): ``$ref``s
are bound to their target's node once (shared, so recursion is a cycle in the tree), ``allOf``
is merged into one schema, and ``oneOf``/``anyOf`` become unions whose branches carry their
sibling keywords. Each node both draws a value and judges one; judging is how ``oneOf``
exclusivity, ``not``, ``if`` and the parts of an ``allOf`` that could not be merged are enforced,
so a value that would break its schema is redrawn. Where redrawing keeps failing (a ``oneOf``
that random draws seldom tell apart) the node answers one of a few witnesses found once with a
fixed seed, and logs that repair; ``GenerationError`` (with the pointer of the schema) is raised
only when no witness exists either.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from functools import partial
from typing import Any

from apitwin.mockserver.generate_nodes import (
    DEFAULT_NULL_RATE,
    INF,
    AnyNode,
    CheckedNode,
    ChoiceNode,
    ConditionalNode,
    GenerationError,
    NeverNode,
    Node,
    RefNode,
    TypedNode,
    UnionNode,
    equal,
)
from apitwin.mockserver.generate_types import ArrayNode, ConstantNode, NumberNode, ObjectNode, StringNode
from apitwin.specs import ecma_regex
from apitwin.specs import pointer as json_pointer
from apitwin.specs.example_ids import id_like

__all__ = ["CompiledSchema", "GenerationError", "Generator", "judging_nodes", "reachable"]

DEFAULT_MAX_DEPTH = 8
"""``$ref``s a value descends through before optional parts are left out (see generate_nodes)."""
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "example",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "xml",
        "externalDocs",
        "discriminator",
        "contentEncoding",
        "$schema",
        "$id",
        "$anchor",
    }
)
OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "propertyNames",
    }
)
ARRAY_KEYWORDS = frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"})
STRING_KEYWORDS = frozenset({"minLength", "maxLength", "pattern", "contentMediaType", "contentSchema"})
NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
ALL_TYPES = ("string", "number", "object", "array", "boolean", "null")
EXAMPLE_WEIGHT = 0.5
"""How often a schema's own examples/default are answered instead of a drawn value."""


class CompiledSchema:
    """What ``Generator.compile`` returns: ``generate(rng)`` draws, ``is_valid(value)`` judges."""

    __slots__ = ("max_depth", "node")

    def __init__(self, node: Node, max_depth: int) -> None:
        self.node = node
        self.max_depth = max_depth

    def generate(self, rng: random.Random, skip: tuple[str, ...] = ()) -> Any:
        """A value; with ``skip``, an object without those properties, for a caller that sets them
        itself (drawing a big ``choices`` only to replace it is the costly part of an answer)."""
        if skip:
            root = _object_root(self.node)
            if root is not None:
                return root.gen(rng, self.max_depth, frozenset(skip))
        return self.node.gen(rng, self.max_depth)

    __call__ = generate

    def property_drawers(self) -> dict[str, Callable[[random.Random], Any]]:
        """For each property a drawn object may have (none when the schema is not one object shape), how
        :meth:`generate` draws its value."""
        root = _object_root(self.node)
        if root is None:
            return {}
        return {name: partial(node.gen, budget=self.max_depth) for name, node in root.properties.items()}

    def is_valid(self, value: Any) -> bool:
        return self.node.ok(value)


class ExampleNode(ChoiceNode):
    """An object's examples, answered with their ids drawn afresh: a client that keeps objects by id must not
    see the documented id on every answer that takes the example."""

    __slots__ = ("fresh",)

    def __init__(self, pointer: str, base: Node, candidates: list[Any], fresh: dict[str, Node]) -> None:
        super().__init__(pointer, base, candidates, exclusive=False, weight=EXAMPLE_WEIGHT)
        self.fresh = fresh
        """The id-like properties whose ids are drawn in the examples' prefix and shape, and how."""

    def gen(self, rng: random.Random, budget: int) -> Any:
        if not (self.candidates and rng.random() < self.weight):
            return self.base.gen(rng, budget)
        value = copy.deepcopy(rng.choice(self.candidates))
        if isinstance(value, dict):
            for name, node in self.fresh.items():
                if name in value:
                    value[name] = node.gen(rng, budget)
        return value


def _drawn_prefix(node: Node) -> str | None:
    """The prefix an id-like string node draws its ids with, when it draws one."""
    if isinstance(node, ChoiceNode):
        node = node.base
    if not isinstance(node, TypedNode):
        return None
    for kind, typed in node.gen_types:
        if kind == "string" and isinstance(typed, StringNode) and id_like(typed.name):
            return typed.id_shape.prefix if typed.id_shape is not None else typed.prefix
    return None


def _fresh_ids(node: Node, candidates: list[Any]) -> dict[str, Node]:
    """The id-like properties of an object node that the object examples fill with an id it would draw anew."""
    objects = [typed for kind, typed in node.gen_types if kind == "object"] if isinstance(node, TypedNode) else []
    if not objects or not isinstance(objects[0], ObjectNode):
        return {}
    fresh: dict[str, Node] = {}
    for name, child in objects[0].properties.items():
        prefix = _drawn_prefix(child) if id_like(name) else None
        if prefix is None:
            continue
        shown = (value.get(name) for value in candidates if isinstance(value, dict))
        if any(isinstance(value, str) and value.startswith(prefix) for value in shown):
            fresh[name] = child
    return fresh


def _object_root(node: Node) -> ObjectNode | None:
    """The object node a schema draws from when it can only be one object shape (through refs)."""
    while True:
        if isinstance(node, RefNode) and node.target is not None:
            node = node.target
        elif isinstance(node, TypedNode) and [kind for kind, _ in node.gen_types] == ["object"]:
            node = node.gen_types[0][1]
        else:
            return node if isinstance(node, ObjectNode) else None


class Generator:
    """Compiles schemas of one OpenAPI document; compiled ``$ref`` targets are shared."""

    def __init__(
        self,
        document: dict[str, Any],
        max_depth: int = DEFAULT_MAX_DEPTH,
        optional_rate: float = 0.5,
        null_rate: float = DEFAULT_NULL_RATE,
    ) -> None:
        self.document = document
        self.max_depth = max_depth
        self.optional_rate = optional_rate
        """How often optional properties are drawn: 1.0 answers full objects, as real servers do."""
        self.null_rate = null_rate
        """How often a nullable value is null: 0 means only where nothing else can be drawn."""
        self._refs: dict[str, RefNode] = {}
        self._pending: list[tuple[RefNode, str]] = []

    def compile(self, schema: Any, pointer: str = "#") -> CompiledSchema:
        """Compile ``schema`` (found at ``pointer``); raises GenerationError if nothing can satisfy it."""
        try:
            root = self._compile(schema, pointer)
            while self._pending:
                ref_node, ref = self._pending.pop()
                try:
                    ref_node.target = self._compile(self._resolve(ref, ref_node.pointer), ref)
                except GenerationError as problem:  # bound all the same: later schemas share this node (``_refs``)
                    ref_node.target = NeverNode(problem.pointer, problem.message)
        except RecursionError:
            reason = "the schema nests too deep to compile (a recursion through allOf?)"
            self._pending.clear()
            for unbound in self._refs.values():  # shared with later schemas: none may stay without a target
                if unbound.target is None:
                    unbound.target = NeverNode(unbound.pointer, reason)
            raise GenerationError(pointer, reason) from None
        _finalise(root)
        if root.cost == INF:
            raise _first_failure(root) or GenerationError(pointer, "no value can satisfy this schema")
        return CompiledSchema(root, self.max_depth)

    # ------------------------------------------------------------ dispatch

    def _compile(self, schema: Any, pointer: str, name: str | None = None, hints: list[Any] | None = None) -> Node:
        if schema is True:
            return AnyNode(pointer)
        if schema is False:
            return NeverNode(pointer, "the schema is `false`")
        if not isinstance(schema, dict):
            return NeverNode(pointer, f"not a schema: {schema!r}")
        if "$ref" in schema:
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            if not _constraining(rest):
                return self._ref(schema["$ref"], pointer)
            schema = {"allOf": [{"$ref": schema["$ref"]}, rest]}
        if "allOf" in schema:
            return self._compile_all_of(schema, pointer, name, hints)
        if "not" in schema:
            if schema["not"] is True or schema["not"] == {}:  # how a spec (or a response view) forbids a property
                return NeverNode(pointer, "`not: {}`: no value is valid")
            base = self._compile(_without(schema, "not"), pointer, name, hints)
            return CheckedNode(pointer, base, [], [self._compile(schema["not"], pointer + "/not")])
        if "if" in schema:
            return self._compile_conditional(schema, pointer, name, hints)
        if "oneOf" in schema or "anyOf" in schema:
            return self._compile_union(schema, pointer, name, hints)
        if "enum" in schema or "const" in schema:
            return self._compile_enum(schema, pointer, name, hints)
        node = self._compile_typed(schema, pointer, name, hints or [])
        candidates = _examples(schema) + list(hints or [])
        prefix = _drawn_prefix(node)
        if prefix is not None:  # the node draws ids like these: a documented id is never answered as it is
            candidates = [value for value in candidates if not (isinstance(value, str) and value.startswith(prefix))]
        if not candidates:
            return node
        fresh = _fresh_ids(node, candidates)
        if fresh:
            return ExampleNode(pointer, node, candidates, fresh)
        return ChoiceNode(pointer, node, candidates, exclusive=False, weight=EXAMPLE_WEIGHT)

    def _ref(self, ref: str, pointer: str) -> Node:
        node = self._refs.get(ref)
        if node is None:
            node = self._refs[ref] = RefNode(ref)
            self._pending.append((node, ref))
        return node

    def _resolve(self, ref: str, pointer: str) -> Any:
        if not ref.startswith("#"):
            raise GenerationError(pointer, f"only local $refs are supported, not {ref!r}")
        try:
            return json_pointer.resolve(self.document, ref)
        except KeyError:
            raise GenerationError(pointer, f"$ref {ref!r} does not resolve") from None

    # ------------------------------------------------------------ combinators

    def _compile_all_of(self, schema: dict[str, Any], pointer: str, name: str | None, hints: list[Any] | None) -> Node:
        single = _lone_reference(schema)
        if single is not None:  # AWS writes a described $ref as allOf [$ref, {description}]: inlined, a cycle recursed
            return self._compile(single, pointer, name, hints)
        try:
            members = self._flatten(schema, pointer, 0)
            merged, extras = _merge(members, pointer)
        except GenerationError as problem:
            return NeverNode(problem.pointer, problem.message)
        node = self._compile(merged, pointer, name, hints)
        if not extras:
            return node
        return CheckedNode(pointer, node, [self._compile(extra, pointer + "/allOf") for extra in extras], [])

    def _flatten(self, schema: Any, pointer: str, depth: int) -> list[dict[str, Any]]:
        """``schema`` as a list of members without ``$ref`` or ``allOf`` (targets inlined)."""
        if depth > 32:
            raise GenerationError(pointer, "allOf/$ref nest too deep to merge (recursive allOf?)")
        if schema is True:
            return []
        if schema is False:
            raise GenerationError(pointer, "allOf contains `false`")
        members: list[dict[str, Any]] = []
        rest = {key: value for key, value in schema.items() if key not in ("$ref", "allOf")}
        if "$ref" in schema:
            members += self._flatten(self._resolve(schema["$ref"], pointer), schema["$ref"], depth + 1)
        for index, member in enumerate(schema.get("allOf", [])):
            members += self._flatten(member, f"{pointer}/allOf/{index}", depth + 1)
        if rest:
            members.append(rest)
        return members

    def _compile_conditional(
        self, schema: dict[str, Any], pointer: str, name: str | None, hints: list[Any] | None
    ) -> Node:
        rest = _without(schema, "if", "then", "else")
        condition = schema["if"]
        then_side = {"allOf": [rest, condition, schema.get("then", True)]}
        else_side = {"allOf": [rest, schema.get("else", True)]}
        return ConditionalNode(
            pointer,
            self._compile(condition, pointer + "/if"),
            self._compile(then_side, pointer + "/then", name, hints),
            self._compile(else_side, pointer + "/else", name, hints),
        )

    def _compile_union(self, schema: dict[str, Any], pointer: str, name: str | None, hints: list[Any] | None) -> Node:
        keyword = "oneOf" if "oneOf" in schema else "anyOf"
        rest = _without(schema, keyword, "discriminator")
        shared = _constraining(rest)
        branches = []
        for index, branch in enumerate(schema[keyword]):
            branch_pointer = f"{pointer}/{keyword}/{index}"
            combined = {"allOf": [rest, branch]} if shared else branch
            branches.append(self._compile(combined, branch_pointer, name, hints))
        union = UnionNode(pointer, branches, exclusive=keyword == "oneOf")
        union.null_rate = self.null_rate
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and "propertyName" in discriminator:
            union.property_name = discriminator["propertyName"]
            for key, target in _discriminator_targets(discriminator, schema[keyword]).items():
                ref = {"$ref": target}
                union.mapped[key] = self._compile({"allOf": [rest, ref]} if shared else ref, pointer + "/discriminator")
        if not shared:
            return union
        # The union's own siblings are checked too (the validator applies them beside the union).
        return CheckedNode(pointer, union, [self._compile(rest, pointer, name, hints)], [])

    def _compile_enum(self, schema: dict[str, Any], pointer: str, name: str | None, hints: list[Any] | None) -> Node:
        candidates = list(schema.get("enum", []))
        if "const" in schema:
            candidates = [schema["const"]] if not candidates else [v for v in candidates if equal(v, schema["const"])]
        rest = _without(schema, "enum", "const", "default", "examples", "example")
        base = self._compile(rest, pointer, name, None) if _constraining(rest) else AnyNode(pointer)
        return ChoiceNode(pointer, base, candidates, exclusive=True, weight=1.0)

    # ------------------------------------------------------------ types

    def _compile_typed(self, schema: dict[str, Any], pointer: str, name: str | None, hints: list[Any]) -> Node:
        declared = schema.get("type")
        if declared is None:
            kinds = _inferred_types(schema)
            if not kinds:
                return AnyNode(pointer)
            check: dict[str, Node | None] = {kind: None for kind in ALL_TYPES}
        else:
            kinds = [declared] if isinstance(declared, str) else list(dict.fromkeys(declared))
            check = {}
        examples = _examples(schema) + hints
        gen_types: list[tuple[str, Node]] = []
        for kind in kinds:
            node = self._type_node(kind, schema, pointer, name, examples)
            gen_types.append((kind, node))
            check[kind] = node
        if not gen_types:
            return NeverNode(pointer, "`type` lists no type")
        typed = TypedNode(pointer, gen_types, check)
        typed.null_rate = self.null_rate
        return typed

    def _type_node(
        self, kind: str, schema: dict[str, Any], pointer: str, name: str | None, examples: list[Any]
    ) -> Node:
        if kind == "string":
            node = StringNode(pointer, schema, name, examples)
            media = str(schema.get("contentMediaType", ""))
            if media == "application/json" or media.endswith("+json"):
                node.content = self._compile(schema.get("contentSchema", True), pointer + "/contentSchema")
            return node
        if kind in ("integer", "number"):
            return NumberNode(pointer, schema, kind == "integer", name)
        if kind in ("boolean", "null"):
            return ConstantNode(pointer, kind)
        if kind == "array":
            return self._array_node(schema, pointer)
        if kind == "object":
            return self._object_node(schema, pointer, examples)
        return NeverNode(pointer, f"unknown type {kind!r}")

    def _array_node(self, schema: dict[str, Any], pointer: str) -> Node:
        node = ArrayNode(pointer, schema)
        node.prefix = [
            self._compile(item, f"{pointer}/prefixItems/{i}") for i, item in enumerate(schema.get("prefixItems", []))
        ]
        items = schema.get("items", True)
        if items is False:
            node.max_items = len(node.prefix) if node.max_items is None else min(node.max_items, len(node.prefix))
        elif items is not True:
            node.items = self._compile(items, pointer + "/items")
        if node.items is None and items is not False:
            node.items = AnyNode(pointer + "/items")
        if "contains" in schema:
            node.contains = self._compile(schema["contains"], pointer + "/contains")
        return node

    def _object_node(self, schema: dict[str, Any], pointer: str, examples: list[Any]) -> Node:
        node = ObjectNode(pointer, schema)
        node.optional_rate = self.optional_rate
        for name, sub in (schema.get("properties") or {}).items():
            hints = [example[name] for example in examples if isinstance(example, dict) and name in example]
            node.properties[name] = self._compile(sub, f"{pointer}/properties/{json_pointer.escape(name)}", name, hints)
        additional = schema.get("additionalProperties", True)
        if additional is not True:
            node.additional = self._compile(additional, pointer + "/additionalProperties")
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            found = ecma_regex.matcher(pattern)
            if found is not None:  # a pattern no engine accepts judges nothing, as in the validator
                node.pattern_properties.append((found, self._compile(sub, pointer + "/patternProperties")))
        if "propertyNames" in schema:
            names = {"allOf": [{"type": "string"}, schema["propertyNames"]]}
            node.names = self._compile(names, pointer + "/propertyNames")
        return node


# ---------------------------------------------------------------- helpers


def _without(schema: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key not in keys}


def _lone_reference(schema: dict[str, Any]) -> dict[str, Any] | None:
    """``{$ref}`` when ``schema`` is an allOf of one ``$ref`` and words about it (titles, descriptions), beside it or
    in other members: compiled as the reference, which a recursive schema needs (inlined, it recursed for ever)."""
    members = schema.get("allOf")
    if not isinstance(members, list) or not _words_only(_without(schema, "allOf")):
        return None
    others = [member for member in members if not (isinstance(member, dict) and _words_only(member))]
    if len(others) != 1 or not isinstance(others[0], dict) or set(others[0]) != {"$ref"}:
        return None
    return others[0]


def _words_only(schema: dict[str, Any]) -> bool:
    return all(key in ("title", "description", "$comment") or key.startswith("x-") for key in schema)


def _constraining(schema: dict[str, Any]) -> bool:
    return any(key not in ANNOTATIONS and not key.startswith("x-") for key in schema)


def _examples(schema: dict[str, Any]) -> list[Any]:
    found = list(schema.get("examples") or []) if isinstance(schema.get("examples"), list) else []
    for key in ("example", "default"):
        if key in schema:
            found.append(schema[key])
    return found


def _inferred_types(schema: dict[str, Any]) -> list[str]:
    keys = schema.keys()
    kinds = []
    if keys & OBJECT_KEYWORDS:
        kinds.append("object")
    if keys & ARRAY_KEYWORDS:
        kinds.append("array")
    if keys & STRING_KEYWORDS or "format" in keys:
        kinds.append("string")
    if keys & NUMBER_KEYWORDS:
        kinds.append("number")
    return kinds


def _discriminator_targets(discriminator: dict[str, Any], branches: list[Any]) -> dict[str, str]:
    """Discriminator value → ``$ref`` it selects: the mapping, then implicit component names."""
    targets = {key: ref for key, ref in (discriminator.get("mapping") or {}).items() if isinstance(ref, str)}
    mapped = set(targets.values())
    for branch in branches:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        prefix = "#/components/schemas/"
        if isinstance(ref, str) and ref.startswith(prefix) and ref not in mapped:
            targets.setdefault(ref[len(prefix) :], ref)
    return targets


_LOWER = {
    "minimum": max,
    "exclusiveMinimum": max,
    "minLength": max,
    "minItems": max,
    "minProperties": max,
    "minContains": max,
    "maximum": min,
    "exclusiveMaximum": min,
    "maxLength": min,
    "maxItems": min,
    "maxProperties": min,
    "maxContains": min,
}
_GROUPS = {"if": ("if", "then", "else"), "then": ("if", "then", "else"), "else": ("if", "then", "else")}


def _merge(members: list[dict[str, Any]], pointer: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One schema equivalent to the members where merging is exact, plus members to check after.

    A member with ``additionalProperties``/``patternProperties`` judges keys against its *own*
    properties, so it is kept whole as a check besides being merged.
    """
    merged: dict[str, Any] = {}
    extras: list[dict[str, Any]] = []
    for member in members:
        if len(members) > 1 and (member.get("additionalProperties", True) is not True or "patternProperties" in member):
            extras.append(member)
        for key, value in member.items():
            if key not in merged:
                merged[key] = value
            elif key in _LOWER:
                merged[key] = _LOWER[key](merged[key], value)
            elif key == "type":
                merged[key] = _intersect_types(merged[key], value, pointer)
            elif key == "required":
                merged[key] = list(dict.fromkeys([*merged[key], *value]))
            elif key == "properties":
                merged[key] = _merge_properties(merged[key], value)
            elif key == "enum":
                merged[key] = [item for item in merged[key] if any(equal(item, other) for other in value)]
                if not merged[key]:
                    raise GenerationError(pointer, "allOf: the enums have no value in common")
            elif key == "const":
                if not equal(merged[key], value):
                    raise GenerationError(pointer, f"allOf: const {merged[key]!r} contradicts const {value!r}")
            elif key == "items" and isinstance(value, dict) and isinstance(merged[key], dict):
                merged[key] = {"allOf": [merged[key], value]}
            elif key == "uniqueItems":
                merged[key] = bool(merged[key]) or bool(value)
            elif key in ANNOTATIONS or key.startswith("x-") or equal(merged[key], value):
                if key == "examples" and isinstance(value, list):
                    merged[key] = [*merged[key], *value]
            else:
                group = _GROUPS.get(key, (key,))
                extra = {name: member[name] for name in group if name in member}
                if extra not in extras:
                    extras.append(extra)
    _check_bounds(merged, pointer)
    return merged, extras


def _merge_properties(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
    merged = dict(one)
    for name, schema in two.items():
        merged[name] = {"allOf": [merged[name], schema]} if name in merged else schema
    return merged


def _intersect_types(one: Any, two: Any, pointer: str) -> list[str]:
    first = [one] if isinstance(one, str) else list(one)
    second = [two] if isinstance(two, str) else list(two)
    common = [kind for kind in first if kind in second]
    if "integer" in first and "number" in second and "integer" not in common:
        common.append("integer")
    if "number" in first and "integer" in second and "integer" not in common:
        common.append("integer")
    if not common:
        raise GenerationError(pointer, f"allOf: type {one!r} contradicts type {two!r}")
    return common


def _check_bounds(schema: dict[str, Any], pointer: str) -> None:
    for low, high in (
        ("minLength", "maxLength"),
        ("minItems", "maxItems"),
        ("minProperties", "maxProperties"),
        ("minimum", "maximum"),
    ):
        if low in schema and high in schema and schema[low] > schema[high]:
            raise GenerationError(pointer, f"allOf: {low} {schema[low]} exceeds {high} {schema[high]}")


def reachable(root: Node) -> list[Node]:
    """Every node reachable from ``root``, children before their parents (cycles visited once)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node.children() if id(child) not in seen)
    return order


def judging_nodes(root: Node) -> list[Node]:
    """The reachable nodes that judge a drawn value and may redraw it (``oneOf`` whose branches
    can overlap, ``not`` and unmerged ``allOf``, ``if``): where drawing alone could fail."""
    found: list[Node] = []
    for node in reachable(root):
        if isinstance(node, UnionNode):
            if node.exclusive and not node.disjoint and node.property_name is None:
                found.append(node)
        elif isinstance(node, (CheckedNode, ConditionalNode)):
            found.append(node)
    return found


def _finalise(root: Node) -> None:
    """Filter candidates and compute every reachable node's cost (a fixed point, children first)."""
    order = reachable(root)
    for node in order:
        finalise = getattr(node, "finalise", None)
        if finalise is not None:
            finalise()
    for _ in range(len(order) + 1):
        changed = False
        for node in order:
            cost = node.compute_cost()
            if cost < node.cost:
                node.cost = cost
                changed = True
        if not changed:
            break


def _first_failure(root: Node) -> GenerationError | None:
    """The deepest reason a root is unsatisfiable, when one ``NeverNode`` explains it."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node.cost < INF:
            continue
        seen.add(id(node))
        if isinstance(node, NeverNode):
            return GenerationError(node.pointer, node.reason)
        stack.extend(node.children())
    return None
