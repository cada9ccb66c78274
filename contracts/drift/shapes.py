"""A JSON schema of an OpenAPI 3.0 or 3.1 document read into one `Shape`, for comparing two of them.

OpenAPI 3.0 (`nullable`) and 3.1 (`type: [..., "null"]`) spell the same schema differently; both are
read alike. A schema of several `anyOf`/`oneOf` branches is read as their union (the fields any
branch allows; required, the fields every branch requires); `allOf` and a schema's own keywords
beside its composition as their sum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mockserver.contract.adapt import resolve_pointer

BOUNDS: tuple[str, ...] = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength")
BOUNDS += ("maxLength", "minItems", "maxItems", "pattern")
MAX_DEPTH = 12


@dataclass
class Shape:
    """A schema read into one form, whatever its OpenAPI version and composition."""

    types: frozenset[str] | None = None  # None: any type
    enum: frozenset[str] | None = None  # JSON-encoded members; None: any value
    format: str | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)  # name -> its schema (maybe composed)
    required: frozenset[str] = frozenset()
    closed: bool = False  # additionalProperties: false
    items: Any = None


def shape(document: dict[str, Any], schema: Any, depth: int = 0) -> Shape:
    """`schema` (after its `$ref`s) read into a `Shape`; see the module doc for compositions."""
    schema = resolved(document, schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return Shape()
    own = _own_shape(document, schema)
    parts = [own]
    for branches, union in (("anyOf", True), ("oneOf", True), ("allOf", False)):
        if isinstance(schema.get(branches), list) and schema[branches]:
            read = [shape(document, branch, depth + 1) for branch in schema[branches]]
            parts.append(_unite(read) if union else _sum(read))
    return _sum(parts)


def _own_shape(document: dict[str, Any], schema: dict[str, Any]) -> Shape:
    openapi_30 = str(document.get("openapi", "")).startswith("3.0")
    kinds = schema.get("type")
    types: frozenset[str] | None = None
    if isinstance(kinds, str):
        types = frozenset({kinds})
    elif isinstance(kinds, list):
        types = frozenset(str(kind) for kind in kinds)
    if "const" in schema:
        schema = {**schema, "enum": [schema["const"]]}
    if types is not None and "integer" in types and "number" in types:
        types = types - {"integer"}
    if openapi_30 and schema.get("nullable") is True and types is not None:
        types = types | {"null"}
    enum = None
    if isinstance(schema.get("enum"), list):
        members = list(schema["enum"])
        if types is not None and "null" in types and None not in members:
            members.append(None)  # nullable with an enum: null is meant, whatever the letter says
        enum = frozenset(json.dumps(member, sort_keys=True) for member in members)
    properties = {
        name: value
        for name, value in (schema.get("properties") or {}).items()
        if not _forbidden(value)  # `provider: {not: {}}` says the field may not be sent at all
    }
    items = schema["items"] if isinstance(schema.get("items"), dict) else None
    if types is None and properties:
        types = frozenset({"object"})
    if types is None and enum is not None:
        types = frozenset(_json_type(json.loads(member)) for member in enum)
    return Shape(
        types=types,
        enum=enum,
        format=schema.get("format"),
        bounds={bound: schema[bound] for bound in BOUNDS if bound in schema},
        properties=properties,
        required=frozenset(schema.get("required") or []),
        closed=schema.get("additionalProperties") is False,
        items=items,
    )


def _sum(parts: list[Shape]) -> Shape:
    """All of `parts` hold (allOf, or a schema's own keywords beside its composition)."""
    result = Shape()
    for part in parts:
        if part.types is not None:
            result.types = part.types if result.types is None else result.types & part.types
        if part.enum is not None:
            result.enum = part.enum if result.enum is None else result.enum & part.enum
        result.format = result.format or part.format
        result.bounds.update(part.bounds)
        for name, schema in part.properties.items():
            known = result.properties.get(name)
            result.properties[name] = schema if known is None else {"allOf": [known, schema]}
        result.required |= part.required
        result.closed = result.closed or part.closed
        if part.items is not None:
            result.items = part.items if result.items is None else {"allOf": [result.items, part.items]}
    return result


def _unite(parts: list[Shape]) -> Shape:
    """One of `parts` holds (anyOf, oneOf): what any branch allows, what every branch requires.

    Fields and items come only from the branches that may be an object or an array, and format and
    bounds only from the branches that may be something other than null (a `null` branch beside an
    object or a string says nothing about its fields, format or bounds).
    """
    valued = [p for p in parts if p.types != frozenset({"null"})] or parts
    result = Shape(
        types=None
        if any(p.types is None for p in parts)
        else frozenset().union(*(p.types or () for p in parts)),
        enum=None
        if any(p.enum is None for p in parts)
        else frozenset().union(*(p.enum or () for p in parts)),
        format=valued[0].format if len({p.format for p in valued}) == 1 else None,
    )
    result.bounds = dict(set.intersection(*(set(p.bounds.items()) for p in valued)))
    objects = [p for p in parts if p.types is None or "object" in p.types]
    if objects:
        result.required = frozenset.intersection(*(p.required for p in objects))
        result.closed = all(p.closed for p in objects)
    for name in {name for part in objects for name in part.properties}:
        # A branch that does not name a field leaves it unconstrained: the union is then any value.
        every = [part.properties.get(name) for part in objects]
        result.properties[name] = {"anyOf": every} if all(s is not None for s in every) else {}
    arrays = [p for p in parts if p.types is None or "array" in p.types]
    if arrays and all(part.items is not None for part in arrays):
        result.items = {"anyOf": [part.items for part in arrays]}
    return result


def _forbidden(schema: Any) -> bool:
    return schema is False or (isinstance(schema, dict) and schema.get("not") == {})


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def resolved(document: dict[str, Any], schema: Any) -> Any:
    for _ in range(32):
        if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
            return schema
        try:
            schema = resolve_pointer(document, schema["$ref"])
        except KeyError:
            return {}
    return {}
