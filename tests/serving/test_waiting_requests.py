"""On the default server, a request that waits (a delay fault, the Redis store) holds no other client.

granian runs a request the app says cannot wait on its event loop and one that may wait on a
thread (`MockApp.may_block`, serving/granian.py). Were a delayed request run on the loop, every
other client would wait for its delay; these tests see that as the delayed answer arriving first.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import STORES, unique_prefix
from tests.support.served import ServedProcess

pytestmark = pytest.mark.slow  # starts `mockserver serve`: not in the fast loop

HEADERS = {"x-portkey-api-key": "pk-waiting"}
DELAY_MS = 5_000
"""The delay of the held request: far longer than the other requests take; never waited for."""


@pytest.fixture(params=STORES)
def served(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    options: tuple[str, ...] = ()
    if request.param == "redis":
        options = ("--store", request.getfixturevalue("redis_url"), "--redis-prefix", unique_prefix())
    yield from serving(*options)


@pytest.fixture
def served_in_memory() -> Iterator[httpx.Client]:
    yield from serving()


def serving(*options: str) -> Iterator[httpx.Client]:
    """`mockserver serve` on granian, the default; stopping it waits for the delayed request."""
    server = ServedProcess(*options)
    with httpx.Client(base_url=server.root_url, headers=HEADERS, timeout=DELAY_MS / 1000 + 20) as http:
        yield http
    server.stop()


def created_key(http: httpx.Client) -> str:
    answer = http.post(
        "/v1/virtual-keys", json={"name": "w", "provider": "openai", "key": "sk-wait-0123456789"}
    )
    answer.raise_for_status()
    slug: str = answer.json()["data"]["slug"]
    return slug


def held_request(http: httpx.Client, path: str, *headers: str) -> socket.socket:
    """A GET sent on a socket of its own, its answer left unread."""
    url = http.base_url
    connection = socket.create_connection((url.host, url.port), timeout=10)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {url.host}",
        f"x-portkey-api-key: {HEADERS['x-portkey-api-key']}",
    ]
    connection.sendall(("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode())
    return connection


def answered(connection: socket.socket) -> bool:
    """Whether any byte of the answer has arrived, without waiting for one."""
    connection.setblocking(False)
    try:
        return bool(connection.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False


def wait_until_delayed(http: httpx.Client) -> None:
    """Until the plan's one delay rule has matched a request: it is then inside its delay."""
    deadline = time.monotonic() + 30
    while http.get("/__mock/faults/counters").json()["matches"].get("0") != 1:
        assert time.monotonic() < deadline, "the delayed request never reached the mock"
        time.sleep(0.01)  # a poll interval, bounded by the deadline above


def test_a_request_held_by_a_delay_fault_holds_no_other_client(served):
    slug = created_key(served)
    rule = {"operation": "retrieveVirtualKey", "times": 1, "latency_ms": DELAY_MS}
    served.put("/__mock/faults", json={"rules": [rule]}).raise_for_status()
    with held_request(served, f"/v1/virtual-keys/{slug}") as delayed:
        wait_until_delayed(served)

        listed = served.get("/v1/virtual-keys")
        retrieved = served.get(f"/v1/virtual-keys/{slug}")  # the rule's one time is spent
        health = served.get("/__mock/health")

        assert not answered(delayed)
    assert listed.status_code == 200 and listed.json()["total"] == 1
    assert retrieved.status_code == 200 and health.status_code == 200


def test_a_request_delayed_by_its_own_header_holds_no_other_client(served_in_memory):
    """No plan: the other requests are answered on the event loop while the delayed one waits.
    (With Redis every request runs on a thread, as in the test above.)"""
    served = served_in_memory
    slug = created_key(served)
    with held_request(served, f"/v1/virtual-keys/{slug}", f"x-mock-fault: latency_ms={DELAY_MS}") as delayed:
        retrieved = served.get(f"/v1/virtual-keys/{slug}")
        created = served.post(
            "/v1/virtual-keys", json={"name": "m", "provider": "openai", "key": "sk-meanwhile-01"}
        )

        assert not answered(delayed)
    assert retrieved.status_code == 200 and created.status_code == 200
