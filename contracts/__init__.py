"""Contract-testing toolkit for Portkey's admin API: checks clients and services against the contract.

The public surface is `__all__`: the commands' packages (`verify`, `traffic`, `drift`, `parity`), the
hypothesis `strategies`, and the names most callers want. Names are imported when first used, so
`import contracts` (and `contracts check-traffic`) does not load schemathesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts import drift, parity, strategies, traffic, verify
    from contracts.cli import main
    from contracts.traffic.recording import ExchangeRecorder
    from contracts.verify.command import VerifyOptions
    from contracts.verify.report import VerifyResult

__all__ = [
    "ExchangeRecorder",
    "VerifyOptions",
    "VerifyResult",
    "drift",
    "main",
    "parity",
    "strategies",
    "traffic",
    "verify",
]

_HOMES = {
    "ExchangeRecorder": "contracts.traffic.recording",
    "VerifyOptions": "contracts.verify.command",
    "VerifyResult": "contracts.verify.report",
    "main": "contracts.cli",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    if name in __all__:
        return importlib.import_module(f"contracts.{name}")
    raise AttributeError(f"module 'contracts' has no attribute {name!r}")
