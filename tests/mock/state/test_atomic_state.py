"""Concurrent writes to one integration lose nothing and leave no default provider without its grant.

The same workload runs against the memory store (threads of one process), against two workers of
`mockserver serve --store redis://... --workers 2`, and against two mock processes on one Redis:
grants, revocations, model updates, model deletes and integration updates, all at once, each sent
through any of the mocks. Afterwards every change answered 200 is visible, and each workspace has a
default provider exactly when it was granted.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from mockserver import MockServer, create_app
from mockserver.resources.integrations import DEFAULT_PROVIDER_NOTE
from mockserver.state import State
from tests.support.inprocess import reset, store_config, unique_prefix
from tests.support.served import ServedProcess

HEADERS = {"x-portkey-api-key": "pk-atomic"}
SLUG = "shared-int"
GRANTS = 40
REVOKES = 10
NEW_MODELS = 30
DELETED_MODELS = 10
CHANGED_MODELS = 10
DESCRIPTIONS = 5
CLIENT_THREADS = 16
NEW_MODEL = {"enabled": True, "is_custom": True}
INTEGRATION = {"name": "Shared", "slug": SLUG, "ai_provider_id": "openai", "key": "sk-atomic-0000000000wxyz"}


@dataclass(frozen=True, eq=False)  # each write is itself: two alike are still two
class Write:
    """One request of the workload and what it is expected to leave behind."""

    kind: str
    index: int
    method: str
    path: str
    body: dict | None = None


def workload() -> list[Write]:
    grants = f"/integrations/{SLUG}/workspaces"
    models = f"/integrations/{SLUG}/models"
    writes = [
        *(Write("grant", i, "PUT", grants, {"workspaces": [{"id": f"ws-g{i}", "enabled": True}]})
          for i in range(GRANTS)),
        *(Write("revoke", i, "PUT", grants, {"workspaces": [{"id": f"ws-r{i}", "enabled": False}]})
          for i in range(REVOKES)),
        *(Write("model", i, "PUT", models, {"models": [{"slug": f"m-{i}", **NEW_MODEL}]})
          for i in range(NEW_MODELS)),
        *(Write("delete-model", i, "DELETE", f"{models}?slugs=d-{i}") for i in range(DELETED_MODELS)),
        *(Write("change-model", i, "PUT", models, {"models": [{"slug": f"c-{i}", "enabled": False}]})
          for i in range(CHANGED_MODELS)),
        *(Write("describe", i, "PUT", f"/integrations/{SLUG}", {"description": f"description {i}"})
          for i in range(DESCRIPTIONS)),
    ]  # fmt: skip
    random.Random(21).shuffle(writes)
    return writes


def prepare(client: httpx.Client) -> None:
    """The integration, granted to the workspaces to revoke, with the models to delete and change."""
    created = client.post("/integrations", json=INTEGRATION)
    assert created.status_code == 200, created.text
    granted = [{"id": f"ws-r{i}", "enabled": True} for i in range(REVOKES)]
    assert client.put(f"/integrations/{SLUG}/workspaces", json={"workspaces": granted}).status_code == 200
    custom = [
        *({"slug": f"d-{i}", "enabled": True, "is_custom": True} for i in range(DELETED_MODELS)),
        *({"slug": f"c-{i}", "enabled": True, "is_custom": True} for i in range(CHANGED_MODELS)),
    ]
    assert client.put(f"/integrations/{SLUG}/models", json={"models": custom}).status_code == 200


def run_concurrently(base_urls: list[str], writes: list[Write]) -> dict[Write, int]:
    """Each write sent once, spread over the mocks, CLIENT_THREADS at a time; its status."""
    clients = [httpx.Client(base_url=url, headers=HEADERS, timeout=60) for url in base_urls]

    def send(numbered: tuple[int, Write]) -> tuple[Write, int]:
        number, write = numbered
        client = clients[number % len(clients)]
        return write, client.request(write.method, write.path, json=write.body).status_code

    try:
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            return dict(pool.map(send, enumerate(writes)))
    finally:
        for client in clients:
            client.close()


def check_outcome(client: httpx.Client, statuses: dict[Write, int]) -> None:
    answered = {(write.kind, write.index) for write, status in statuses.items() if status == 200}
    assert sorted(set(statuses.values())) == [200], f"every write is valid: {sorted(statuses.values())}"

    listed = client.get(f"/integrations/{SLUG}/workspaces").json()["workspaces"]
    grants = {grant["id"]: grant["enabled"] for grant in listed}
    lost = [i for i in range(GRANTS) if ("grant", i) in answered and grants.get(f"ws-g{i}") is not True]
    assert lost == [], f"grants answered 200 and gone: {lost}"
    revoked = [i for i in range(REVOKES) if grants.get(f"ws-r{i}") is not False]
    assert revoked == [], f"revocations answered 200 and undone: {revoked}"

    for workspace in [*(f"ws-g{i}" for i in range(GRANTS)), *(f"ws-r{i}" for i in range(REVOKES))]:
        providers = client.get(f"/providers?workspace_id={workspace}").json()["data"]
        made = [p for p in providers if p["integration_id"] == SLUG and p["note"] == DEFAULT_PROVIDER_NOTE]
        grant = grants.get(workspace)
        assert len(made) == (workspace in grants), f"{workspace}: {len(made)} default providers, {grant=}"

    models = {m["slug"]: m for m in client.get(f"/integrations/{SLUG}/models").json()["models"]}
    assert [i for i in range(NEW_MODELS) if f"m-{i}" not in models] == [], "model updates lost"
    assert [i for i in range(DELETED_MODELS) if f"d-{i}" in models] == [], "model deletes undone"
    unchanged = [i for i in range(CHANGED_MODELS) if models[f"c-{i}"]["enabled"] is not False]
    assert unchanged == [], f"model changes lost: {unchanged}"
    assert all(models[f"c-{i}"]["is_custom"] for i in range(CHANGED_MODELS)), "a change dropped a field"
    description = client.get(f"/integrations/{SLUG}").json()["description"]
    assert description in {f"description {i}" for i in range(DESCRIPTIONS)}


def exercise(base_urls: list[str]) -> None:
    with httpx.Client(base_url=base_urls[0], headers=HEADERS, timeout=60) as client:
        prepare(client)
        statuses = run_concurrently(base_urls, workload())
        check_outcome(client, statuses)


@pytest.fixture
def memory_mock() -> Iterator[list[str]]:
    """A mock in this process; its threads switch every microsecond (not every 5 ms), so that a
    read and a write that are not one step meet another thread's write in between."""
    server = MockServer(create_app()).start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield [server.base_url]
    finally:
        sys.setswitchinterval(interval)
        server.stop()


@pytest.fixture
def redis_workers(redis_url: str) -> Iterator[list[str]]:
    mock = ServedProcess("--store", redis_url, "--redis-prefix", unique_prefix(), "--workers", "2")
    try:
        yield [mock.base_url]
    finally:
        httpx.post(f"{mock.root_url}/__mock/reset")
        mock.stop()


@pytest.fixture
def redis_processes(redis_url: str) -> Iterator[list[str]]:
    prefix = unique_prefix()
    first = ServedProcess("--store", redis_url, "--redis-prefix", prefix)
    try:
        second = ServedProcess("--store", redis_url, "--redis-prefix", prefix)
    except Exception:
        first.stop()
        raise
    try:
        yield [first.base_url, second.base_url]
    finally:
        httpx.post(f"{first.root_url}/__mock/reset")
        first.stop()
        second.stop()


def test_concurrent_writes_in_one_process_on_the_memory_store(memory_mock):
    exercise(memory_mock)


@pytest.mark.slow
def test_concurrent_writes_through_two_workers_on_one_redis(redis_workers):
    exercise(redis_workers)


@pytest.mark.slow
def test_concurrent_writes_through_two_mock_processes_on_one_redis(redis_processes):
    exercise(redis_processes)


# --- one request's read and write, with another whole request in between ---------------------------

INTERLEAVED = {
    "grants": (
        f"/v1/integrations/{SLUG}/workspaces",
        {"workspaces": [{"id": "ws-first", "enabled": True}]},
        {"workspaces": [{"id": "ws-between", "enabled": True}]},
    ),
    "models": (
        f"/v1/integrations/{SLUG}/models",
        {"models": [{"slug": "m-first", **NEW_MODEL}]},
        {"models": [{"slug": "m-between", **NEW_MODEL}]},
    ),
}


@pytest.mark.parametrize("kind", INTERLEAVED)
def test_a_change_made_between_another_requests_read_and_write_is_kept(
    request, store_kind, monkeypatch, kind
):
    """Deterministic: the first read of the integration by one request is followed, before that
    request writes, by a whole other request; both changes must be there afterwards."""
    states: list[State] = []
    build = State.build
    monkeypatch.setattr(State, "build", lambda *args: states.append(build(*args)) or states[-1])
    app = create_app(store_config(request, store_kind))
    client = app.test_client()
    assert client.post("/v1/integrations", json=INTEGRATION, headers=HEADERS).status_code == 200
    path, first, between = INTERLEAVED[kind]
    store = states[0].integrations
    pending = [lambda: client.put(path, json=between, headers=HEADERS)]
    for name in ("get", "get_text", "page", "page_text"):
        read = getattr(store, name)

        def read_then_let_another_request_in(*args, read=read):
            found = read(*args)
            while pending:
                assert pending.pop()().status_code == 200
            return found

        monkeypatch.setattr(store, name, read_then_let_another_request_in)
    try:
        assert client.put(path, json=first, headers=HEADERS).status_code == 200
        assert pending == [], "the other request ran"
        if kind == "grants":
            listed = client.get(path, headers=HEADERS).get_json()["workspaces"]
            assert sorted(grant["id"] for grant in listed) == ["ws-between", "ws-first"]
            for workspace in ("ws-between", "ws-first"):
                providers = client.get(f"/v1/providers?workspace_id={workspace}", headers=HEADERS)
                assert [p["slug"] for p in providers.get_json()["data"]] == [SLUG]
        else:
            models = client.get(path, headers=HEADERS).get_json()["models"]
            assert sorted(model["slug"] for model in models) == ["m-between", "m-first"]
    finally:
        reset(app)
