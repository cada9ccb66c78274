"""The rules the contract states in prose only (its description lists them), checked on a body.

They belong to the contract, not to the domain: the request judge runs them with the schema, so the
mock's answer and its journal's verdict name the same violations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard

from mockserver.violations import Violation

PROVIDERS_EXTENSION = "x-portkey-providers"
"""On a create field: the providers that take it (a field of another provider is refused)."""


def field_providers(schema: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """`{field: providers}` for the fields of a body schema marked `x-portkey-providers`."""
    properties = (schema or {}).get("properties", {})
    return {
        name: tuple(prop[PROVIDERS_EXTENSION])
        for name, prop in properties.items()
        if isinstance(prop, dict) and PROVIDERS_EXTENSION in prop
    }


def rule_violations(
    fields: Mapping[str, Any], providers: Mapping[str, Sequence[str]] | None = None
) -> list[Violation]:
    """Every prose rule `fields` (a create or update body) breaks; `providers` from `field_providers`.

    Safe on any JSON value (generators call it on bodies that break the schema too).
    """
    limits, mappings = fields.get("usage_limits"), fields.get("secret_mappings")
    violations = list(_foreign_fields(fields, providers or {}))
    if isinstance(limits, dict):
        violations += _usage_limit_violations(limits)
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


def _usage_limit_violations(limits: dict[str, Any]) -> Iterable[Violation]:
    limit, threshold = limits.get("credit_limit"), limits.get("alert_threshold")
    if _is_number(limit) and _is_number(threshold) and threshold > limit:
        yield Violation("body.usage_limits.alert_threshold", "must not be above usage_limits.credit_limit")
    if limits.get("periodic_reset") is not None and limits.get("periodic_reset_days") is not None:
        yield Violation(
            "body.usage_limits.periodic_reset_days", "cannot be set together with usage_limits.periodic_reset"
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
