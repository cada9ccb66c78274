"""Schemathesis hooks that teach its generator the rules the contract states only in prose.

Without them, schemathesis generates schema-valid bodies such as `alert_threshold` above
`credit_limit`, which the service rightly rejects, and reports them as "valid data rejected".
Use with the stock command line: `SCHEMATHESIS_HOOKS=contracts.schemathesis_hooks schemathesis run ...`.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from mockserver.virtual_keys import rule_violations


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """Keep a generated body unless it breaks a prose rule of the contract."""
    return not (isinstance(body, dict) and rule_violations(body))
