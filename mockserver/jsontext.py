"""JSON as the mock writes it, in answers, journal and store pages, its stores and reports: strict
RFC 8259 (never a bare `NaN` or `Infinity`), compact, ASCII-only (so any string a client can send,
lone surrogates included, encodes), keys in the order given. It is what Flask's `jsonify` writes, so
answers read the same as when Flask wrote them; `control.plane.FlaskJson` makes `jsonify` write it too.

Requests with such numbers are refused at the door (`contract/strict_json.py`), so no value the
mock holds should be one; if one ever is, it is written as the string of its name (`"NaN"`) with a
warning in the log, never as a literal a strict reader (`JSON.parse`) refuses.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

log = logging.getLogger("mockserver")

_strict = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def compact(value: Any) -> str:
    """`value` as compact strict JSON."""
    try:
        return _strict(value)
    except ValueError:
        return _strict(_finite(value))


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps(value, **options)`, strict: for the writers with options of their own (reports)."""
    try:
        return json.dumps(value, **options, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), **options, allow_nan=False)


def _finite(value: Any) -> Any:
    """`value` with each NaN or infinite float as the string of its name."""
    log.warning("a value held NaN or Infinity; written as a string, since JSON has no such number")
    return _as_strings(value)


def _as_strings(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {name: _as_strings(inner) for name, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_as_strings(inner) for inner in value]
    return value
