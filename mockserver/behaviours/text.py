"""Token-like text: what a model "says", and how many tokens a text counts.

The answer text is drawn from the answer's random source, seeded by the request *without* its
delivery fields (``stream``, ``stream_options``; see ``operations.answer_random``), so a streamed
answer and a plain one to the same request carry the same text, and a different prompt gives a
different text. The tokenizer is a simple,
prefix-stable one (a word with its leading space, a punctuation mark, at most
:data:`MAX_PIECE` letters a piece): cutting a text after *k* tokens and counting again gives *k*,
which is what makes ``max_tokens`` cuts and ``usage`` agree.
"""

from __future__ import annotations

import random
import re
from typing import Any

MAX_PIECE = 6
"""Letters of a long word that make one token (words are cut into pieces like sub-word tokens)."""
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


_COMMA_BYTES = round(COMMA_RATE * 256)
"""A sentence's comma byte below this: it has a comma."""


def tokenize(text: str) -> list[str]:
    """Token-like pieces whose concatenation is exactly ``text``."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


_VOCABULARY = tuple(_WORDS[index % len(_WORDS)] for index in range(256))
"""The words a random byte picks: the list, then its start again, so the short common words at its head (the, a,
of, to …) come twice as often as the ten technical ones at its end (validation … endpoint)."""
_CAPITALISED = tuple(word.capitalize() for word in _VOCABULARY)
_VOCABULARY_TOKENS = bytes(count_tokens(" " + word) for word in _VOCABULARY)
"""The tokens of each word, as it stands in a text (after a space; a text's first word, without one, counts the
same): a translation table, so the drawn bytes of a sentence translate to its words' counts, summed in C."""


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
    return max(_tokens_in(value), 1)


def _tokens_in(value: Any) -> int:
    if isinstance(value, str):
        return count_tokens(value)
    if isinstance(value, list):
        return sum(map(_tokens_in, value))
    if isinstance(value, dict):
        return sum(map(_tokens_in, value.values()))
    return 0


def compose(rng: random.Random, tokens: int | None = None) -> str:
    """Sentences of plausible words, about ``tokens`` tokens long (drawn when not given)."""
    return compose_counted(rng, tokens)[0]


def compose_counted(rng: random.Random, tokens: int | None = None) -> tuple[str, int]:
    """(text, its token count): :func:`compose` without tokenising the text again to count it.

    One draw of bytes makes the whole text: a byte per word (:data:`_VOCABULARY` has 256 entries), then three per
    sentence for its shape (:func:`_sentence_shape`); words are looked up and counted from pre-tokenised tables,
    and the text is joined once. An answer of 90 tokens takes a few µs.
    """
    target = tokens if tokens is not None else rng.randint(*ANSWER_TOKENS)
    # A sentence has at least _SHORTEST words of at least one token each, so these always suffice.
    sentences = target // _SHORTEST + 1
    drawn = rng.randbytes(target + _LONGEST + 3 * sentences)
    picks = drawn[: target + _LONGEST]
    shapes = drawn[target + _LONGEST :]
    words = [_VOCABULARY[pick] for pick in picks]
    used = start = 0
    for sentence in range(sentences):
        if used >= target:
            break
        length, comma, closer = _sentence_shape(shapes[3 * sentence : 3 * sentence + 3])
        end = start + length
        used += sum(picks[start:end].translate(_VOCABULARY_TOKENS)) + (comma > 0) + 1
        words[start] = _CAPITALISED[picks[start]]
        if comma:
            words[start + comma] += ","
        words[end - 1] += closer
        start = end
    return " ".join(words[:start]), used


def _sentence_shape(drawn: bytes) -> tuple[int, int, str]:
    """(words, the word a comma follows or 0, closing mark) of a sentence from three random bytes: a length in
    [_SHORTEST, _LONGEST], a closer from _CLOSERS, and, in a sentence of more than six words, a comma at
    COMMA_RATE after a word that is neither of the first two nor of the last two."""
    length = _SHORTEST + drawn[0] % (_LONGEST - _SHORTEST + 1)
    closer = _CLOSERS[drawn[1] % len(_CLOSERS)]
    comma = 2 + drawn[2] % (length - 4) if length > 6 and drawn[2] < _COMMA_BYTES else 0
    return length, comma, closer


def pieces(text: str, rng: random.Random, most: int = 3) -> list[str]:
    """``text`` cut into stream deltas of 1..``most`` tokens each (never an empty delta); one byte drawn per token
    is enough for the sizes of the shortest pieces."""
    tokens = tokenize(text)
    result = []
    index = 0
    for drawn in rng.randbytes(len(tokens)):
        if index >= len(tokens):
            break
        size = drawn % most + 1
        result.append("".join(tokens[index : index + size]))
        index += size
    return result
