"""Applying a request's fault in the request pipeline: wait its delay, then answer for it or break the
connection on the way out. A fault replaces the operation, so nothing is stored or changed."""

from __future__ import annotations

import time
from typing import Any

from mockserver.faults.connection import CONNECTION_FAULT
from mockserver.faults.plan import NO_FAULT, Fault
from mockserver.responses import json_body


def apply_fault(fault: Fault, environ: dict[str, Any]) -> bytes | None:
    """The body that replaces the operation's answer, or None when the request is served as usual.

    An error fault raises its `ApiError`; a connection fault answers a placeholder that the WSGI
    wrapper (`faults.connection`) breaks on the way out.
    """
    if fault is NO_FAULT:
        return None
    if fault.delay_ms:
        time.sleep(fault.delay_ms / 1000)  # the injected latency itself
    if fault.connection:
        environ[CONNECTION_FAULT] = fault.connection
        return json_body({"success": True, "data": {"fault": fault.connection}})
    if fault.status:
        raise fault.error()
    return None
