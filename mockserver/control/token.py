"""An optional lock on the control plane: `/__mock/*` asks for `Authorization: Bearer <token>`.

Without a token anyone who can reach the mock may read its journal, change its faults and reset
it; with one, only a client that sends the token may. `/__mock/health` stays open so readiness
probes and `contracts verify` work unchanged, and so do the dashboard's page and static files,
which hold no state: the page asks for the token and sends it with every request it makes.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from mockserver.control import CONTROL_PREFIX, is_control_path
from mockserver.errors import Unauthorised

if TYPE_CHECKING:
    from flask import Flask

OPEN_PATHS = frozenset({CONTROL_PREFIX + "/health", CONTROL_PREFIX + "/"})
"""Paths answered without the token: the readiness probe and the dashboard's page shell."""
OPEN_PREFIXES = (CONTROL_PREFIX + "/static/", CONTROL_PREFIX + "/log-exports/")
"""The dashboard's static files, and logs export files, which a signed URL reads without a token
(its random token is the signature)."""
TOKEN_VARIABLE = "MOCK_CONTROL_TOKEN"


def require_control_token(app: Flask, token: str) -> None:
    """Answer 401 in Portkey's envelope to any control request without `Bearer <token>`."""
    from flask import request  # the command line reads this module's names without Flask

    expected = f"Bearer {token}".encode()

    @app.before_request
    def check_token() -> None:
        path = request.path
        if not is_control_path(path) or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return
        sent = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(sent, expected):  # constant time: the answer leaks no prefix
            return
        error = Unauthorised("Control token required: send Authorization: Bearer <token>")
        error.headers["WWW-Authenticate"] = 'Bearer realm="portkey-mock control"'
        raise error  # answered by the control plane's error handler, as every error


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    return host == "localhost" or host.startswith("127.") or host in ("::1", "[::1]")


def exposure_warning(host: str) -> str:
    """What anyone on the network could do to a mock served on `host` without a control token."""
    return (
        f"warning: serving on {host} without a control token: anyone who can reach this address can "
        "read the request journal, list the stored keys, set faults and reset the mock. "
        f"Pass --control-token TOKEN (or set {TOKEN_VARIABLE}) to lock /__mock/."
    )
