"""Values a service makes (ids, slugs, timestamps), and a map from recorded ones to those a new run gets.

A recording names a key by the slug the service gave it; a replay or a parity run gets another
slug for the same create. `Learned` pairs the two as answers come in and puts the new value into
every later request, so a recording of `create, retrieve, delete` drives the same three calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

PLACEHOLDER = re.compile(r"^<(?:id|slug|time)-\d+>$")
"""What `--stable` puts in place of a value the service made (`<slug-1>`)."""
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")
SHORTEST_EMBEDDED = 6
"""A made value this long or longer is also replaced inside other text (an error naming a slug)."""


def made_kind(key: str | int | None, value: Any) -> str | None:
    """`id`, `slug` or `time` when a response field holds a value the service made, else None."""
    if not isinstance(value, str) or not value:
        return None
    name = key if isinstance(key, str) else ""
    if PLACEHOLDER.match(value):
        return value[1:].split("-")[0]
    if name == "slug":
        return "slug"
    if name == "id" or name.endswith("_id"):
        return "id"
    if name.endswith("_at") or TIMESTAMP.match(value):
        return "time"
    return None


def leaves(value: Any, key: str | int | None = None) -> Iterator[tuple[str | int | None, Any]]:
    """Every scalar of a JSON value with the key (or index) it sits under."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from leaves(inner, name)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from leaves(inner, key if isinstance(key, str) else index)
    else:
        yield key, value


def substitute(value: Any, mapping: dict[str, str]) -> Any:
    """`value` (any JSON, or a request as a snapshot keeps it) with each mapped string replaced:
    whole strings always, inside longer text when the mapped value is long enough to be unique."""
    if isinstance(value, str):
        if value in mapping:
            return mapping[value]
        for old in sorted(mapping, key=len, reverse=True):
            if len(old) >= SHORTEST_EMBEDDED and old in value:
                value = value.replace(old, mapping[old])
        return value
    if isinstance(value, dict):
        return {name: substitute(inner, mapping) for name, inner in value.items()}
    if isinstance(value, list):
        return [substitute(inner, mapping) for inner in value]
    return value


class Learned:
    """Recorded made values -> the values this run got for them, learnt from answers in order."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def learn(self, recorded: Any, live: Any, key: str | int | None = None) -> None:
        """Walk a recorded answer and this run's answer side by side; pair made values first seen."""
        if isinstance(recorded, dict) and isinstance(live, dict):
            for name, inner in recorded.items():
                if name in live:
                    self.learn(inner, live[name], name)
        elif isinstance(recorded, list) and isinstance(live, list):
            for inner, other in zip(recorded, live, strict=False):
                self.learn(inner, other, key)
        elif made_kind(key, recorded) and isinstance(live, str) and recorded not in self.known:
            self.known[recorded] = live

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """A recorded request with every made value it names replaced by this run's."""
        return substitute(request, self.known) if self.known else request
