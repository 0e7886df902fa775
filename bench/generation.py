"""``python -m bench generation`` — issue 16: the response generator never fails on a satisfiable schema.

For every shipped spec and every published spec in ``../shared/foreign-specs``, each response schema is
compiled the way the server compiles it, and every node that judges its draws (``generate.judging_nodes``) is
drawn from at many seeds and two depth budgets. A failure is a ``GenerationError`` or a value the node rejects.
The suite runs the same property with a handful of seeds (tests/mockserver/test_generate_witnesses.py).
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apitwin import specs
from apitwin.mockserver.generate import GenerationError, Generator, judging_nodes
from apitwin.mockserver.generate_nodes import INF
from apitwin.mockserver.operations import RESPONSE_OPTIONAL_RATE
from apitwin.specs import pointer as json_pointer

FOREIGN = Path(__file__).resolve().parents[1].parent / "shared" / "foreign-specs"


@dataclass(slots=True)
class SpecSweep:
    spec: str
    schemas: int
    judging_nodes: int
    draws: int
    failures: int
    seconds: float
    examples: list[str] = field(default_factory=list)


def names() -> list[str]:
    shipped = sorted(path.parent.name for path in (Path(specs.__file__).parent / "apis").glob("*/openapi.json"))
    return shipped + sorted(str(path) for path in FOREIGN.glob("*.yaml"))


def sweep(name: str, seeds: int) -> SpecSweep:
    started = time.monotonic()
    document = specs.load(name)
    generator = Generator(document, optional_rate=RESPONSE_OPTIONAL_RATE, null_rate=0.0)
    nodes: dict[int, Any] = {}
    schemas = 0
    for location, schema in response_schemas(document):
        schemas += 1
        for node in judging_nodes(generator.compile(schema, location).node):
            if node.cost < INF:
                nodes[id(node)] = node
    result = SpecSweep(Path(name).stem, schemas, len(nodes), 0, 0, 0.0)
    for node in nodes.values():
        for seed in range(seeds):
            for budget in (generator.max_depth, 0):
                result.draws += 1
                try:
                    if node.ok(node.gen(random.Random(seed), budget)):
                        continue
                    problem = f"{node.pointer}: drew a value it rejects (seed {seed})"
                except GenerationError as error:
                    problem = f"{error} (seed {seed})"
                result.failures += 1
                if len(result.examples) < 3:
                    result.examples.append(problem)
    result.seconds = time.monotonic() - started
    return result


def response_schemas(document: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for status, response in (operation.get("responses") or {}).items():
                for media, content in ((response or {}).get("content") or {}).items():
                    if isinstance(content, dict) and "schema" in content:
                        location = json_pointer.join("#/paths", path, method, "responses", status, "content", media)
                        found.append((location + "/schema", content["schema"]))
    return found


def run(seeds: int) -> list[SpecSweep]:
    results = []
    for name in names():
        row = sweep(name, seeds)
        results.append(row)
        print(f"[generation] {row.spec}: {row.failures} failures in {row.draws} draws", flush=True)
    return results


def markdown(results: list[SpecSweep], seeds: int) -> str:
    lines = [
        "# Generation sweep: every judging node of every response schema",
        "",
        f"{seeds} seeds x 2 depth budgets per node; a failure is a GenerationError or a rejected draw.",
        "",
        "| spec | response schemas | judging nodes | draws | failures | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        lines.append(
            f"| `{row.spec}` | {row.schemas} | {row.judging_nodes} | {row.draws} | {row.failures} | {row.seconds:.1f} |"
        )
    examples = [example for row in results for example in row.examples]
    if examples:
        lines += ["", "Failures (first few):", "", *[f"- `{example}`" for example in examples]]
    return "\n".join(lines) + "\n"


def as_json(results: list[SpecSweep], seeds: int) -> dict[str, Any]:
    return {"seeds": seeds, "specs": [asdict(row) for row in results]}
