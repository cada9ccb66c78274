"""Date-times in one form: every RFC 3339 spelling the contract accepts is kept as Portkey writes its
own timestamps, UTC with milliseconds and `Z` (`2030-01-01T00:00:00.000Z`).

The contract takes `t` and `z` in either case, any offset and any number of fractional digits (as
the reference validator does: it upper-cases, then checks). A value is normalised on the way in,
so whatever reads it back (the key's status, list and retrieve, the store page) meets one form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.errors import ValidationFailed
from mockserver.violations import Violation, location

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))\n?",
    re.ASCII,
)
"""What the contract's date-time check accepts, once upper-cased (its `$` lets one newline end it)."""

OUT_OF_RANGE = "is outside the years 0001 to 9999 once converted to UTC"

Path = tuple[str | None, ...]
"""Field names down to a date-time; None stands for every item of an array."""


class OutOfRange(ValueError):
    """A date-time whose UTC moment falls before year 1 or after year 9999 (only a day from either
    end, with an offset): the service's form cannot write it."""


def parse(text: str) -> datetime | None:
    """The UTC moment of an RFC 3339 date-time in any spelling the contract takes; None if `text`
    is not one; `OutOfRange` if its moment cannot be written in UTC."""
    match = _RFC3339.fullmatch(text.upper())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_hours, off_minutes = match.groups()
    try:
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:
        return None  # year 0, 30 February, hour 24: not a date-time
    if sign is None:
        return local
    offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
    try:
        return local - offset if sign == "+" else local + offset
    except OverflowError:
        raise OutOfRange(text) from None


def timestamp(moment: datetime) -> str:
    """Portkey's timestamp form: UTC, milliseconds and `Z`; the year always in four digits (the C
    library's `strftime` writes year 679 as `679`)."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def canonical(text: str) -> str:
    """`text` in Portkey's form if it is a date-time (`2030-01-01t00:00:00+01:00` ->
    `2029-12-31T23:00:00.000Z`), else unchanged; `OutOfRange` as `parse`."""
    moment = parse(text)
    return text if moment is None else timestamp(moment)


def date_time_paths(schema: Any, resolve: Callable[[Any], Any], depth: int = 12) -> tuple[Path, ...]:
    """Every path in `schema` (properties, array items, `allOf`/`anyOf`/`oneOf` branches) that leads to
    a `format: date-time` string; `depth` bounds a schema that refers to itself."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth == 0:
        return ()
    found: list[Path] = [()] if schema.get("format") == "date-time" else []
    for name, inner in (schema.get("properties") or {}).items():
        found += [(name, *path) for path in date_time_paths(inner, resolve, depth - 1)]
    if "items" in schema:
        found += [(None, *path) for path in date_time_paths(schema["items"], resolve, depth - 1)]
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, ()):
            found += date_time_paths(branch, resolve, depth - 1)
    return tuple(dict.fromkeys(found))


def normalised(body: Any, paths: tuple[Path, ...]) -> tuple[Any, list[Violation]]:
    """`body` with the date-time at each of `paths` in Portkey's form (a copy: the body as sent is
    the journal's), and a violation for each that cannot be written."""
    violations: list[Violation] = []
    for path in paths:
        body = _at(body, path, "body", violations)
    return body, violations


def _at(value: Any, path: Path, where: str, violations: list[Violation]) -> Any:
    if not path:
        if not isinstance(value, str):
            return value
        try:
            return canonical(value)
        except OutOfRange:
            violations.append(Violation(where, OUT_OF_RANGE))
            return value
    head, rest = path[0], path[1:]
    if head is None and isinstance(value, list):
        return [_at(item, rest, location(where, [index]), violations) for index, item in enumerate(value)]
    if isinstance(head, str) and isinstance(value, dict) and head in value:
        return {**value, head: _at(value[head], rest, location(where, [head]), violations)}
    return value


def query_moment(query: Mapping[str, Any], name: str) -> datetime:
    """The UTC moment a query parameter names (an analytics or audit-log window's end); refused 400
    naming the parameter when it cannot be read (the contract's pattern refuses such values first;
    another contract's may not)."""
    try:
        moment = parse(str(query.get(name, "")))
    except OutOfRange:
        raise ValidationFailed([Violation(f"query.{name}", OUT_OF_RANGE)]) from None
    if moment is None:
        raise ValidationFailed([Violation(f"query.{name}", "is not an RFC 3339 date-time")])
    return moment
