"""The rules the contract states in prose only (its description lists them), checked on a body.

They belong to the contract, not to the domain: the request judge runs them with the schema, so the
mock's answer and its journal's verdict name the same violations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from mockserver.violations import Violation

PROVIDERS_EXTENSION = "x-portkey-providers"
"""On a create field: the providers that take it (a field of another provider is refused)."""
ONE_OF_EXTENSION = "x-portkey-requires-one-of"
"""On an operation: request parts (`query.slugs`, `body`) of which at least one must be sent."""
STATE_RULE_EXTENSION = "x-portkey-state-rule"
"""On a body field or a parameter: a rule a schema-valid value may still break, because it depends on
what the service holds (an integration not enabled for the workspace); the service answers 400 with
exactly this rule. Generators cannot avoid it, so checks expect it."""


WHEN_EXTENSION = "x-portkey-requires-when"
"""On an operation: what a request must send, or the one value a part may have, when another part
has a given value (an API key's `body.user_id` when `path.sub-type` is `user`)."""


@dataclass(frozen=True)
class Conditional:
    """One `x-portkey-requires-when` rule: when every part of `when` has its value, `requires` must
    be sent (or, with `equal`, have that value), else 400 naming it with `rule`."""

    when: tuple[tuple[str, str], ...]
    requires: str
    equal: str | None
    rule: str


def conditionals(declared: Any) -> tuple[Conditional, ...]:
    """The rules of an operation's `x-portkey-requires-when` list."""
    return tuple(
        Conditional(tuple(rule["when"].items()), rule["requires"], rule.get("equal"), rule["rule"])
        for rule in declared or ()
    )


def conditional_violations(
    rules: Sequence[Conditional], path_params: Mapping[str, str], body: Any
) -> list[Violation]:
    """Every `x-portkey-requires-when` rule a request breaks; safe on any body."""
    found = []
    for rule in rules:
        if all(part_of(where, path_params, body) == value for where, value in rule.when):
            sent = part_of(rule.requires, path_params, body)
            if sent is None or (rule.equal is not None and sent != rule.equal):
                found.append(Violation(rule.requires, rule.rule))
    return found


def part_of(where: str, path_params: Mapping[str, str], body: Any) -> Any:
    """The value at `path.<name>` or `body.<field>` (a top-level field), None if not sent."""
    kind, _, name = where.partition(".")
    if kind == "path":
        return path_params.get(name)
    return body.get(name) if kind == "body" and isinstance(body, dict) else None


def field_providers(schema: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """`{field: providers}` for the fields of a body schema marked `x-portkey-providers`."""
    properties = (schema or {}).get("properties", {})
    return {
        name: tuple(prop[PROVIDERS_EXTENSION])
        for name, prop in properties.items()
        if isinstance(prop, dict) and PROVIDERS_EXTENSION in prop
    }


def state_rules(parameters: Iterable[Mapping[str, Any]], schema: Mapping[str, Any] | None) -> dict[str, str]:
    """`{location: rule}` for the parameters and top-level body fields marked `x-portkey-state-rule`."""
    found = {
        f"{parameter['in']}.{parameter['name']}": str(parameter[STATE_RULE_EXTENSION])
        for parameter in parameters
        if STATE_RULE_EXTENSION in parameter
    }
    for name, prop in (schema or {}).get("properties", {}).items():
        if isinstance(prop, dict) and STATE_RULE_EXTENSION in prop:
            found[f"body.{name}"] = str(prop[STATE_RULE_EXTENSION])
    return found


def missing_parts(one_of: Sequence[str], query: Mapping[str, Any], has_body: bool) -> list[Violation]:
    """The violation of a request that sends none of the parts `one_of` (`x-portkey-requires-one-of`)
    names; `[]` if it sends one, or if there is no such rule."""
    sent = {"body"} if has_body else set()
    sent.update(f"query.{name}" for name in query)
    if not one_of or sent & set(one_of):
        return []
    first, *others = one_of
    rule = f"is required unless {' or '.join(others)} is sent" if others else "is required"
    return [Violation(first, rule)]


def rule_violations(
    fields: Mapping[str, Any], providers: Mapping[str, Sequence[str]] | None = None
) -> list[Violation]:
    """Every prose rule `fields` (a create or update body) breaks; `providers` from `field_providers`.

    Safe on any JSON value (generators call it on bodies that break the schema too).
    """
    mappings = fields.get("secret_mappings")
    violations = list(_foreign_fields(fields, providers or {}))
    for where, limits in _usage_limits_in(fields):
        violations += _usage_limit_violations(limits, where)
    if "credit_limit" in fields:  # a usage-limits policy: the same limits, at the top level
        violations += _usage_limit_violations(fields, "")
    if isinstance(mappings, list):
        violations += _secret_mapping_violations(mappings)
    return violations


def _foreign_fields(fields: Mapping[str, Any], providers: Mapping[str, Sequence[str]]) -> Iterable[Violation]:
    provider = fields.get("provider")
    if not isinstance(provider, str):
        return
    for name, value in fields.items():
        owners = providers.get(name)
        if owners and provider not in owners and not _unset(value):
            yield Violation(f"body.{name}", f"belongs to provider {' or '.join(owners)}, not {provider}")


def _unset(value: Any) -> bool:
    """Null or empty sets nothing: the Python SDK sends its unused named arguments as null, and
    Portkey's published spec lets any key carry `deploymentConfig` (an empty one sets nothing)."""
    return value is None or (isinstance(value, str | list | dict) and not value)


HOLDERS = ("workspaces", "global_workspace_access")
"""Body fields whose objects hold usage limits of their own: an integration grant's workspaces, and
its access for every workspace."""


def _usage_limits_in(fields: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every usage-limits object a body holds where the contract puts one, with its place: one object
    (a virtual key's, a provider's, an API key's: `usage_limits`), the items of an array (a
    workspace's: `usage_limits[0]`), or inside a grant (`workspaces[0].usage_limits[0]`). Opaque
    documents a body carries (a service-account JSON) are not searched."""
    yield from _limits_at(fields.get("usage_limits"), "usage_limits")
    for holder in HOLDERS:
        inner = fields.get(holder)
        items = list(enumerate(inner)) if isinstance(inner, list) else [(None, inner)]
        for index, item in items:
            if isinstance(item, dict):
                place = holder if index is None else f"{holder}[{index}]"
                yield from _limits_at(item.get("usage_limits"), f"{place}.usage_limits")


def _limits_at(value: Any, where: str) -> Iterable[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        yield where, value
    elif isinstance(value, list):
        yield from ((f"{where}[{i}]", item) for i, item in enumerate(value) if isinstance(item, dict))


def _usage_limit_violations(limits: Mapping[str, Any], where: str) -> Iterable[Violation]:
    """The usage-limits rules (the contract's description states them), the same for every resource,
    on the object at `where` (`""`: the body itself, a usage-limits policy)."""
    inside = f"{where}." if where else ""
    limit, threshold = limits.get("credit_limit"), limits.get("alert_threshold")
    if _is_number(limit) and _is_number(threshold) and threshold > limit:
        yield Violation(f"body.{inside}alert_threshold", f"must not be above {inside}credit_limit")
    if limits.get("periodic_reset") is not None and limits.get("periodic_reset_days") is not None:
        yield Violation(
            f"body.{inside}periodic_reset_days", f"cannot be set together with {inside}periodic_reset"
        )


def _secret_mapping_violations(mappings: list[Any]) -> Iterable[Violation]:
    seen: set[str] = set()
    for index, mapping in enumerate(mappings):
        target = mapping.get("target_field") if isinstance(mapping, dict) else None
        if not isinstance(target, str):
            continue
        if target in seen:
            yield Violation(
                f"body.secret_mappings[{index}].target_field", f"repeats {target}; each must be unique"
            )
        seen.add(target)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
