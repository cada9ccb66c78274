"""Contract violations as `location: rule`, built from JSON Schema errors without their values.

A validator's own message quotes the offending value (`'sk-live-...' is not of type 'integer'`),
which may be a secret. Here every message is rebuilt from the field path and the schema keyword,
so nothing a client sent is ever repeated back.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # only the reference path builds these; jsonschema is slow to import
    from jsonschema.exceptions import ValidationError

_DISCRIMINATING = {"const", "enum", "not"}
_MAX_LISTED = 8


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (`body.deploymentConfig[0].apiVersion`) and what (`is required`)."""

    location: str
    rule: str

    def __str__(self) -> str:
        return f"{self.location}: {self.rule}"

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "rule": self.rule}


def location(prefix: str, path: Iterable[Any]) -> str:
    """`body` + `["deploymentConfig", 0, "apiVersion"]` -> `body.deploymentConfig[0].apiVersion`."""
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def from_schema_errors(errors: Iterable[Exception], prefix: str) -> list[Violation]:
    """Every violation in `errors`, located under `prefix` (`body`, `query.page_size`, ...)."""
    found: list[Violation] = []
    for error in errors:
        for violation in _explain(cast("ValidationError", error), prefix):
            if violation not in found:
                found.append(violation)
    return found


def _explain(error: ValidationError, prefix: str, context: str = "") -> list[Violation]:
    where = location(prefix, error.absolute_path)
    suffix = f" (for {context})" if context else ""
    kind, instance = str(error.validator), error.instance
    value: Any = error.validator_value
    schema: Any = error.schema
    if kind == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return [Violation(f"{where}.{name}", f"is required{suffix}") for name in missing]
    if kind == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extra = [name for name in instance if name not in allowed] if isinstance(instance, dict) else []
        return [Violation(f"{where}.{name}", "is not a field the contract allows here") for name in extra]
    if kind in {"anyOf", "oneOf"} and error.context:
        return _explain_branches(error, prefix, context)
    stated = schema.get("x-portkey-rule") if isinstance(schema, dict) else None
    return [Violation(where, (stated or _rule(kind, value)) + suffix)]


def _explain_branches(error: ValidationError, prefix: str, context: str) -> list[Violation]:
    """Explain an `anyOf` by the branch the request was closest to (its discriminators matched)."""
    by_branch: dict[int, list[ValidationError]] = defaultdict(list)
    for sub in error.context or []:
        by_branch[int(sub.relative_schema_path[0])].append(sub)
    branches: Any = error.validator_value
    candidates = [
        (len(subs), index)
        for index, subs in by_branch.items()
        if not any(_is_discriminator(sub) or _refuses_type(sub) for sub in subs)
    ]
    types = [sub.validator_value for subs in by_branch.values() for sub in subs if _refuses_type(sub)]
    if not candidates and len(types) == len(branches) and all(isinstance(t, str) for t in types):
        return [Violation(location(prefix, error.absolute_path), _rule("type", types))]
    if not candidates:
        titles = ", ".join(b.get("title", f"form {i + 1}") for i, b in enumerate(branches))
        return [
            Violation(location(prefix, error.absolute_path), f"matches none of the accepted forms: {titles}")
        ]
    _, best = min(candidates)
    title = branches[best].get("title", "")
    inner = f"{title}, {context}" if context and title else (title or context)
    found: list[Violation] = []
    for sub in by_branch[best]:
        found.extend(_explain(sub, prefix, inner))
    return found


def _refuses_type(error: ValidationError) -> bool:
    """The branch is for another JSON type than the value's (the `null` of object-or-null)."""
    return error.validator == "type" and not error.relative_path


def _is_discriminator(error: ValidationError) -> bool:
    path = list(error.relative_schema_path)
    return error.validator in _DISCRIMINATING and len(path) > 1 and path[1] == "properties"


def _rule(kind: str, value: Any) -> str:
    rules: dict[str, Callable[[], str]] = {
        "type": lambda: "must be of type " + (" or ".join(value) if isinstance(value, list) else value),
        "enum": lambda: "must be one of: " + _listing(value),
        "const": lambda: f"must be {json.dumps(value)}",
        "minLength": lambda: f"must be at least {value} characters long",
        "maxLength": lambda: f"must be at most {value} characters long",
        "minimum": lambda: f"must be at least {value}",
        "maximum": lambda: f"must be at most {value}",
        "exclusiveMinimum": lambda: f"must be greater than {value}",
        "exclusiveMaximum": lambda: f"must be less than {value}",
        "minItems": lambda: f"must have at least {value} items",
        "maxItems": lambda: f"must have at most {value} items",
        "uniqueItems": lambda: "must not repeat an item",
        "pattern": lambda: f"must match the pattern {value}",
        "format": lambda: f"must be a valid {value}",
        "contains": lambda: "must contain a matching item",
        "not": lambda: "is not allowed here",
        "minProperties": lambda: f"must have at least {value} fields",
        "anyOf": lambda: "matches none of the accepted forms",
        "oneOf": lambda: "must match exactly one accepted form",
    }
    return rules[kind]() if kind in rules else f"breaks the rule '{kind}'"


def _listing(values: Sequence[Any]) -> str:
    shown = ", ".join("null" if v is None else str(v) for v in values[:_MAX_LISTED])
    return shown if len(values) <= _MAX_LISTED else f"{shown}, ... ({len(values)} values in the contract)"
