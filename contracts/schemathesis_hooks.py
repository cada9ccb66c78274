"""Schemathesis hooks that teach its generator the rules the contract states only in prose.

Without them, schemathesis generates schema-valid bodies such as `alert_threshold` above
`credit_limit`, which the service rightly rejects, and reports them as "valid data rejected".
The repair is `contracts.strategies.keep_service_rules`, driven by the service's own rule check.
Use with the stock command line: `SCHEMATHESIS_HOOKS=contracts.schemathesis_hooks schemathesis run ...`.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from contracts.strategies import keep_service_rules


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """A generated body repaired to keep the contract's prose rules (filtering would waste examples)."""
    return keep_service_rules(body) if isinstance(body, dict) else body


@schemathesis.hook("before_call")
def repair_positive_body(context: Any, case: Any, kwargs: Any) -> None:
    """The examples and coverage phases do not pass through `map_body`: a body meant to be valid is
    repaired just before it is sent (one meant to be invalid is left as generated)."""
    meta = case.meta
    if (
        isinstance(case.body, dict)
        and meta is not None
        and meta.generation.mode == schemathesis.GenerationMode.POSITIVE
    ):
        repaired = keep_service_rules(case.body)
        case.body.clear()
        case.body.update(repaired)
