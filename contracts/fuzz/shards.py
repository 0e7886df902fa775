"""Splitting one run across CI machines: operations are dealt out deterministically."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → ``Shard(2, 4)``; anything else is a clear error."""
    index, slash, total = text.partition("/")
    if slash and index.strip().isdigit() and total.strip().isdigit():
        shard = Shard(int(index), int(total))
        if 1 <= shard.index <= shard.total:
            return shard
    raise ValueError(f"--shard must be i/n with 1 <= i <= n (e.g. 1/3), got {text!r}")


def take_shard(labels: Sequence[str], shard: Shard | None) -> list[str]:
    """The labels of this shard: sorted, then dealt round-robin, so every machine agrees without talking."""
    ordered = sorted(labels)
    if shard is None:
        return ordered
    return [label for position, label in enumerate(ordered) if position % shard.total == shard.index - 1]
