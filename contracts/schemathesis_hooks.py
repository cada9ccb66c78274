"""Schemathesis hooks that teach its generator the rules the contract states beside its schemas.

Without them, schemathesis generates schema-valid bodies such as `alert_threshold` above
`credit_limit`, or a `DELETE /integrations/{slug}/models` naming no model at all, which the service
rightly rejects, and reports them as "valid data rejected". The repairs are
`contracts.strategies.keep_service_rules`, `keep_required_parts` and `keep_required_when`, driven by
the service's own checks.
Use with the stock command line: `SCHEMATHESIS_HOOKS=contracts.schemathesis_hooks schemathesis run ...`.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from contracts.strategies import keep_required_parts, keep_required_when, keep_service_rules


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """A generated body repaired to keep the contract's prose rules (filtering would waste examples)."""
    return keep_service_rules(body) if isinstance(body, dict) else body


@schemathesis.hook("before_call")
def repair_positive_case(context: Any, case: Any, kwargs: Any) -> None:
    """A request meant to be valid gets the part its operation requires one of; its body, which the
    examples and coverage phases do not pass through `map_body`, is repaired just before it is sent.
    One meant to be invalid is left as generated."""
    meta = case.meta
    if meta is None or meta.generation.mode != schemathesis.GenerationMode.POSITIVE:
        return
    keep_required_parts(case)
    keep_required_when(case)
    if isinstance(case.body, dict):
        repaired = keep_service_rules(case.body)
        case.body.clear()
        case.body.update(repaired)
