"""Compiled schema nodes: each draws a value (``gen``) and judges one (``ok``).

``budget`` counts the ``$ref``s a value may still pass through before the node tree turns
*shallow*: optional properties omitted, shortest arrays, the cheapest branch of a union. ``cost``
(computed once, after compiling, by a fixed point over all nodes) estimates the size of the
smallest value a node can draw; infinity means the node cannot terminate or is unsatisfiable.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from apitwin.specs.jsontypes import json_type as base_json_type

INF = math.inf
HARD_FLOOR = -40
"""A value that is still descending this many refs past the budget cannot terminate."""
ATTEMPTS = 12
DEFAULT_NULL_RATE = 0.25
"""Draws a node makes before giving up on a constraint it checks after the fact (oneOf, not, ...)."""
PROBES: tuple[Any, ...] = (None, False, True, 0, 1, -1, 0.5, "", "a", [], {}, [None])
"""Plain values tried as witnesses: they separate ``oneOf`` branches that random draws seldom do."""
SEPARATION_DEPTH = 2
"""Levels of nested objects :func:`_refusals` looks into for a property that tells two oneOf branches apart."""
WITNESS_DRAWS = 16
WITNESS_BUDGETS = (0, 3, 8)
"""Draws per source, at each of these depth budgets, when collecting witnesses: a shallow draw is
the cheapest value and always the same one, a deeper draw varies."""
MAX_WITNESSES = 8

logger = logging.getLogger("apitwin.generate")


class GenerationError(Exception):
    """A schema no value can be drawn for; ``pointer`` locates it in the document."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}")
        self.pointer = pointer
        self.message = message


class Node:
    __slots__ = ("cost", "pointer")

    def __init__(self, pointer: str) -> None:
        self.pointer = pointer
        self.cost = INF

    def gen(self, rng: random.Random, budget: int) -> Any:
        raise NotImplementedError

    def ok(self, value: Any) -> bool:
        raise NotImplementedError

    def children(self) -> list[Node]:
        return []

    def compute_cost(self) -> float:
        return 1.0

    def fail(self, message: str) -> GenerationError:
        return GenerationError(self.pointer, message)


# ---------------------------------------------------------------- JSON helpers


def json_type(value: Any) -> str:
    """The JSON type as a validator judges it: a float with no fraction is also an integer."""
    if isinstance(value, float) and value.is_integer():
        return "integer"
    return base_json_type(value)


def equal(one: Any, two: Any) -> bool:
    """JSON Schema equality: ``1 == 1.0`` but ``True != 1``."""
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[key], two[key]) for key in one)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=False))
    return (type(one) is type(two) and one == two) or (_is_number(one) and _is_number(two) and one == two)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def unique_key(value: Any) -> str:
    """A canonical text for ``uniqueItems`` (integral floats spelt as integers)."""
    return json.dumps(_canonical(value), sort_keys=True)


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------- leaves and wrappers


class AnyNode(Node):
    """``true`` / ``{}``: anything is valid; mostly draws a short word, sometimes another type.

    The other types matter to a ``oneOf`` such as ``[{"type": "string"}, {}]``, where only a
    non-string satisfies exactly one branch.
    """

    __slots__ = ()

    def gen(self, rng: random.Random, budget: int) -> Any:
        kind = rng.randrange(8)
        if kind < 4:
            return ("value", "sample", "text", "example")[kind]
        return (rng.randrange(100), rng.random() < 0.5, {}, None)[kind - 4]

    def ok(self, value: Any) -> bool:
        return True


class NeverNode(Node):
    """``false`` or a schema proven unsatisfiable: nothing validates."""

    __slots__ = ("reason",)

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(pointer)
        self.reason = reason

    def gen(self, rng: random.Random, budget: int) -> Any:
        raise self.fail(self.reason)

    def ok(self, value: Any) -> bool:
        return False

    def compute_cost(self) -> float:
        return INF


class RefNode(Node):
    """A ``$ref``, bound to the target's compiled node once (no lookups while drawing)."""

    __slots__ = ("target",)

    def __init__(self, pointer: str) -> None:
        super().__init__(pointer)
        self.target: Node | None = None

    def gen(self, rng: random.Random, budget: int) -> Any:
        if budget < HARD_FLOOR:
            raise self.fail("recursion without a terminating option")
        return self.target.gen(rng, budget - 1)  # type: ignore[union-attr]

    def ok(self, value: Any) -> bool:
        return self.target.ok(value)  # type: ignore[union-attr]

    def children(self) -> list[Node]:
        return [self.target] if self.target is not None else []

    def compute_cost(self) -> float:
        return self.target.cost if self.target is not None else INF


class ChoiceNode(Node):
    """Values to prefer (enum members, examples, defaults) over drawing from ``base``.

    ``exclusive`` (enum/const): only the candidates are valid. Otherwise candidates are used
    with probability ``weight`` and ``base`` draws the rest. Candidates are filtered by
    ``base.ok`` once, in ``finalise``.
    """

    __slots__ = ("base", "candidates", "exclusive", "weight")

    def __init__(self, pointer: str, base: Node, candidates: list[Any], exclusive: bool, weight: float) -> None:
        super().__init__(pointer)
        self.base = base
        self.candidates = candidates
        self.exclusive = exclusive
        self.weight = weight

    def finalise(self) -> None:
        kept: list[Any] = []
        for value in self.candidates:
            if self.base.ok(value) and not any(equal(value, seen) for seen in kept):
                kept.append(value)
        self.candidates = kept

    def gen(self, rng: random.Random, budget: int) -> Any:
        if self.exclusive:
            if not self.candidates:
                raise self.fail("no enum/const value satisfies the rest of the schema")
            return _copy(rng.choice(self.candidates))
        if self.candidates and rng.random() < self.weight:
            return _copy(rng.choice(self.candidates))
        return self.base.gen(rng, budget)

    def ok(self, value: Any) -> bool:
        if self.exclusive:
            return any(equal(value, candidate) for candidate in self.candidates) and self.base.ok(value)
        return self.base.ok(value)

    def children(self) -> list[Node]:
        return [self.base]

    def compute_cost(self) -> float:
        if self.exclusive:
            return 1.0 if self.candidates else INF
        return 1.0 if self.candidates else self.base.cost


def _copy(value: Any) -> Any:
    """Candidates are shared; callers may mutate what they get (behaviours fill in fields)."""
    if isinstance(value, (dict, list)):
        return json.loads(json.dumps(value))
    return value


class Witnesses:
    """Values known to satisfy a node that checks after drawing, found once, on first need.

    Rejection sampling gives up after a few draws; where a constraint is rarely met by chance
    (a ``oneOf`` whose ``{}`` branch must avoid every type its siblings take) the node answers one
    of these instead of failing. They are collected with a fixed seed, so the answers stay a
    function of the request's seed, and the repair is logged once per schema location.
    """

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[Any] | None = None

    def pick(self, node: Node, sources: list[Node], rng: random.Random, reason: str) -> Any:
        if self.values is None:
            self.values = []  # a recursive schema that reaches this node again finds none yet
            self.values = _collect(sources, node.ok)
            if self.values:
                logger.info("%s: %s by drawing; answering from %d witnesses", node.pointer, reason, len(self.values))
        if not self.values:
            raise node.fail(reason)
        return _copy(rng.choice(self.values))


def _collect(sources: list[Node], accept: Callable[[Any], bool]) -> list[Any]:
    found: list[Any] = []
    seen: set[str] = set()

    def offer(value: Any) -> None:
        key = unique_key(value)
        if key not in seen and accept(value):
            seen.add(key)
            found.append(value)

    for value in PROBES:
        offer(value)
    rng = random.Random(0)
    for budget in WITNESS_BUDGETS:
        for source in sources:
            if source.cost == INF:
                continue
            for _ in range(WITNESS_DRAWS):
                if len(found) >= MAX_WITNESSES:
                    return found
                try:
                    offer(source.gen(rng, budget))
                except GenerationError:
                    break
    return found


class CheckedNode(Node):
    """Draw from ``base`` until every node in ``checks`` accepts and none in ``rejects`` does.

    Carries what cannot be built constructively: ``not``, the extra members of an ``allOf`` that
    could not be merged losslessly.
    """

    __slots__ = ("base", "checks", "rejects", "witnesses")

    def __init__(self, pointer: str, base: Node, checks: list[Node], rejects: list[Node]) -> None:
        super().__init__(pointer)
        self.base = base
        self.checks = checks
        self.rejects = rejects
        self.witnesses = Witnesses()

    def gen(self, rng: random.Random, budget: int) -> Any:
        # Rejection sampling: cheap while values pass, so allow many draws before giving up.
        for _ in range(ATTEMPTS * 4):
            value = self.base.gen(rng, budget)
            if self._passes(value):
                return value
        return self.witnesses.pick(self, [self.base], rng, "no drawn value satisfied all of allOf/not")

    def _passes(self, value: Any) -> bool:
        return all(node.ok(value) for node in self.checks) and not any(node.ok(value) for node in self.rejects)

    def ok(self, value: Any) -> bool:
        return self.base.ok(value) and self._passes(value)

    def children(self) -> list[Node]:
        return [self.base, *self.checks, *self.rejects]

    def compute_cost(self) -> float:
        return self.base.cost


class ConditionalNode(Node):
    """``if``/``then``/``else``: draw from one side and keep it if ``if`` agrees with the side."""

    __slots__ = ("condition", "else_node", "then_node", "witnesses")

    def __init__(self, pointer: str, condition: Node, then_node: Node, else_node: Node) -> None:
        super().__init__(pointer)
        self.condition = condition
        self.then_node = then_node
        self.else_node = else_node
        self.witnesses = Witnesses()

    def gen(self, rng: random.Random, budget: int) -> Any:
        sides = [(True, self.then_node), (False, self.else_node)]
        sides = [side for side in sides if side[1].cost < INF]
        if budget <= 0:
            sides.sort(key=lambda side: side[1].cost)
        else:
            rng.shuffle(sides)
        for _ in range(ATTEMPTS // 2):
            for holds, node in sides:
                value = node.gen(rng, budget)
                if self.condition.ok(value) is holds:
                    return value
        sources = [self.then_node, self.else_node]
        return self.witnesses.pick(self, sources, rng, "no drawn value agreed with if/then/else")

    def ok(self, value: Any) -> bool:
        return (self.then_node if self.condition.ok(value) else self.else_node).ok(value)

    def children(self) -> list[Node]:
        return [self.condition, self.then_node, self.else_node]

    def compute_cost(self) -> float:
        return min(self.then_node.cost, self.else_node.cost)


class TypedNode(Node):
    """One node per JSON type; ``gen_types`` are the types drawn, ``check`` judges every type."""

    __slots__ = ("check", "gen_types", "null_rate")

    def __init__(self, pointer: str, gen_types: list[tuple[str, Node]], check: dict[str, Node | None]) -> None:
        super().__init__(pointer)
        self.gen_types = gen_types
        self.check = check
        self.null_rate = DEFAULT_NULL_RATE
        """How often a nullable value is drawn as null while the depth budget lasts."""
        """type → node; a type missing from ``check`` is rejected, a None node accepts it as is."""

    def gen(self, rng: random.Random, budget: int) -> Any:
        if len(self.gen_types) == 1:
            return self.gen_types[0][1].gen(rng, budget)
        options = [option for option in self.gen_types if option[1].cost < INF]
        if not options:
            raise self.fail("no type of the schema can be satisfied")
        if budget <= 0:
            return min(options, key=lambda option: (option[0] != "null", option[1].cost))[1].gen(rng, budget)
        # Realistic APIs mostly fill nullable fields: null only at the ``null_rate``.
        non_null = [option for option in options if option[0] != "null"]
        if non_null and (len(non_null) == len(options) or rng.random() >= self.null_rate):
            return rng.choice(non_null)[1].gen(rng, budget)
        return rng.choice(options)[1].gen(rng, budget)

    def ok(self, value: Any) -> bool:
        kind = json_type(value)
        if kind == "integer" and "integer" not in self.check:
            kind = "number"
        if kind not in self.check:
            return False
        node = self.check[kind]
        return node is None or node.ok(value)

    def children(self) -> list[Node]:
        return [node for node in self.check.values() if node is not None] + [node for _, node in self.gen_types]

    def compute_cost(self) -> float:
        return min((node.cost for _, node in self.gen_types), default=INF)


def only_null(node: Node) -> bool:
    """True for a branch that can only be ``null`` (``{"type": "null"}``, possibly behind refs)."""
    while isinstance(node, RefNode) and node.target is not None:
        node = node.target
    return isinstance(node, TypedNode) and [kind for kind, _ in node.gen_types] == ["null"]


class UnionNode(Node):
    """``oneOf`` / ``anyOf``, with an optional OpenAPI discriminator.

    With a discriminator the value is judged the way the OpenAPI validator judges it: the
    discriminating property names (through ``mapping`` or implicitly) the one schema to check.
    """

    __slots__ = ("branches", "disjoint", "exclusive", "mapped", "null_rate", "property_name", "witnesses")

    def __init__(self, pointer: str, branches: list[Node], exclusive: bool) -> None:
        super().__init__(pointer)
        self.branches = branches
        self.exclusive = exclusive
        self.null_rate = DEFAULT_NULL_RATE
        """0 puts a null-only branch last (drawn only when no other can be)."""
        self.property_name: str | None = None
        self.mapped: dict[str, Node] = {}
        """discriminator value → node of the schema it names."""
        self.disjoint = False
        """No value can match two branches (so a drawn oneOf value needs no exclusivity check)."""
        self.witnesses = Witnesses()

    def finalise(self) -> None:
        signatures = [_signature(branch) for branch in self.branches]
        self.disjoint = all(
            _disjoint(signatures[i], signatures[j])
            for i in range(len(signatures))
            for j in range(i + 1, len(signatures))
        )

    def gen(self, rng: random.Random, budget: int) -> Any:
        if self.property_name is not None:
            return self._gen_discriminated(rng, budget)
        order = [branch for branch in self.branches if branch.cost < INF]
        if budget <= 0:
            order.sort(key=lambda branch: branch.cost)
        else:
            rng.shuffle(order)
            if self.null_rate == 0:
                order.sort(key=only_null)  # a null branch only when no other can be drawn
        separated = None
        for _ in range(ATTEMPTS):
            for branch in order:
                value = branch.gen(rng, budget)
                if not self.exclusive or self.disjoint or self._matches(value) == 1:
                    return value
                candidate = self._separate(value, branch)
                if candidate is not None and any(item is not None for item in value.values()):
                    return candidate  # a value with something of its own, not a lone refusal
                separated = separated if separated is not None else candidate
        if separated is not None:
            return separated
        # Sources in declaration order: the witnesses must not depend on which draw needed them first.
        drawable = [branch for branch in self.branches if branch.cost < INF]
        return self.witnesses.pick(self, drawable, rng, "no branch drawn matched exactly one of oneOf")

    def _gen_discriminated(self, rng: random.Random, budget: int) -> Any:
        keys = [key for key, node in self.mapped.items() if node.cost < INF]
        if budget <= 0:
            keys.sort(key=lambda key: self.mapped[key].cost)
        else:
            rng.shuffle(keys)
        for key in keys * 2:
            value = self.mapped[key].gen(rng, budget)
            if isinstance(value, dict):
                value[self.property_name] = key
                if not self.mapped[key].ok(value):
                    continue
                if not self.exclusive or self.disjoint or self._matches(value) == 1:
                    return value
                # JSON Schema (jsonschema-rs, schemathesis) holds a oneOf to exactly one branch, whatever the
                # discriminator says: open branches that accept each other's values must be told apart.
                separated = self._separate(value, self.mapped[key])
                if separated is not None:
                    return separated
        raise self.fail(f"no schema named by discriminator {self.property_name!r} accepts its own name")

    def _separate(self, value: Any, chosen: Node) -> Any:
        """``value`` (drawn from ``chosen``) made unacceptable to the other branches that accept it.

        Published specs often write a oneOf of open objects (``{a: string}`` or ``{b: integer}``),
        where any object with neither property matches both. A property only the other branch
        declares, given a value that branch refuses (``"b": null``), leaves exactly one match. Where the
        branches differ only inside a property both have (exavault's webhook entries, V1 and V2, differ in
        ``details``), the property is looked into the same way."""
        if not isinstance(value, dict):
            return None
        for other in self.branches:
            if other is chosen or not other.ok(value):
                continue
            declared = _object_node(other)
            if declared is None:
                return None
            value = next(
                (trial for trial in _refusals(value, declared) if chosen.ok(trial) and not other.ok(trial)), value
            )
        return value if self._matches(value) == 1 else None

    def _matches(self, value: Any) -> int:
        return sum(1 for branch in self.branches if branch.ok(value))

    def ok(self, value: Any) -> bool:
        if self.property_name is not None:
            if not isinstance(value, dict) or not value.get(self.property_name):
                return False
            node = self.mapped.get(value[self.property_name]) if isinstance(value[self.property_name], str) else None
            return node is not None and node.ok(value)
        if self.exclusive:
            return self._matches(value) == 1
        return any(branch.ok(value) for branch in self.branches)

    def children(self) -> list[Node]:
        return [*self.branches, *self.mapped.values()]

    def compute_cost(self) -> float:
        if self.property_name is not None:
            return min((node.cost for node in self.mapped.values()), default=INF)
        return min((branch.cost for branch in self.branches), default=INF)


def _unwrapped(node: Node) -> Node:
    """The node that draws for ``node``: refs followed, after-the-fact checks (``CheckedNode``) set aside."""
    while True:
        if isinstance(node, RefNode) and node.target is not None:
            node = node.target
        elif isinstance(node, CheckedNode):
            node = node.base
        else:
            return node


def _refusals(value: dict[str, Any], declared: Any, depth: int = SEPARATION_DEPTH) -> Iterator[dict[str, Any]]:
    """``value`` with one property more that ``declared`` (an object node) refuses: a property it declares and
    ``value`` lacks, set to a probe its schema refuses; else the same inside an object ``value`` has (or could have)
    for a property it declares, ``depth`` levels down."""
    for name, node in declared.properties.items():
        if name not in value:
            for probe in PROBES:
                if not node.ok(probe):
                    yield {**value, name: probe}
    if depth <= 0:
        return
    for name, node in declared.properties.items():
        inner, nested = value.get(name, {}), _object_node(node)  # an object left out is tried as {} and more
        if isinstance(inner, dict) and nested is not None:
            for trial in _refusals(inner, nested, depth - 1):
                yield {**value, name: trial}


def _object_node(node: Node) -> Any:
    """The object schema (an ``ObjectNode``, which imports this module) behind ``node``, or None; examples
    offered beside it (a non-exclusive ``ChoiceNode``) are set aside too."""
    node = _unwrapped(node)
    while isinstance(node, ChoiceNode) and not node.exclusive:
        node = _unwrapped(node.base)
    if isinstance(node, TypedNode):
        found = node.check.get("object")
        return found if hasattr(found, "properties") else None
    return node if hasattr(node, "properties") else None


Signature = tuple[frozenset[str] | None, dict[str, list[Any]]]


def _signature(node: Node) -> Signature:
    """The JSON types a node accepts (None: unknown) and, for objects, required property → allowed values."""
    node = _unwrapped(node)
    if isinstance(node, ChoiceNode) and node.exclusive:
        return frozenset(json_type(value) for value in node.candidates), {}
    if not isinstance(node, TypedNode) or any(check is None for check in node.check.values()):
        return None, {}
    kinds = frozenset(node.check)
    known: dict[str, list[Any]] = {}
    objects = node.check.get("object")
    for name in getattr(objects, "required", []):
        prop = objects.properties.get(name)  # type: ignore[union-attr]
        while isinstance(prop, RefNode) and prop.target is not None:
            prop = prop.target
        if isinstance(prop, ChoiceNode) and prop.exclusive:
            known[name] = prop.candidates
    return kinds, known


def _disjoint(one: Signature, two: Signature) -> bool:
    kinds_one, known_one = one
    kinds_two, known_two = two
    if kinds_one is None or kinds_two is None:
        return False
    widen = {"integer": {"integer", "number"}, "number": {"integer", "number"}}
    if not any(widen.get(kind, {kind}) & kinds_two for kind in kinds_one):
        return True
    if kinds_one != {"object"} or kinds_two != {"object"}:
        return False
    return any(
        not any(equal(a, b) for a in known_one[name] for b in known_two[name])
        for name in known_one.keys() & known_two.keys()
    )
