"""Redis cut between the steps of a write: a request answered 503 changed nothing, and its retry
does exactly what was asked (no 409, no grant without its default provider).

Deterministic: redis-py's sending is wrapped so that, from the n-th command a request sends on,
every command fails with a ConnectionError (Redis gone), for each n from the first command of the
request to its last. The store is then compared, key by key, with what it held before, and after
the retry with what one uninterrupted request leaves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from redis.connection import AbstractConnection

from mockserver import create_app
from mockserver.config import MockConfig
from tests.support.inprocess import OPENAI, unique_prefix

HEADERS = {"x-portkey-api-key": "pk-cuts"}
SECRET = "sk-cuts-00000000000000wxyz"
ORG = {"name": "Org", "slug": "org-int", "ai_provider_id": "openai", "key": SECRET}
CUSTOM = [{"slug": f"mine-{n}", "enabled": True, "is_custom": True} for n in range(2)]
PROVIDER = {"name": "team", "slug": "team-prov", "integration_id": "org-int", "workspace_id": "ws-a"}
SEED = {
    "workspaces": [{"api_key": HEADERS["x-portkey-api-key"], "virtual_keys": [{"slug": "seeded", **OPENAI}]}]
}

Call = tuple[str, str, dict[str, Any] | None]


@dataclass(frozen=True)
class Case:
    request: Call
    setup: list[Call] = field(default_factory=list)


GRANT_A = {"workspaces": [{"id": "ws-a", "enabled": True}]}
GRANT_B = {"id": "ws-b", "enabled": True}
GRANTED = [("POST", "/v1/integrations", ORG), ("PUT", "/v1/integrations/org-int/workspaces", GRANT_A)]
CASES = {
    "create a workspace integration": Case(
        ("POST", "/v1/integrations", {**ORG, "slug": "team-int", "workspace_id": "ws-a"})
    ),
    "grant two workspaces": Case(
        ("PUT", "/v1/integrations/org-int/workspaces", {"workspaces": [*GRANT_A["workspaces"], GRANT_B]}),
        [("POST", "/v1/integrations", ORG)],
    ),
    "update models": Case(
        ("PUT", "/v1/integrations/org-int/models", {"models": [{"slug": "new", "enabled": True}]}),
        [("POST", "/v1/integrations", ORG)],
    ),
    "delete a model": Case(
        ("DELETE", "/v1/integrations/org-int/models?slugs=mine-0", None),
        [("POST", "/v1/integrations", ORG), ("PUT", "/v1/integrations/org-int/models", {"models": CUSTOM})],
    ),
    "update an integration": Case(
        ("PUT", "/v1/integrations/org-int", {"description": "changed"}), [("POST", "/v1/integrations", ORG)]
    ),
    "delete an integration": Case(
        ("DELETE", "/v1/integrations/org-int", None), [("POST", "/v1/integrations", ORG)]
    ),
    "create a provider": Case(("POST", "/v1/providers", PROVIDER), GRANTED),
    "update a provider": Case(
        ("PUT", "/v1/providers/team-prov?workspace_id=ws-a", {"note": "changed"}),
        [*GRANTED, ("POST", "/v1/providers", PROVIDER)],
    ),
    "delete a provider": Case(
        ("DELETE", "/v1/providers/team-prov?workspace_id=ws-a", None),
        [*GRANTED, ("POST", "/v1/providers", PROVIDER)],
    ),
    "create a virtual key": Case(("POST", "/v1/virtual-keys", OPENAI)),
    "update a virtual key": Case(
        ("PUT", "/v1/virtual-keys/seeded", {"note": "changed"}), [("POST", "/__mock/seed", SEED)]
    ),
    "delete a virtual key": Case(
        ("DELETE", "/v1/virtual-keys/seeded", None), [("POST", "/__mock/seed", SEED)]
    ),
}


class Cutter:
    """Counts the commands sent to Redis while armed; from command `at` on, each fails as if Redis
    had gone away (the connection is dropped before the command leaves)."""

    def __init__(self) -> None:
        self.sent = 0
        self.at: int | None = None
        self.armed = False

    @contextmanager
    def armed_at(self, at: int | None) -> Iterator[None]:
        self.sent, self.at, self.armed = 0, at, True
        try:
            yield
        finally:
            self.armed = False


@pytest.fixture
def cutter(monkeypatch) -> Cutter:
    cut = Cutter()
    send = AbstractConnection.send_packed_command

    def cuttable(connection, command, check_health=True):
        if cut.armed:
            cut.sent += 1
            if cut.at is not None and cut.sent >= cut.at:
                connection.disconnect()
                raise redis.ConnectionError("cut by the test")
        return send(connection, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", cuttable)
    return cut


@dataclass
class Run:
    status: int
    before: dict[str, Any]
    after: dict[str, Any]
    retried: int | None = None
    final: dict[str, Any] | None = None


def run(redis_url: str, case: Case, cutter: Cutter, at: int | None) -> Run:
    """The case on a fresh mock (fresh connections: the same commands every time), cut at `at`."""
    prefix = unique_prefix()
    raw = redis.Redis.from_url(redis_url)
    client = create_app(MockConfig(store_url=redis_url, redis_prefix=prefix)).test_client()
    try:
        for method, path, body in case.setup:
            assert client.open(path, method=method, json=body, headers=HEADERS).status_code == 200
        before = snapshot(raw, prefix)
        method, path, body = case.request
        with cutter.armed_at(at):
            status = client.open(path, method=method, json=body, headers=HEADERS).status_code
        outcome = Run(status, before, snapshot(raw, prefix))
        if status == 503:
            outcome.retried = client.open(path, method=method, json=body, headers=HEADERS).status_code
            outcome.final = snapshot(raw, prefix)
        return outcome
    finally:
        client.post("/__mock/reset")
        raw.close()


GENERATED = re.compile(r"-[0-9a-f]{6}(?![0-9A-Za-z])")
VOLATILE = {"id", "created_at", "last_updated_at"}


def snapshot(raw: redis.Redis, prefix: str) -> dict[str, Any]:
    """Every record and list order under `prefix` (not the journal, the audit log, fault counters
    or list sequence), with ids, times and generated slug tags blanked; each record as its fields
    say. The audit log, like the journal, records the answer: an entry cut off is lost, the answer
    stands (docs/admin-audit-logs.md)."""
    kept: dict[str, Any] = {}
    for name in raw.scan_iter(match=f"{prefix}:*", count=500):
        key = name.decode()[len(prefix) + 1 :]
        if key.split(":")[0] in {"journal", "audit", "faults", "ratelimit"} or key.endswith(":seq"):
            continue
        if raw.type(name) == b"zset":
            kept[stable(key)] = [stable(member.decode()) for member in raw.zrange(name, 0, -1)]
            continue
        fields = {k.decode(): v for k, v in raw.hgetall(name).items()}
        text = json.loads(fields.pop(":text"))
        assert {k: json.loads(v) for k, v in fields.items()} == text, f"{key}: half a record"
        kept[stable(key)] = stable(text)
    return kept


def stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(item) for item in value]
    return GENERATED.sub("-XXXXXX", value) if isinstance(value, str) else value


@pytest.mark.parametrize("name", CASES)
def test_a_write_cut_off_from_redis_at_any_step_changes_nothing_and_its_retry_completes(
    redis_url, cutter, name
):
    case = CASES[name]
    run(redis_url, case, cutter, None)  # loads the scripts into Redis, so every run sends the same
    clean = run(redis_url, case, cutter, None)
    assert clean.status == 200 and clean.after != clean.before
    steps = cutter.sent
    for at in range(1, steps + 1):
        cut = run(redis_url, case, cutter, at)
        where = f"{name}, cut at command {at} of {steps}"
        if cut.status == 200:  # only the journal's append was cut: the change is whole
            assert cut.after == clean.after, where
            continue
        assert cut.status == 503, where
        assert cut.after == cut.before, f"{where}: a request answered 503 changed the store"
        assert cut.retried == 200, f"{where}: its retry answered {cut.retried}"
        assert cut.final == clean.after, f"{where}: the retry did not complete the change"
