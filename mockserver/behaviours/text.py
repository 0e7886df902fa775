"""Token-like text: what a model "says", and how many tokens a text counts.

The answer text is drawn from a random source seeded by the request *without* its streaming
fields (``stream``, ``stream_options``), so a streamed answer and a plain one to the same request
carry the same text, and a different prompt gives a different text. The tokenizer is a simple,
prefix-stable one (a word with its leading space, a punctuation mark, at most
:data:`MAX_PIECE` letters a piece): cutting a text after *k* tokens and counting again gives *k*,
which is what makes ``max_tokens`` cuts and ``usage`` agree.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
from array import array
from typing import Any

import orjson

from apitwin.mockserver.operations import seeded

MAX_PIECE = 6
"""Letters of a long word that make one token (words are cut into pieces like sub-word tokens)."""
STREAM_FIELDS = frozenset({"stream", "stream_options"})
ANSWER_TOKENS = (12, 90)
"""How many tokens a natural answer has, before any ``max_tokens`` cut."""

_TOKEN = re.compile(rf"\s*\w{{1,{MAX_PIECE}}}|\s*[^\w\s]|\s+")
"""One token: a word piece of at most MAX_PIECE letters (the first with the whitespace before it), a punctuation
mark with the whitespace before it, or trailing whitespace. Matching pieces directly (rather than whole words, then
cutting them) keeps tokenising and counting in C."""
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
_SHORTEST, _LONGEST = 4, 14
"""Words in a sentence."""
COMMA_RATE = 0.4
"""How often a sentence of more than six words has a comma (after a word that is neither of the first two
nor of the last two)."""


def _sentence_shapes() -> tuple[list[tuple[int, int, str]], list[float]]:
    """Every (words, word with a comma after it or 0, closing mark) a sentence can have, with cumulative
    weights: a length uniformly, a comma at COMMA_RATE in a uniformly chosen place, a closer from _CLOSERS."""
    shapes, weights = [], []
    for length in range(_SHORTEST, _LONGEST + 1):
        chance = 1 / (_LONGEST - _SHORTEST + 1) / len(_CLOSERS)
        places = list(range(2, length - 2)) if length > 6 else []
        for closer in _CLOSERS:
            shapes.append((length, 0, closer))
            weights.append(chance * (1 - COMMA_RATE if places else 1))
            for place in places:
                shapes.append((length, place, closer))
                weights.append(chance * COMMA_RATE / len(places))
    return shapes, list(itertools.accumulate(weights))


_SHAPES, _SHAPE_WEIGHTS = _sentence_shapes()


def tokenize(text: str) -> list[str]:
    """Token-like pieces whose concatenation is exactly ``text``."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


_WORD_TOKENS = {word: count_tokens(" " + word) for word in _WORDS}
"""The tokens of each word of the vocabulary, as it stands in a text (after a space)."""


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
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:  # integers beyond 64 bits
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return seeded("answer", seed, canonical, *parts)


def random_shorts(rng: random.Random, count: int) -> array[int]:
    """``count`` random integers in [0, 65536) from one draw of bytes (read little-endian on every machine)."""
    drawn = array("H", rng.randbytes(2 * count))
    if sys.byteorder == "big":
        drawn.byteswap()
    return drawn


def compose(rng: random.Random, tokens: int | None = None) -> str:
    """Sentences of plausible words, about ``tokens`` tokens long (drawn when not given)."""
    return compose_counted(rng, tokens)[0]


def compose_counted(rng: random.Random, tokens: int | None = None) -> tuple[str, int]:
    """(text, its token count): :func:`compose` without tokenising the text again to count it.

    Two draws make the whole text, one for its words and one for its sentence shapes, and the counts come
    from the pre-tokenised vocabulary: an answer of 90 tokens takes about 15 µs, not 70 µs word by word.
    """
    target = tokens if tokens is not None else rng.randint(*ANSWER_TOKENS)
    # A sentence has at least 4 words of at least one token each, so these always suffice.
    words = [_WORDS[index % len(_WORDS)] for index in random_shorts(rng, target + _LONGEST)]
    shapes = rng.choices(_SHAPES, cum_weights=_SHAPE_WEIGHTS, k=target // _SHORTEST + 1)
    sentences: list[str] = []
    used = start = 0
    for length, comma, closer in shapes:
        if used >= target:
            break
        chosen = words[start : start + length]
        start += length
        used += sum(map(_WORD_TOKENS.__getitem__, chosen)) + (comma > 0) + 1
        chosen[0] = chosen[0].capitalize()
        if comma:
            chosen[comma] += ","
        sentences.append(" ".join(chosen) + closer)
    return " ".join(sentences), used


def pieces(text: str, rng: random.Random, most: int = 3) -> list[str]:
    """``text`` cut into stream deltas of 1..``most`` tokens each (never an empty delta)."""
    tokens = tokenize(text)
    sizes = rng.choices(range(1, most + 1), k=len(tokens))  # enough for the shortest pieces; one draw
    result = []
    index = 0
    for size in sizes:
        if index >= len(tokens):
            break
        result.append("".join(tokens[index : index + size]))
        index += size
    return result
