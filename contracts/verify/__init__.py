"""`contracts verify`: does a running service keep to the contract?

`command.py` runs it and `cli.py` parses its arguments; `run.py` is one run's shared state, judged
by the registered `checks.py` and remembered in `ledger.py`; `guard.py` keeps schemathesis safe,
`lifecycle.py` is the run's own ordered phase, `report.py` the result and its writers. `verify` and
`VerifyOptions` are imported when first used: the command line's parser does not load schemathesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.verify.command import VerifyOptions, verify
    from contracts.verify.report import VerifyResult

__all__ = ["VerifyOptions", "VerifyResult", "verify"]


def __getattr__(name: str) -> Any:
    if name == "VerifyResult":
        return importlib.import_module("contracts.verify.report").VerifyResult
    if name in __all__:
        return getattr(importlib.import_module("contracts.verify.command"), name)
    raise AttributeError(f"module 'contracts.verify' has no attribute {name!r}")
