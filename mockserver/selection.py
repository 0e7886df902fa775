"""Choosing the response: status, media type and example, from the request and the ``Prefer`` header.

Prism-compatible where it overlaps: ``Prefer: code=429``, ``example=NAME``,
``dynamic=true|false``, ``seed=N`` (comma-separated, in any combination).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apitwin.mockserver.operations import Media, Operation, ResponseSpec


@dataclass(frozen=True, slots=True)
class Preferences:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None
    seed: int | None = None


NO_PREFERENCES = Preferences()
"""A request without ``Prefer`` (most of them: one shared value, not a new one each time)."""


class PreferenceError(ValueError):
    """A ``Prefer`` header the mock cannot honour; the message says why."""


def parse_prefer(header: str | None) -> Preferences:
    if not header:
        return NO_PREFERENCES
    values: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            values[key.strip().lower()] = value.strip().strip('"')
    try:
        code = int(values["code"]) if "code" in values else None
        seed = int(values["seed"]) if "seed" in values else None
    except ValueError as error:
        raise PreferenceError(f"Prefer: code and seed must be integers ({error})") from None
    dynamic = None
    if "dynamic" in values:
        if values["dynamic"] not in ("true", "false"):
            raise PreferenceError("Prefer: dynamic must be true or false")
        dynamic = values["dynamic"] == "true"
    return Preferences(code=code, example=values.get("example"), dynamic=dynamic, seed=seed)


def choose_status(operation: Operation, preferences: Preferences) -> tuple[int, ResponseSpec]:
    if preferences.code is None:
        key = operation.success_status()
        return _concrete(key), operation.responses[key]
    response = operation.response_for(preferences.code)
    if response is None:
        declared = ", ".join(operation.responses)
        raise PreferenceError(
            f"Prefer: code={preferences.code} is not a response {operation.label} declares (it declares {declared})"
        )
    return preferences.code, response


def _concrete(key: str) -> int:
    if key.isdigit():
        return int(key)
    if key.endswith("XX"):
        return int(key[0]) * 100
    return 200


def choose_media(response: ResponseSpec, *, accept: str | None, wants_stream: bool) -> Media | None:
    if not response.media:
        return None
    if wants_stream:
        for media_type, media in response.media.items():
            if media_type.startswith("text/event-stream"):
                return media
    candidates = [
        (media_type, media)
        for media_type, media in response.media.items()
        if not media_type.startswith("text/event-stream")
    ]
    if not candidates:
        candidates = list(response.media.items())
    for wanted in _accepted(accept):
        for media_type, media in candidates:
            if _matches(wanted, media_type):
                return media
    return candidates[0][1]


def _accepted(accept: str | None) -> list[str]:
    if not accept:
        return []
    ranked = []
    for index, part in enumerate(accept.split(",")):
        media_type, *params = part.strip().split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, media_type.strip().lower()))
    return [media_type for _, _, media_type in sorted(ranked)]


def _matches(wanted: str, media_type: str) -> bool:
    media_type = media_type.split(";")[0].strip().lower()
    if wanted in ("*/*", media_type):
        return True
    return wanted.endswith("/*") and media_type.startswith(wanted[:-1])


def wants_stream(body: Any) -> bool:
    """A request asks for a stream the way OpenAI-style APIs do: ``"stream": true`` in the body."""
    return isinstance(body, dict) and body.get("stream") is True


def choose_example(media: Media, preferences: Preferences) -> tuple[bool, Any]:
    """(True, value) when an example answers: asked for by name, or the first when dynamic=false."""
    if preferences.example is not None:
        if preferences.example not in media.examples:
            names = ", ".join(media.examples) or "none"
            raise PreferenceError(
                f"Prefer: example={preferences.example} is not an example of {media.media_type} (examples: {names})"
            )
        return True, media.examples[preferences.example]
    if preferences.dynamic is False and media.examples:
        return True, next(iter(media.examples.values()))
    return False, None
