"""State shared through Redis by separate mock processes: instances on two ports, and `--workers`."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from portkey_ai import Portkey
from portkey_ai.api_resources.exceptions import NotFoundError

from mockserver import create_app
from mockserver.cli import main
from mockserver.config import MockConfig
from tests.support.inprocess import reset, unique_prefix
from tests.support.seed_examples import SEED_EXAMPLES
from tests.support.served import MOCKSERVER, ServedProcess

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop


@pytest.fixture
def shared_prefix(redis_url: str) -> Iterator[str]:
    prefix = unique_prefix()
    yield prefix
    reset(create_app(MockConfig(store_url=redis_url, redis_prefix=prefix)))


@pytest.fixture(scope="module")
def instances(redis_url: str) -> Iterator[tuple[ServedProcess, ServedProcess]]:
    """Two mock processes on one Redis prefix, started once for this module."""
    prefix = unique_prefix()
    first = ServedProcess("--store", redis_url, "--redis-prefix", prefix)
    try:
        second = ServedProcess("--store", redis_url, "--redis-prefix", prefix)
    except Exception:
        first.stop()
        raise
    yield first, second
    httpx.post(f"{first.root_url}/__mock/reset")
    first.stop()
    second.stop()


@pytest.fixture
def two_instances(instances: tuple[ServedProcess, ServedProcess]) -> tuple[ServedProcess, ServedProcess]:
    """Both instances, their shared state emptied through the second one's control plane."""
    assert httpx.post(f"{instances[1].root_url}/__mock/reset").status_code == 200
    return instances


def test_a_key_created_on_one_instance_lives_on_the_other(two_instances):
    first, second = (Portkey(api_key="pk-shared", base_url=mock.base_url) for mock in two_instances)
    slug = first.virtual_keys.create(**SEED_EXAMPLES["azure-default"]).data["slug"]
    assert second.virtual_keys.retrieve(slug=slug).ai_provider_name == "azure-openai"
    assert [item["slug"] for item in second.virtual_keys.list().data] == [slug]
    second.virtual_keys.update(slug=slug, note="set on the second")
    assert first.virtual_keys.retrieve(slug=slug).note == "set on the second"
    second.virtual_keys.delete(slug=slug)
    with pytest.raises(NotFoundError):
        first.virtual_keys.retrieve(slug=slug)
    assert first.virtual_keys.list().total == 0


def test_list_order_and_slug_uniqueness_hold_across_instances(two_instances):
    seed = {"workspaces": [{"api_key": "pk-shared", "virtual_keys": [{"slug": "fixed-000001", **OPENAI}]}]}
    first, second = two_instances
    assert httpx.post(f"{first.root_url}/__mock/seed", json=seed).status_code == 200
    taken = httpx.post(f"{second.root_url}/__mock/seed", json=seed)
    assert taken.status_code == 400 and "is already taken" in taken.json()["data"]["message"]
    clients = [Portkey(api_key="pk-shared", base_url=mock.base_url) for mock in two_instances]
    created = [clients[n % 2].virtual_keys.create(**OPENAI).data["slug"] for n in range(6)]
    listed = [item["slug"] for item in clients[0].virtual_keys.list().data]
    assert listed == [*created[::-1], "fixed-000001"]


def test_concurrent_updates_through_both_instances_never_lose_a_field(two_instances):
    headers = {"x-portkey-api-key": "pk-shared"}
    clients = [httpx.Client(base_url=mock.base_url, headers=headers) for mock in two_instances]
    slug = clients[0].post("/virtual-keys", json=OPENAI).json()["data"]["slug"]
    fields = {
        "name": lambda n: f"name-{n}",
        "note": lambda n: f"note-{n}",
        "usage_limits": lambda n: {"credit_limit": n + 1, "type": "cost"},
        "rate_limits": lambda n: [{"type": "requests", "unit": "rpm", "value": n}],
    }
    rounds = 15

    def writer(index: int, field: str) -> None:
        for n in range(rounds):
            response = clients[index % 2].put(f"/virtual-keys/{slug}", json={field: fields[field](n)})
            assert response.status_code == 200

    threads = [threading.Thread(target=writer, args=pair) for pair in enumerate(fields)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = clients[1].get(f"/virtual-keys/{slug}").json()
    for client in clients:
        client.close()
    assert {field: final[field] for field in fields} == {f: make(rounds - 1) for f, make in fields.items()}


def test_workers_share_one_state_and_the_fault_plan_given_at_start(redis_url, shared_prefix):
    fault = "operation=listVirtualKeys; status=503; times=1"
    mock = ServedProcess(
        "--store", redis_url, "--redis-prefix", shared_prefix, "--workers", "2", "--fault", fault,
        "--fault-seed", "5",
    )  # fmt: skip
    try:
        assert _worker_pids(mock.root_url) == 2
        plan = httpx.get(f"{mock.root_url}/__mock/faults").json()
        assert plan["seed"] == 5 and plan["rules"] == [
            {"operation": "listVirtualKeys", "status": 503, "times": 1}
        ]
        headers = {"x-portkey-api-key": "pk-workers"}
        lists = [httpx.get(f"{mock.base_url}/virtual-keys", headers=headers).status_code for _ in range(4)]
        assert lists == [503, 200, 200, 200]  # one counter for both workers
        slugs = [
            httpx.post(f"{mock.base_url}/virtual-keys", json=OPENAI, headers=headers).json()["data"]["slug"]
            for _ in range(8)  # a new connection each time, so both workers take some
        ]
        for _ in range(4):
            listed = httpx.get(f"{mock.base_url}/virtual-keys", headers=headers).json()
            assert [item["slug"] for item in listed["data"]] == slugs[::-1]
    finally:
        mock.stop()


def _worker_pids(root_url: str, timeout: float = 20.0) -> int:
    """How many worker processes answer, asking on new connections until two did or time is up."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(httpx.get(f"{root_url}/__mock/health").json()["pid"])
    return len(seen)


def test_workers_answer_the_first_request_sent_the_moment_the_address_is_announced(redis_url, shared_prefix):
    """The workers' sockets listen before the address is printed: a client that connects at once
    (a CI step right after the line appears) waits in the backlog, it is not refused."""
    command = [MOCKSERVER, "serve", "--port", "0", "--store", redis_url, "--redis-prefix", shared_prefix]
    process = subprocess.Popen(
        [*command, "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()  # blocks until the address is announced
        root_url = line.split("listening on ")[1].split()[0].removesuffix("/v1")
        assert httpx.get(f"{root_url}/__mock/health", timeout=30).status_code == 200  # no retry
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def test_several_workers_need_a_shared_store(capsys):
    assert main(["serve", "--port", "0", "--workers", "2"]) == 2
    assert "--workers above 1 needs a shared store" in capsys.readouterr().err


OPENAI = {"name": "openai", "provider": "openai", "key": "sk-secret-provider-key"}


def test_the_journal_is_shared_and_reset_clears_one_prefix_only(two_instances, redis_url):
    first, second = two_instances
    other = create_app(MockConfig(store_url=redis_url, redis_prefix=unique_prefix()))
    other_client = other.test_client()
    other_client.get("/v1/virtual-keys", headers={"x-portkey-api-key": "pk-other"})
    httpx.post(
        f"{first.base_url}/virtual-keys",
        headers={"x-portkey-api-key": "pk-shared"},
        json={"name": "journaled", "provider": "openai", "key": "sk-journal-0123456789"},
    )
    httpx.get(f"{second.base_url}/virtual-keys", headers={"x-portkey-api-key": "pk-shared"})

    journal = httpx.get(f"{second.root_url}/__mock/journal").json()
    assert [(e["seq"], e["operation"], e["status"]) for e in journal["entries"]] == [
        (1, "createVirtualKey", 200),
        (2, "listVirtualKeys", 200),
    ]
    assert journal["entries"][0]["body"]["key"] == "sk*****789"
    assert httpx.post(f"{first.root_url}/__mock/reset").status_code == 200
    assert httpx.get(f"{second.root_url}/__mock/journal").json()["entries"] == []
    assert len(other_client.get("/__mock/journal").json["entries"]) == 1
    reset(other)


def test_the_shared_journal_keeps_its_limit_and_counts_what_it_dropped(redis_url, shared_prefix):
    app = create_app(MockConfig(store_url=redis_url, redis_prefix=shared_prefix, journal_limit=3))
    client = app.test_client()
    for _ in range(5):
        client.get("/v1/virtual-keys", headers={"x-portkey-api-key": "pk-limit"})
    journal = client.get("/__mock/journal").json
    assert [e["seq"] for e in journal["entries"]] == [3, 4, 5]
    assert (journal["limit"], journal["dropped"]) == (3, 2)
