"""`--stable`: the values a service made, replaced by placeholders numbered in order of appearance.

A value is the service's when it first appears in an answer (an id, a slug, a timestamp: see
`ids.made_kind`); a value the client sent first (a slug it chose, an `expires_at`) is the client's
and stays. Each made value gets one placeholder (`<slug-1>`) wherever it appears afterwards, in
paths, queries, bodies and messages, so two recordings of one script against a service in the same
state are the same bytes, and a review diff shows only what really changed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mockserver.snapshots.ids import leaves, made_kind, substitute


def stabilise(exchanges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The exchanges with every made value replaced by its placeholder."""
    sent: set[str] = set()
    mapping: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for exchange in exchanges:
        request = exchange["request"]
        sent.update(request["path"].split("/"))
        sent.update(str(value) for _, value in leaves([request["query"], request["body"]]))
        for key, value in leaves(exchange["response"]["body"]):
            kind = made_kind(key, value)
            if kind and value not in mapping and value not in sent:
                counts[kind] += 1
                mapping[value] = f"<{kind}-{counts[kind]}>"
    return [substitute(exchange, mapping) for exchange in exchanges]
