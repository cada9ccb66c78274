"""Replay as state: a snapshot's successful writes re-applied, in order, through a mock's own pipeline.

Not canned answers: each recorded create, update and delete is sent to the mock as the client sent
it, so the mock's own rules make the state (lists, totals, a 404 after a delete, later creates).
Made values are mapped as answers come (`ids.Learned`: `<slug-1>` is whatever slug the mock gave
the recorded create). Exchanges whose answer broke the contract are quarantined: listed, never
applied. Reads change nothing and are not sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, jsonify

from mockserver.control import CONTROL_PREFIX
from mockserver.snapshots.document import Snapshot, describe
from mockserver.snapshots.ids import Learned
from mockserver.wsgi import WsgiApp

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Send = Callable[[dict[str, Any]], tuple[int, Any]]
"""Sends one request as a snapshot keeps it (method, path, query, headers, body); its status and JSON."""


@dataclass
class Replayed:
    """What a replay did: writes applied, exchanges quarantined, writes the mock answered otherwise."""

    source: str
    applied: list[str] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    """Recorded made values (`<slug-1>`, or the slug the real service gave) -> the mock's."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "applied": self.applied,
            "quarantined": self.quarantined,
            "diverged": self.diverged,
            "ids": self.ids,
        }

    def summary(self) -> list[str]:
        """Lines for a start-up message: what was applied, and each exchange quarantined."""
        lines = [f"replayed {len(self.applied)} writes from {self.source}"]
        lines += [f"quarantined {q['exchange']}: {'; '.join(q['violations'])}" for q in self.quarantined]
        lines += [f"answered otherwise by the mock: {line}" for line in self.diverged]
        return lines


def replay(snapshot: Snapshot, send: Send, source: str = "snapshot") -> Replayed:
    """Fold the snapshot's successful writes into the mock behind `send`, in the recorded order."""
    learned, done = Learned(), Replayed(source)
    for exchange in snapshot.exchanges:
        violations = exchange.get("response_verdict", {}).get("violations") or []
        if violations:
            shown = [f"{v['location']}: {v['rule']}" for v in violations]
            done.quarantined.append({"exchange": describe(exchange), "violations": shown})
            continue
        recorded = exchange["response"]
        if exchange["request"]["method"] not in WRITES or not 200 <= recorded["status"] < 300:
            continue
        status, body = send(learned.request(exchange["request"]))
        learned.learn(recorded.get("body"), body)
        done.applied.append(describe(exchange))
        if status != recorded["status"]:
            done.diverged.append(f"{describe(exchange)}, the mock answered {status}")
    done.ids = dict(learned.known)
    return done


def in_process(app: WsgiApp) -> Send:
    """Send through a WSGI app in this process (`mockserver serve --replay`)."""
    from werkzeug.test import Client

    client = Client(app)

    def send(request: dict[str, Any]) -> tuple[int, Any]:
        answer = client.open(
            _target(request), method=request["method"], headers=request["headers"], data=_body(request)
        )
        return answer.status_code, _json(answer.get_data())

    return send


def over_http(root_url: str, timeout: float = 30.0) -> Send:
    """Send to a service listening at `root_url` (the pytest fixture's mock, or parity's service)."""
    import httpx

    def send(request: dict[str, Any]) -> tuple[int, Any]:
        answer = httpx.request(
            request["method"],
            root_url.rstrip("/") + _target(request),
            headers=request["headers"],
            content=_body(request),
            timeout=timeout,
        )
        return answer.status_code, _json(answer.content)

    return send


def replay_blueprint(replayed: Replayed) -> Blueprint:
    """`GET /__mock/replay`: what the start-up replay applied and what it quarantined."""
    blueprint = Blueprint("replay", __name__, url_prefix=CONTROL_PREFIX)

    @blueprint.get("/replay")
    def report() -> Any:
        return jsonify(replayed.as_dict())

    return blueprint


def _target(request: dict[str, Any]) -> str:
    query = urlencode(request.get("query") or {}, doseq=True)
    return f"{request['path']}?{query}" if query else request["path"]


def _body(request: dict[str, Any]) -> bytes:
    if request.get("body") is not None:
        return json.dumps(request["body"]).encode()
    return str(request.get("body_text") or "").encode()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
