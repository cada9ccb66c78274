"""JSON as RFC 8259 has it, read from a client: no NaN or Infinity, no number the mock cannot hold,
no nesting deeper than `MAX_DEPTH`.

Python's `json` reads `NaN`, `Infinity` and `1e400` (as an infinite float) without a word, and
everything downstream (validation, masking, the journal, the stores) walks a body by recursion. A
body is refused here instead, each odd number named by its field, so no value the mock keeps or
answers can be one a strict JSON reader (`JSON.parse`, the dashboard) refuses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from mockserver.violations import Violation, location

MAX_DEPTH = 64
"""The deepest nesting of objects and arrays a body may have. Portkey's deepest request bodies nest
five levels (`pricing_adjustments.multiplier.image.default`, a model's
`configurations.custom_headers`); 64 leaves room for free-form objects such as `pricing_config`
and stays far below where recursion in Python gives out (about 490 levels)."""

NOT_FINITE = "is NaN or Infinity, which is not JSON (RFC 8259)"
TOO_LARGE = "is a number too large to read"
TOO_DEEP = f"is nested too deeply (more than {MAX_DEPTH} levels of objects and arrays)"


class OddNumber:
    """A number token the mock cannot hold (`NaN`, `-Infinity`, `1e400`, 5,000 digits), as sent."""

    __slots__ = ("rule", "text")

    def __init__(self, text: str, rule: str) -> None:
        self.text, self.rule = text, rule


class TooDeep(ValueError):
    """The body nests deeper than `MAX_DEPTH` (or deeper than Python's JSON reader can go)."""


def loads(text: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """`text` decoded; raises `TooDeep`, `json.JSONDecodeError`, or `OddNumbers` naming each odd number.

    The common body (no float, few brackets) costs nothing more than `json.loads`.
    """
    value, odd = _parse(text, object_pairs_hook)
    if odd:
        raise OddNumbers(list(_odd_numbers(value, "body")))
    return value


def readable(text: str) -> Any:
    """`text` decoded for keeping and showing (the journal): each odd number as a string of its
    token (`"NaN"`, `"1e400"`), never a bare literal; None if the text is not JSON or too deep."""
    try:
        value, odd = _parse(text, None)
    except (ValueError, TooDeep):  # JSONDecodeError is a ValueError
        return None
    return _as_text(value) if odd else value


class OddNumbers(ValueError):
    """Numbers a strict reader refuses, each with the field it is in."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("odd numbers")
        self.violations = violations


def _parse(text: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None) -> tuple[Any, bool]:
    """The decoded value, and whether it holds an `OddNumber`."""
    found: list[OddNumber] = []

    def constant(token: str) -> OddNumber:
        found.append(OddNumber(token, NOT_FINITE))
        return found[-1]

    def real(token: str) -> float | OddNumber:
        number = float(token)
        if math.isfinite(number):
            return number
        found.append(OddNumber(token, TOO_LARGE))
        return found[-1]

    def integer(token: str) -> int | OddNumber:
        try:
            return int(token)
        except ValueError:  # more digits than Python converts (4,300)
            found.append(OddNumber(token, TOO_LARGE))
            return found[-1]

    options: dict[str, Any] = {"parse_constant": constant, "parse_float": real}
    try:
        value = json.loads(text, object_pairs_hook=object_pairs_hook, **options)
    except RecursionError:
        raise TooDeep() from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer too long to convert: read again, naming it
        value = json.loads(text, object_pairs_hook=object_pairs_hook, parse_int=integer, **options)
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise TooDeep()
    return value, bool(found)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests objects and arrays more than `limit` levels (without recursion)."""
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        node, depth = level.pop()
        inner = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in inner:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                level.append((child, depth + 1))
    return False


def _odd_numbers(value: Any, where: str) -> Any:
    if isinstance(value, OddNumber):
        yield Violation(where, value.rule)
    elif isinstance(value, dict):
        for name, inner in value.items():
            yield from _odd_numbers(inner, location(where, [name]))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _odd_numbers(inner, location(where, [index]))


def _as_text(value: Any) -> Any:
    if isinstance(value, OddNumber):
        return value.text
    if isinstance(value, dict):
        return {name: _as_text(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_as_text(inner) for inner in value]
    return value
