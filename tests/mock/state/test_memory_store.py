"""The memory store hands out copies: what a caller does with a record never changes the store."""

from __future__ import annotations

from mockserver.state.records import MemoryStore


def _record(slug: str) -> dict:
    return {"slug": slug, "name": "n", "model_config": {"deploymentConfig": [{"alias": "a"}]}, "note": None}


def test_changing_a_returned_record_leaves_the_stored_one_alone():
    store = MemoryStore()
    original = _record("k-1")
    assert store.insert("ns", original)
    original["model_config"]["deploymentConfig"][0]["alias"] = "changed before reading"
    got = store.get("ns", "k-1")
    got["model_config"]["deploymentConfig"].append({"alias": "b"})
    _, page = store.page("ns", 0, 10)
    page[0]["name"] = "changed"
    assert store.get("ns", "k-1") == _record("k-1")


def test_an_update_returns_the_record_as_stored_and_a_page_is_newest_first():
    store = MemoryStore()
    for slug in ("k-1", "k-2", "k-3"):
        store.insert("ns", _record(slug))
    updated = store.update("ns", "k-2", {"note": "hello", "model_config": {}})
    assert updated == {**_record("k-2"), "note": "hello", "model_config": {}}
    assert store.get("ns", "k-2") == updated
    assert store.page("ns", 1, 5) == (3, [updated, _record("k-1")])
    assert store.update("ns", "missing", {"note": "x"}) is None
    assert not store.insert("ns", _record("k-1"))
