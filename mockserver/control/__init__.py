"""The mock's own control plane under `/__mock/`: health, reset, seeding, the journal, faults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from mockserver.access import AccessPolicy
    from mockserver.control.seeding import Seeder
    from mockserver.faults.plan import Faults
    from mockserver.resources.engine import DeclaredResource
    from mockserver.resources.log_exports import LogExports
    from mockserver.resources.logs import Logs
    from mockserver.resources.people import People
    from mockserver.resources.virtual_keys import VirtualKeys
    from mockserver.state import State
    from mockserver.state.outage import StoreWatch
    from mockserver.wsgi import ErrorAnswers

CONTROL_PREFIX = "/__mock"
"""Where the control plane's paths start; every other path is the API's."""
HEALTH_PATH = CONTROL_PREFIX + "/health"
"""The readiness probe: open without the control token, and answered before Flask is loaded."""
DASHBOARD_PATH = CONTROL_PREFIX + "/"


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def health(store: StoreWatch | None, accepts_any_key: bool) -> tuple[int, dict[str, Any]]:
    """The status and body of `GET /__mock/health`: 503 while the store is unreachable.

    The process id tells the workers of `serve --workers N` apart; `auth` tells a contract checker
    that an unknown API key is accepted here by design (no keys file).
    """
    if store is not None and not store.reachable():
        return 503, {"status": "unreachable", "store": store.where, "pid": os.getpid()}
    return 200, {"status": "ok", "pid": os.getpid(), "auth": "any-key" if accepts_any_key else "keys-file"}


@dataclass(frozen=True)
class ControlParts:
    """What the control plane serves, made by `create_app` with the rest of the mock; `build` makes
    its Flask app (`control/plane.py`), which `MockApp` does only when a control request needs it."""

    seeder: Seeder
    state: State
    faults: Faults
    keys: VirtualKeys
    declared: list[DeclaredResource]
    """Every declared resource, for the store view."""
    policy: AccessPolicy
    people: People | None
    errors: ErrorAnswers
    secret_fields: frozenset[str]
    max_body_bytes: int | None
    journal_limit: int
    accepts_any_key: bool
    control_token: str | None
    log_exports: LogExports | None = None
    """The logs exports, whose files a signed URL under `/__mock/log-exports/` reads."""
    logs: Logs | None = None
    """The inserted logs and feedback, for the store view."""

    def build(self) -> Flask:
        from mockserver.control.plane import control_app  # Flask, a fifth of a start: only now

        return control_app(self)
