"""Token-like text: what a model "says", and how many tokens a text counts.

The answer text is drawn from a random source seeded by the request *without* its streaming
fields (``stream``, ``stream_options``), so a streamed answer and a plain one to the same request
carry the same text, and a different prompt gives a different text. The tokenizer is a simple,
prefix-stable one (a word with its leading space, a punctuation mark, at most
:data:`MAX_PIECE` letters a piece): cutting a text after *k* tokens and counting again gives *k*,
which is what makes ``max_tokens`` cuts and ``usage`` agree.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from apitwin.mockserver.operations import seeded

MAX_PIECE = 6
"""Letters of a long word that make one token (words are cut into pieces like sub-word tokens)."""
STREAM_FIELDS = frozenset({"stream", "stream_options"})
ANSWER_TOKENS = (12, 90)
"""How many tokens a natural answer has, before any ``max_tokens`` cut."""

_RAW_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
_WORDS = [
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "as",
    "by",
    "from",
    "at",
    "that",
    "this",
    "it",
    "its",
    "is",
    "are",
    "was",
    "be",
    "can",
    "will",
    "may",
    "model",
    "answer",
    "request",
    "question",
    "value",
    "result",
    "data",
    "system",
    "service",
    "stream",
    "token",
    "text",
    "example",
    "response",
    "message",
    "output",
    "input",
    "request",
    "simple",
    "clear",
    "short",
    "long",
    "first",
    "second",
    "next",
    "last",
    "each",
    "every",
    "some",
    "many",
    "few",
    "more",
    "most",
    "other",
    "same",
    "different",
    "new",
    "old",
    "good",
    "better",
    "best",
    "make",
    "use",
    "give",
    "take",
    "find",
    "show",
    "keep",
    "read",
    "write",
    "send",
    "check",
    "build",
    "test",
    "run",
    "serve",
    "call",
    "time",
    "way",
    "part",
    "case",
    "point",
    "fact",
    "idea",
    "plan",
    "step",
    "note",
    "list",
    "item",
    "field",
    "record",
    "entry",
    "quickly",
    "carefully",
    "often",
    "usually",
    "always",
    "never",
    "also",
    "only",
    "just",
    "still",
    "even",
    "well",
    "because",
    "although",
    "while",
    "when",
    "where",
    "which",
    "whether",
    "however",
    "therefore",
    "meanwhile",
    "configuration",
    "deterministic",
    "streaming",
    "structured",
    "generation",
    "validation",
    "specification",
    "interface",
    "reliable",
    "consistent",
    "measurement",
    "behaviour",
    "contract",
    "gateway",
    "endpoint",
]
_CLOSERS = (".", ".", ".", "!", "?")


def tokenize(text: str) -> list[str]:
    """Token-like pieces whose concatenation is exactly ``text``."""
    pieces: list[str] = []
    for raw in _RAW_TOKEN.findall(text):
        pieces.extend(_split_word(raw))
    return pieces


def _split_word(raw: str) -> list[str]:
    stripped = raw.lstrip()
    lead = raw[: len(raw) - len(stripped)]
    if len(stripped) <= MAX_PIECE:
        return [raw]
    chunks = [stripped[i : i + MAX_PIECE] for i in range(0, len(stripped), MAX_PIECE)]
    chunks[0] = lead + chunks[0]
    return chunks


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def truncate(text: str, limit: int | None) -> tuple[str, bool]:
    """(text cut to at most ``limit`` tokens, whether it was cut)."""
    if limit is None:
        return text, False
    pieces = tokenize(text)
    if len(pieces) <= limit:
        return text, False
    return "".join(pieces[: max(limit, 0)]), True


def prompt_tokens(value: Any) -> int:
    """Tokens of every string in a prompt (messages, input items, instructions), at least 1."""
    total = sum(count_tokens(text) for text in _strings(value))
    return max(total, 1)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []


def answer_rng(seed: int, body: Any, *parts: Any) -> random.Random:
    """The random source of an answer's text: the request without its streaming fields, and the seed."""
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in STREAM_FIELDS}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return seeded("answer", seed, canonical, *parts)


def compose(rng: random.Random, tokens: int | None = None) -> str:
    """Sentences of plausible words, about ``tokens`` tokens long (drawn when not given)."""
    target = tokens if tokens is not None else rng.randint(*ANSWER_TOKENS)
    sentences: list[str] = []
    used = 0
    while used < target:
        sentence = _sentence(rng)
        sentences.append(sentence)
        used += count_tokens(" " + sentence)
    return " ".join(sentences)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 14))]
    words[0] = words[0].capitalize()
    if len(words) > 6 and rng.random() < 0.4:
        words[rng.randint(2, len(words) - 3)] += ","
    return " ".join(words) + rng.choice(_CLOSERS)


def pieces(text: str, rng: random.Random, most: int = 3) -> list[str]:
    """``text`` cut into stream deltas of 1..``most`` tokens each (never an empty delta)."""
    tokens = tokenize(text)
    result = []
    index = 0
    while index < len(tokens):
        size = rng.randint(1, most)
        result.append("".join(tokens[index : index + size]))
        index += size
    return result
