"""`contracts drift OURS THEIRS`: how two contracts of one API differ, and whom each difference breaks.

Operations are matched by method and path (path parameters' names ignored), then compared field by
field on their resolved schemas (as `contracts.shapes` reads them): parameters, request body,
response statuses and bodies.

Each difference is classified by whom it breaks:
- `their client`: a client written to THEIRS, calling a service that behaves like OURS;
- `our client`: a client written to OURS, calling a service that behaves like THEIRS.
For a request, the side that accepts less breaks the other side's clients; for a response, the side
that may send more breaks the other side's clients; a field or status only one side has breaks that
side's clients (the other service does not know it).

Known, explained differences go in an accept file (`--accept`, YAML, a reason for each); the exit
status is 0 when every difference is accepted, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from contracts.drift.shapes import BOUNDS, MAX_DEPTH, Shape, resolved, shape
from mockserver.contract.document import Contract, Operation

THEIR_CLIENT = "their client"
OUR_CLIENT = "our client"
_LOWER = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems"})


class UsageError(Exception):
    """Bad usage (exit 2): an unusable contract or accept file."""


@dataclass(frozen=True)
class Difference:
    """One difference: where (operation and JSON path), what kind, each side's value, whom it breaks."""

    operation: str
    where: str
    kind: str
    ours: Any
    theirs: Any
    breaks: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.operation} {self.where} {self.kind}"

    def describe(self) -> str:
        whom = " and ".join(self.breaks) if self.breaks else "nobody"
        sides = f"ours {_shown(self.ours)}, theirs {_shown(self.theirs)}"
        if self.kind == "enum" and isinstance(self.ours, list) and isinstance(self.theirs, list):
            only_ours = [v for v in self.ours if v not in self.theirs]
            only_theirs = [v for v in self.theirs if v not in self.ours]
            sides = f"only ours: {_shown(only_ours)}; only theirs: {_shown(only_theirs)}"
        return f"{self.operation}  {self.where}: {self.kind} ({sides}); breaks {whom}"


@dataclass(frozen=True)
class Accepted:
    """An entry of the accept file: which differences it covers, and why they are as they are."""

    operation: str
    where: str
    kind: str
    reason: str
    evidence: str = ""
    drift: str = ""
    """A short name for the drift table (entries with one name make one row)."""

    def covers(self, difference: Difference) -> bool:
        return (
            fnmatch.fnmatchcase(difference.operation, self.operation)
            and fnmatch.fnmatchcase(difference.where, self.where)
            and fnmatch.fnmatchcase(difference.kind, self.kind)
        )


# -- comparing -----------------------------------------------------------------------------------


def compare(ours: Contract, theirs: Contract) -> tuple[list[Difference], list[str]]:
    """Every difference between the operations the two share an API with, and notes on the rest."""
    mine = {_key(op): op for op in ours.operations.values()}
    other = {_key(op): op for op in theirs.operations.values()}
    scope = {_first_segment(op.template) for op in ours.operations.values()}
    in_scope = {key: op for key, op in other.items() if _first_segment(op.template) in scope}
    notes = []
    if len(in_scope) < len(other):
        shown = ", ".join(sorted(scope))
        notes.append(f"{len(other) - len(in_scope)} operations of THEIRS outside {shown} were not compared")
    found: list[Difference] = []
    for key in sorted(set(mine) | set(in_scope)):
        name = f"{key[0].upper()} {key[1]}"
        if key not in in_scope:
            found.append(Difference(name, "operation", "only in ours", True, None, (OUR_CLIENT,)))
        elif key not in mine:
            found.append(Difference(name, "operation", "only in theirs", None, True, (THEIR_CLIENT,)))
        else:
            found.extend(_OperationDiff(ours, theirs, mine[key], in_scope[key], name).differences())
    return found, notes


class _OperationDiff:
    def __init__(self, ours: Contract, theirs: Contract, mine: Operation, other: Operation, name: str):
        self.docs = (ours.document, theirs.document)
        self.specs = (_spec(ours, mine), _spec(theirs, other))
        self.name = name
        self.found: list[Difference] = []

    def differences(self) -> list[Difference]:
        self._extensions("operation", self.specs[0], self.specs[1])
        self._parameters()
        self._request_body()
        self._responses()
        return self.found

    def _extensions(self, where: str, mine: Any, other: Any) -> None:
        """Vendor extensions (`x-...`) one side states and the other does not, or states otherwise:
        a client relying on one (accepted snake_case spellings, a scope) breaks on the other side."""
        mine, other = resolved(self.docs[0], mine), resolved(self.docs[1], other)
        mine = {k: v for k, v in (mine or {}).items() if k.startswith("x-") and k != "x-code-samples"}
        other = {k: v for k, v in (other or {}).items() if k.startswith("x-") and k != "x-code-samples"}
        for name in sorted(set(mine) | set(other)):
            if mine.get(name) != other.get(name):
                breaks = (OUR_CLIENT,) if name in mine else (THEIR_CLIENT,)
                self._add(f"{where}.{name}", "extension", mine.get(name), other.get(name), breaks)

    def _add(self, where: str, kind: str, ours: Any, theirs: Any, breaks: tuple[str, ...]) -> None:
        self.found.append(Difference(self.name, where, kind, ours, theirs, breaks))

    def _parameters(self) -> None:
        sides = [_parameters(doc, spec) for doc, spec in zip(self.docs, self.specs, strict=True)]
        for place, name in sorted(set(sides[0]) | set(sides[1])):
            where = f"{place}.{name}"
            if place == "path":
                continue  # matched by the path already
            mine, other = sides[0].get((place, name)), sides[1].get((place, name))
            if other is None:
                self._add(where, "only in ours", True, None, (OUR_CLIENT,))
            elif mine is None:
                self._add(where, "only in theirs", None, True, (THEIR_CLIENT,))
            else:
                required = (bool(mine.get("required")), bool(other.get("required")))
                if required[0] != required[1]:
                    self._add(where, "required", *required, _narrower_breaks(required[0], "request"))
                self._schemas(mine.get("schema", {}), other.get("schema", {}), where, "request", 0)

    def _request_body(self) -> None:
        bodies = [
            _json_schema(doc, spec.get("requestBody"))
            for doc, spec in zip(self.docs, self.specs, strict=True)
        ]
        if bodies[0] is None and bodies[1] is None:
            return
        if bodies[0] is None or bodies[1] is None:
            mine = bodies[0] is not None
            self._add("request.body", "only in ours" if mine else "only in theirs", mine, not mine, ())
            return
        self._extensions("request.body", bodies[0], bodies[1])
        self._schemas(bodies[0], bodies[1], "request.body", "request", 0)

    def _responses(self) -> None:
        sides = [
            {str(status): value for status, value in (spec.get("responses") or {}).items()}
            for spec in self.specs
        ]
        for status in sorted(set(sides[0]) | set(sides[1])):
            where = f"response.{status}"
            if status not in sides[1]:
                self._add(where, "status only in ours", True, None, (THEIR_CLIENT,))
            elif status not in sides[0]:
                self._add(where, "status only in theirs", None, True, (OUR_CLIENT,))
            else:
                mine = _json_schema(self.docs[0], sides[0][status])
                other = _json_schema(self.docs[1], sides[1][status])
                if mine is not None and other is not None:
                    self._schemas(mine, other, f"{where}.body", "response", 0)
                elif (mine is None) != (other is None):
                    kind = "body only in ours" if mine is not None else "body only in theirs"
                    self._add(f"{where}.body", kind, mine is not None, other is not None, ())

    def _schemas(self, mine: Any, other: Any, where: str, side: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        a, b = shape(self.docs[0], mine), shape(self.docs[1], other)
        if a.types != b.types:
            nullable = (_nullable(a), _nullable(b))
            if nullable[0] != nullable[1] and _without_null(a.types) == _without_null(b.types):
                self._add(where, "nullable", *nullable, _wider_breaks(nullable[0], side))
            else:
                self._add(
                    where, "type", _types(a.types), _types(b.types), _set_breaks(a.types, b.types, side)
                )
        if a.types and b.types and not (a.types & b.types) - {"null"}:
            return  # an array against an object: their fields and items have nothing to compare
        if a.enum != b.enum:
            mine_values, other_values = _values(a.enum), _values(b.enum)
            self._add(where, "enum", mine_values, other_values, _set_breaks(a.enum, b.enum, side))
        if a.format != b.format:
            breaks = _set_breaks(_optional(a.format), _optional(b.format), side)
            self._add(where, "format", a.format, b.format, breaks)
        for bound in BOUNDS:
            if a.bounds.get(bound) != b.bounds.get(bound):
                breaks = _bound_breaks(bound, a.bounds.get(bound), b.bounds.get(bound), side)
                self._add(where, bound, a.bounds.get(bound), b.bounds.get(bound), breaks)
        if a.closed != b.closed and (a.properties or b.properties):
            self._add(
                where, "additionalProperties", not a.closed, not b.closed, _wider_breaks(b.closed, side)
            )
        self._properties(a, b, where, side, depth)
        if a.items is not None and b.items is not None:
            self._schemas(a.items, b.items, f"{where}[]", side, depth + 1)

    def _properties(self, a: Shape, b: Shape, where: str, side: str, depth: int) -> None:
        """A field only one side knows breaks that side's clients (the other service does not know
        it); a response field also breaks the other side's clients if their schema is closed."""
        for name in sorted(set(a.properties) | set(b.properties)):
            inner = f"{where}.{name}"
            if name not in b.properties:
                refused = side == "response" and b.closed
                breaks = (OUR_CLIENT, THEIR_CLIENT) if refused else (OUR_CLIENT,)
                self._add(inner, "only in ours", True, None, breaks)
            elif name not in a.properties:
                refused = side == "response" and a.closed
                breaks = (OUR_CLIENT, THEIR_CLIENT) if refused else (THEIR_CLIENT,)
                self._add(inner, "only in theirs", None, True, breaks)
            else:
                required = (name in a.required, name in b.required)
                if required[0] != required[1]:
                    self._add(inner, "required", *required, _narrower_breaks(required[0], side))
                self._schemas(a.properties[name], b.properties[name], inner, side, depth + 1)


def _spec(contract: Contract, operation: Operation) -> dict[str, Any]:
    item = next(
        item
        for item in contract.document["paths"].values()
        if item.get(operation.method, {}).get("operationId") == operation.operation_id
    )
    spec = dict(item[operation.method])
    spec["parameters"] = [*(item.get("parameters") or []), *(spec.get("parameters") or [])]
    return spec


def _parameters(document: dict[str, Any], spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for raw in spec.get("parameters") or []:
        parameter = resolved(document, raw)
        if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
            found[(str(parameter["in"]), str(parameter["name"]).lower())] = parameter
    return found


def _json_schema(document: dict[str, Any], holder: Any) -> Any:
    holder = resolved(document, holder)
    content = (holder or {}).get("content") if isinstance(holder, dict) else None
    media = (content or {}).get("application/json")
    return media.get("schema", {}) if isinstance(media, dict) else None


def _key(operation: Operation) -> tuple[str, str]:
    return operation.method, re.sub(r"\{[^}/]+\}", "{}", operation.template).replace("{}", "{slug}")


def _first_segment(template: str) -> str:
    return "/" + template.strip("/").split("/")[0]


# -- whom a difference breaks --------------------------------------------------------------------


def _narrower_breaks(ours_narrower: bool, side: str) -> tuple[str, ...]:
    """Ours accepts (request) or promises (response) less than theirs, or more."""
    if side == "request":
        return (THEIR_CLIENT,) if ours_narrower else (OUR_CLIENT,)
    return (OUR_CLIENT,) if ours_narrower else (THEIR_CLIENT,)


def _wider_breaks(ours_wider: bool, side: str) -> tuple[str, ...]:
    return _narrower_breaks(not ours_wider, side)


def _set_breaks(ours: frozenset[str] | None, theirs: frozenset[str] | None, side: str) -> tuple[str, ...]:
    """For sets of allowed things (types, enum members; None: anything)."""
    if ours is None:
        return _wider_breaks(True, side)
    if theirs is None:
        return _narrower_breaks(True, side)
    if ours < theirs:
        return _narrower_breaks(True, side)
    if ours > theirs:
        return _wider_breaks(True, side)
    return (OUR_CLIENT, THEIR_CLIENT)


def _bound_breaks(bound: str, ours: Any, theirs: Any, side: str) -> tuple[str, ...]:
    if bound == "pattern" or not all(isinstance(v, int | float | type(None)) for v in (ours, theirs)):
        return (OUR_CLIENT, THEIR_CLIENT)
    if ours is None or theirs is None:
        return _narrower_breaks(ours is not None, side)
    tighter = ours > theirs if bound in _LOWER else ours < theirs
    return _narrower_breaks(tighter, side)


def _optional(value: str | None) -> frozenset[str] | None:
    return None if value is None else frozenset({value})


def _nullable(shape_: Shape) -> bool:
    return shape_.types is None or "null" in shape_.types


def _without_null(types: frozenset[str] | None) -> frozenset[str] | None:
    return None if types is None else types - {"null"}


def _types(types: frozenset[str] | None) -> list[str] | None:
    return None if types is None else sorted(types)


def _values(enum: frozenset[str] | None) -> list[Any] | None:
    return None if enum is None else sorted((json.loads(m) for m in enum), key=json.dumps)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = json.dumps(value)
    return text if len(text) <= 400 else text[:397] + "..."


# -- the accept file -----------------------------------------------------------------------------


def read_accepted(path: Path) -> list[Accepted]:
    """The accept file: `accepted:` a list of {operation, where, kind, reason, evidence, drift}."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read the accept file {path}: {exc}") from None
    entries = document.get("accepted") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{path} has no `accepted:` list")
    accepted = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not all(entry.get(k) for k in ("operation", "where", "kind")):
            raise UsageError(f"{path}: entry {index} needs operation, where and kind")
        if not str(entry.get("reason") or "").strip():
            raise UsageError(f"{path}: entry {index} ({entry['operation']} {entry['where']}) gives no reason")
        accepted.append(
            Accepted(**{k: str(v).strip() for k, v in entry.items() if k in Accepted.__annotations__})
        )
    return accepted


def drift_table(accepted: list[Accepted]) -> str:
    """The docs' drift table: one row per named drift of the accept file, with its reason and evidence."""
    rows: dict[str, list[Accepted]] = {}
    for entry in accepted:
        rows.setdefault(entry.drift or f"{entry.operation} {entry.where}", []).append(entry)
    lines = ["| drift | where | why ours differs | evidence |", "|---|---|---|---|"]
    for name, entries in rows.items():
        where = "<br>".join(dict.fromkeys(_where(e) for e in entries))
        reason = " ".join(dict.fromkeys(e.reason for e in entries))
        evidence = " ".join(dict.fromkeys(e.evidence for e in entries if e.evidence))
        lines.append(f"| {name} | {where} | {_cell(reason)} | {_cell(evidence)} |")
    return "\n".join(lines)


def _where(entry: Accepted) -> str:
    operation = "every operation" if entry.operation == "*" else f"`{entry.operation}`"
    kind = "any difference" if entry.kind == "*" else entry.kind
    return f"{operation} `{entry.where}`: {kind}"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# -- command line --------------------------------------------------------------------------------


@dataclass
class DriftResult:
    differences: list[Difference]
    accepted: dict[str, str]  # difference key -> the reason that accepts it
    unused: list[Accepted]
    notes: list[str]

    @property
    def new(self) -> list[Difference]:
        return [d for d in self.differences if d.key not in self.accepted]


def drift(ours: Contract, theirs: Contract, accepted: list[Accepted]) -> DriftResult:
    differences, notes = compare(ours, theirs)
    reasons: dict[str, str] = {}
    used: set[int] = set()
    for difference in differences:
        for index, entry in enumerate(accepted):
            if entry.covers(difference):
                reasons[difference.key] = entry.reason
                used.add(index)
                break
    unused = [entry for index, entry in enumerate(accepted) if index not in used]
    return DriftResult(differences, reasons, unused, notes)


def as_text(result: DriftResult, ours: Path, theirs: Path) -> str:
    lines = [f"contracts drift: OURS {ours} against THEIRS {theirs}"]
    lines += [f"note: {note}" for note in result.notes]
    lines += [
        "breaks `their client`: a client written to THEIRS calling a service like OURS; "
        "`our client`: the reverse",
        "",
    ]
    if result.new:
        lines.append(f"Differences not in the accept list ({len(result.new)}):")
        lines += [f"  {d.describe()}" for d in result.new]
        lines.append("")
    accepted = [d for d in result.differences if d.key in result.accepted]
    if accepted:
        lines.append(f"Accepted differences ({len(accepted)}):")
        lines += [f"  {d.describe()}" for d in accepted]
        lines.append("")
    for entry in result.unused:
        lines.append(f"warning: accept entry matches nothing: {entry.operation} {entry.where} ({entry.kind})")
    total = len(result.differences)
    lines.append(f"{total} differences, {len(accepted)} accepted, {len(result.new)} not accepted.")
    return "\n".join(lines)


def as_json(result: DriftResult) -> str:
    return json.dumps(
        {
            "differences": [
                {**asdict(d), "breaks": list(d.breaks), "accepted": result.accepted.get(d.key)}
                for d in result.differences
            ],
            "unused_accept_entries": [asdict(entry) for entry in result.unused],
            "notes": result.notes,
            "not_accepted": len(result.new),
        },
        indent=2,
    )
