"""A Redis that hangs (stopped with SIGSTOP, its socket still open) and a Redis that goes away and
comes back ten times under traffic, against a real redis-server of the test's own.

A hung Redis costs a request one wait (the client's socket timeout, 5 s by default), not one per
call to Redis; health asks on its own short timeout. Counted, not timed: redis-py's reads are
wrapped to count the timeouts, and the clients' own timeouts only catch a mock stuck far longer.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from redis.connection import AbstractConnection

from mockserver import MockServer, create_app
from mockserver.config import MockConfig
from tests.mock.state.test_redis_outage import PASSWORD, RedisProcess, wait_for
from tests.support.inprocess import unique_prefix
from tests.support.tools import require_tool

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

HEADERS = {"x-portkey-api-key": "pk-hung"}
NEW_KEY = {"name": "hung key", "provider": "openai", "key": "sk-hung-00000000000wxyz"}
INTEGRATION = {"name": "Hung", "slug": "hung-int", "ai_provider_id": "openai", "key": "sk-hung-0000000000int"}
TIMEOUT_SECONDS = 5
"""The mock's default wait for a Redis that does not answer (docs/redis-and-workers.md)."""


@pytest.fixture
def timeouts(monkeypatch) -> Counter:
    """How many reads from Redis timed out, by kind: the mock's own connections, health's probe."""
    counted: Counter = Counter()
    read = AbstractConnection.read_response

    def counting(connection, *args, **kwargs):
        try:
            return read(connection, *args, **kwargs)
        except redis.TimeoutError:
            counted["probe" if connection.socket_timeout < TIMEOUT_SECONDS else "request"] += 1
            raise

    monkeypatch.setattr(AbstractConnection, "read_response", counting)
    return counted


@pytest.fixture
def redis_process(tmp_path) -> Iterator[RedisProcess]:
    """A redis-server of this test's own (with a password, which must never show)."""
    require_tool("redis-server", install="apt-get install redis-server")
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        os.kill(server.process.pid, signal.SIGCONT)
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.fixture
def mock(redis_process: RedisProcess) -> Iterator[MockServer]:
    """A mock in this process on that Redis, with the default timeout."""
    app = create_app(MockConfig(store_url=redis_process.url, redis_prefix=unique_prefix()))
    server = MockServer(app).start()
    yield server
    server.stop()


def outage_lines(caplog) -> Counter:
    messages = [r.getMessage() for r in caplog.records if r.name == "mockserver"]
    assert not any(PASSWORD in m for m in messages)
    return Counter(kind for m in messages for kind in ("went away", "came back") if f"store {kind}" in m)


def test_a_hung_redis_costs_each_request_one_timeout_and_health_answers_at_once(
    redis_process, mock, timeouts, caplog
):
    caplog.set_level(logging.INFO, logger="mockserver")
    api = httpx.Client(base_url=mock.base_url, headers=HEADERS, timeout=3 * TIMEOUT_SECONDS - 1)
    slug = api.post("/virtual-keys", json=NEW_KEY).json()["data"]["slug"]
    assert api.post("/integrations", json=INTEGRATION).status_code == 200
    requests = [
        ("GET", f"/virtual-keys/{slug}", None),
        ("GET", "/virtual-keys", None),
        ("POST", "/virtual-keys", NEW_KEY),
        ("PUT", f"/virtual-keys/{slug}", {"note": "changed"}),
        ("PUT", "/integrations/hung-int/workspaces", {"workspaces": [{"id": "ws-a", "enabled": True}]}),
        ("GET", "/no-such-path", None),
    ]
    assert redis_process.process is not None
    os.kill(redis_process.process.pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            # A client timeout of under three waits: the old mock waited three times (15 s).
            answers = list(pool.map(lambda r: api.request(r[0], r[1], json=r[2]), requests))
        assert [a.status_code for a in answers] == [503] * 5 + [404]
        assert all(a.json()["data"]["errorCode"] == "AB04" for a in answers[:5])
        assert timeouts == {"request": len(requests)}, "one timeout per request, none for its journal"
        timeouts.clear()
        health = httpx.get(f"{mock.root_url}/__mock/health", timeout=TIMEOUT_SECONDS - 1)
        assert health.status_code == 503 and health.json()["status"] == "unreachable"
        assert timeouts == {"probe": 1}, "health waits only for its own short probe"
    finally:
        os.kill(redis_process.process.pid, signal.SIGCONT)
    wait_for(lambda: httpx.get(f"{mock.root_url}/__mock/health").status_code == 200, "health to say ok")
    assert api.get(f"/virtual-keys/{slug}").json()["note"] is None, "the refused update left nothing"
    listed = api.get("/integrations/hung-int/workspaces").json()["workspaces"]
    assert listed == [], "the refused grant left nothing"
    api.close()
    assert outage_lines(caplog) == {"went away": 1, "came back": 1}


OUTAGES = 10
TRAFFIC_THREADS = 6


class Outages:
    """Redis going away and coming back: stopped and started again, or hung and resumed."""

    def __init__(self, server: RedisProcess, kind: str) -> None:
        self.server, self.kind = server, kind

    def begin(self) -> None:
        if self.kind == "stopped":
            self.server.stop()
        else:
            assert self.server.process is not None
            os.kill(self.server.process.pid, signal.SIGSTOP)

    def end(self) -> None:
        if self.kind == "stopped":
            self.server.start()
        else:
            assert self.server.process is not None
            os.kill(self.server.process.pid, signal.SIGCONT)


@pytest.mark.parametrize("kind", ["stopped", "hung"])
def test_ten_outages_under_concurrent_traffic_are_logged_once_each_way(redis_process, caplog, kind):
    caplog.set_level(logging.INFO, logger="mockserver")
    # A hung Redis is waited for 1 s here (`socket_timeout` in the URL), not the default 5 s.
    url = redis_process.url + "?socket_timeout=1"
    mock = MockServer(create_app(MockConfig(store_url=url, redis_prefix=unique_prefix()))).start()
    outages = Outages(redis_process, kind)
    stop = threading.Event()
    statuses: Counter = Counter()

    def traffic(n: int) -> None:
        with httpx.Client(base_url=mock.base_url, headers=HEADERS, timeout=30) as client:
            while not stop.is_set():
                if n % 2:
                    response = client.post("/virtual-keys", json=NEW_KEY)
                else:
                    response = client.get("/virtual-keys?page_size=1")
                statuses[response.status_code] += 1

    def health() -> int:
        return httpx.get(f"{mock.root_url}/__mock/health", timeout=30).status_code

    try:
        with ThreadPoolExecutor(TRAFFIC_THREADS) as pool:
            running = [pool.submit(traffic, n) for n in range(TRAFFIC_THREADS)]
            try:
                for _ in range(OUTAGES):
                    outages.begin()
                    seen = statuses[503]
                    wait_for(lambda seen=seen: statuses[503] > seen and health() == 503, "Redis seen gone")
                    outages.end()
                    wait_for(lambda: health() == 200, "the mock to see Redis back")
                    served = statuses[200]
                    wait_for(lambda served=served: statuses[200] >= served + 20, "requests served again")
            finally:
                stop.set()
            for future in running:
                future.result()
    finally:
        mock.stop()
    assert set(statuses) == {200, 503}, statuses
    assert outage_lines(caplog) == {"went away": OUTAGES, "came back": OUTAGES}
