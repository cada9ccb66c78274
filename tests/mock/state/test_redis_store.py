"""The Redis store keeps the Store contract exactly as the memory store does, across clients."""

from __future__ import annotations

import json
import os
import threading

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.state.records import MemoryStore
from mockserver.state.records.base import Insert, Update
from mockserver.state.records.redis import RedisStore
from mockserver.state.redis_keys import RedisNamespace
from tests.support.inprocess import unique_prefix

# Workspace namespaces and slugs as requests can make them, `:` and `*` included.
NAMESPACES = st.sampled_from(["org/ws", "org/ws:key:x"])
SLUGS = st.sampled_from(["a", "b", "c:key:d", "*", "%3A"])
VALUES = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)
VALUES |= st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), NAMESPACES, SLUGS, VALUES),
        st.tuples(st.just("insert"), NAMESPACES, SLUGS, VALUES),
        st.tuples(st.just("get"), NAMESPACES, SLUGS),
        st.tuples(st.just("page"), NAMESPACES, st.integers(0, 2), st.integers(0, 4)),
        st.tuples(st.just("update"), NAMESPACES, SLUGS, VALUES),
        st.tuples(st.just("delete"), NAMESPACES, SLUGS),
        st.tuples(
            st.just("write"),
            NAMESPACES,
            SLUGS,
            VALUES,
            st.booleans(),
            st.lists(st.tuples(NAMESPACES, SLUGS), max_size=2),
        ),
        st.tuples(
            st.just("write"),
            st.none(),
            st.none(),
            st.none(),
            st.none(),
            st.lists(st.tuples(NAMESPACES, SLUGS), max_size=2),
        ),
        st.tuples(st.just("clear")),
    ),
    min_size=8,
    max_size=30,
)


@pytest.fixture
def keys(redis_url: str):
    namespace = RedisNamespace(redis.Redis.from_url(redis_url), unique_prefix())
    yield namespace
    namespace.clear()


def apply(store, operation):
    name, *args = operation
    if name == "insert":
        namespace, slug, value = args
        return store.insert(namespace, {"slug": slug, "value": value, "model_config": {}, "rate_limits": []})
    if name == "update":
        namespace, slug, value = args
        return store.update(namespace, slug, {"value": value, "note": None})
    if name == "write":  # an update of a record as read now (or as it never was), with inserts
        namespace, slug, value, fresh, inserts = args
        update = None
        if namespace is not None:
            seen = store.get_text(namespace, slug) if fresh else b'{"slug":"gone"}'
            update = Update(namespace, slug, seen or b"", {"value": value, "note": None})
        made = [Insert(store, ns, {"slug": s, "id": f"id-{s}", "value": 1}) for ns, s in inserts]
        return store.write(update, made)
    return getattr(store, name)(*args)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # each example clears the prefix
@given(operations=OPERATIONS)
def test_redis_store_answers_every_operation_sequence_as_the_memory_store_does(keys, operations):
    keys.clear()
    memory, shared = MemoryStore(), RedisStore(keys)
    for operation in operations:
        assert apply(shared, operation) == apply(memory, operation), operation
    for namespace in NAMESPACES.elements:
        assert shared.page(namespace, 0, 100) == memory.page(namespace, 0, 100)


def test_a_record_written_by_one_client_is_read_updated_and_deleted_by_another(keys):
    first, other = RedisStore(keys), another_client(keys)
    assert first.insert("ns", {"slug": "a-1", "name": "a"})
    assert other.get("ns", "a-1") == {"slug": "a-1", "name": "a"}
    assert other.update("ns", "a-1", {"name": "b"}) == {"slug": "a-1", "name": "b"}
    assert first.get("ns", "a-1")["name"] == "b"
    assert other.delete("ns", "a-1") and first.get("ns", "a-1") is None


def another_client(keys: RedisNamespace) -> RedisStore:
    """A store on the same prefix through connections of its own, as another process would have."""
    pool = keys.client.connection_pool
    fresh = redis.ConnectionPool(connection_class=pool.connection_class, **pool.connection_kwargs)
    return RedisStore(RedisNamespace(redis.Redis(connection_pool=fresh), keys.prefix))


def test_a_slug_is_inserted_once_when_many_clients_race_for_it(keys):
    stores = [another_client(keys) for _ in range(8)]
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda s=s, n=n: results.append(s.insert("ns", {"slug": "same", "n": n})))
        for n, s in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert stores[0].page("ns", 0, 10)[0] == 1


def test_concurrent_updates_of_different_fields_never_lose_one(keys):
    store = RedisStore(keys)
    store.insert("ns", {"slug": "k", **{f"field{n}": 0 for n in range(6)}})
    rounds = 30

    def writer(n: int) -> None:
        mine = another_client(keys)
        for value in range(1, rounds + 1):
            mine.update("ns", "k", {f"field{n}": value})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("ns", "k") == {"slug": "k", **{f"field{n}": rounds for n in range(6)}}


def test_list_order_is_insertion_order_whichever_client_inserted(keys):
    clients = [RedisStore(keys), another_client(keys)]
    for n in range(6):
        assert clients[n % 2].insert("ns", {"slug": f"k{n}"})
    total, records = clients[1].page("ns", 1, 3)
    assert total == 6 and [r["slug"] for r in records] == ["k4", "k3", "k2"]


def test_clearing_one_prefix_leaves_another_mocks_keys_alone(keys):
    neighbour = RedisNamespace(keys.client, keys.prefix + "-neighbour")
    mine, theirs = RedisStore(keys), RedisStore(neighbour)
    try:
        mine.insert("ns", {"slug": "a"})
        theirs.insert("ns", {"slug": "a"})
        mine.clear()
        assert mine.get("ns", "a") is None
        assert theirs.get("ns", "a") == {"slug": "a"}
    finally:
        neighbour.clear()


def test_an_insert_sent_again_after_a_broken_connection_stores_its_record_once(keys):
    """redis-py sends a command again when the connection breaks before the answer: the repeat of an
    insert that did happen succeeds without a second record, and another record still finds the slug taken."""
    store = RedisStore(keys)
    record = {"id": "id-1", "slug": "s", "model_config": {}, "rate_limits": []}
    assert store.insert("org/ws", record)
    assert store.insert("org/ws", dict(record))
    assert not store.insert("org/ws", {**record, "id": "id-2"})
    assert store.page("org/ws", 0, 10) == (1, [record])


@pytest.fixture
def trips(monkeypatch):
    """Counts round trips to Redis: each is one write of commands to a connection's socket."""
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return sent


def test_retrieve_list_and_create_make_one_round_trip_to_redis_journal_included(redis_url, trips):
    """A create's audit log entry rides the same trip as its journal entry (docs/admin-audit-logs.md)."""
    app = create_app(MockConfig(store_url=redis_url, redis_prefix=unique_prefix()))
    client = app.test_client()
    headers = {"x-portkey-api-key": "pk-trips"}
    body = {"name": "trip key", "provider": "openai", "key": "sk-trip-000000000000wxyz"}
    slug = client.post("/v1/virtual-keys", json=body, headers=headers).get_json()["data"]["slug"]
    for method, path, sent_body in [
        ("GET", f"/v1/virtual-keys/{slug}", None),
        ("GET", "/v1/virtual-keys", None),
        ("POST", "/v1/virtual-keys", body),
        ("GET", "/v1/virtual-keys/no-such-key", None),
    ]:
        client.open(path, method=method, json=sent_body, headers=headers)  # loads its script into Redis
        trips.clear()
        answer = client.open(path, method=method, json=sent_body, headers=headers)
        assert answer.status_code in (200, 404)
        assert len(trips) == 1, (method, path)
    journal = client.get("/__mock/journal").get_json()["entries"]
    assert [(e["method"], e["status"]) for e in journal[-8:]] == [
        ("GET", 200), ("GET", 200), ("GET", 200), ("GET", 200),
        ("POST", 200), ("POST", 200), ("GET", 404), ("GET", 404),
    ]  # fmt: skip
    assert journal[-1]["headers"]["x-portkey-api-key"] != "pk-trips"  # masked as ever
    audited = app.state.audit.entries()
    assert [(e["method"], e["response_status_code"], e["uri"]) for e in audited] == [
        ("POST", 200, "/v1/virtual-keys")
    ] * 3  # the first create, and the second sent twice
    assert "sk-trip-000000000000wxyz" not in json.dumps(audited)
    client.put("/__mock/faults", json={"rules": [{"operation": "retrieveVirtualKey", "status": 503}]})
    assert client.get(f"/v1/virtual-keys/{slug}", headers=headers).status_code == 503  # the plan applies
    assert client.get("/__mock/journal").get_json()["entries"][-1]["status"] == 503


def test_each_thread_makes_its_trips_on_a_connection_of_its_own_and_a_forked_worker_too(keys):
    """A request's trip goes on its thread's own connection; one made before a fork is never
    shared with the forked worker (two processes on one socket would read each other's replies)."""
    mine = keys.own_client()
    assert keys.own_client() is mine
    theirs: list[redis.Redis] = []
    thread = threading.Thread(target=lambda: theirs.append(keys.own_client()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine and theirs[0].connection is not mine.connection

    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: a client of its own, and it works
        try:
            own = keys.own_client()
            answer = b"fresh" if own is not mine and own.ping() else b"shared"
        except Exception:
            answer = b"failed"
        os.write(writer, answer)
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as pipe:
        assert pipe.read() == b"fresh"
    assert mine.ping()  # the parent's connection is unharmed
