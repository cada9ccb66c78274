"""Redis going away under a running mock, and coming back: against a real redis-server, stopped and
started again on the same port (with its data on disk, as a production Redis keeps it, and a
password, which must never show). mockserver.serving.redis_server keeps nothing and has no
password, so this test runs its own."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.serving.ports import free_port
from tests.support.inprocess import unique_prefix

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

PASSWORD = "outage-test-password-9f3"
HEADERS = {"x-portkey-api-key": "pk-outage"}
NEW_KEY = {"name": "outage key", "provider": "openai", "key": "sk-outage-0000000000wxyz"}


class RedisProcess:
    """A redis-server of this test's own on a free port, with a password and its data on disk."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
            "--requirepass", PASSWORD, "--dir", str(self.folder), "--save", "",
            "--appendonly", "yes", "--appendfsync", "always",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(lambda: _answers(self.url), "redis-server to answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # redis-server closes its clients and exits
            self.process.wait(timeout=10)
            self.process = None
        wait_for(lambda: not _answers(self.url), "redis-server to stop answering")


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def wait_for(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.02)  # poll interval, bounded by the deadline


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary (apt-get install redis-server)")
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        server.process.terminate()
        server.process.wait(timeout=10)


def test_a_redis_outage_answers_503_and_the_mock_recovers_without_a_restart(redis_process, caplog):
    caplog.set_level(logging.INFO, logger="mockserver")
    app = create_app(MockConfig(store_url=redis_process.url, redis_prefix=unique_prefix()))
    client = app.test_client()
    before = client.post("/v1/virtual-keys", json=NEW_KEY, headers=HEADERS)
    assert before.status_code == 200
    slug = before.get_json()["data"]["slug"]

    redis_process.stop()
    answers = [
        client.get(f"/v1/virtual-keys/{slug}", headers=HEADERS),
        client.get("/v1/virtual-keys", headers=HEADERS),
        client.post("/v1/virtual-keys", json=NEW_KEY, headers=HEADERS),
        client.put(f"/v1/virtual-keys/{slug}", json={"note": "changed"}, headers=HEADERS),
        client.delete(f"/v1/virtual-keys/{slug}", headers=HEADERS),
    ]
    for answer in answers:
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] == "1"
        body = answer.get_json()
        assert body["success"] is False and body["data"]["errorCode"] == "AB04"
        assert f"Redis at 127.0.0.1:{redis_process.port}/0" in body["data"]["message"]
        assert PASSWORD not in answer.get_data(as_text=True)
    health = client.get("/__mock/health")
    assert health.status_code == 503
    assert health.get_json()["status"] == "unreachable"
    assert PASSWORD not in health.get_data(as_text=True)

    redis_process.start()
    wait_for(lambda: client.get("/__mock/health").status_code == 200, "the mock's health to say ok")
    after = client.get(f"/v1/virtual-keys/{slug}", headers=HEADERS)
    assert after.status_code == 200 and after.get_json()["note"] is None  # the refused update left nothing
    assert client.post("/v1/virtual-keys", json=NEW_KEY, headers=HEADERS).status_code == 200
    listed = client.get("/v1/virtual-keys", headers=HEADERS).get_json()
    assert listed["total"] == 2  # the create refused during the outage does not exist

    messages = [record.getMessage() for record in caplog.records if record.name == "mockserver"]
    assert sum("store went away" in m for m in messages) == 1, messages
    assert sum("store came back" in m for m in messages) == 1, messages
    assert not any(record.exc_info for record in caplog.records), "no traceback in the log"
    assert not any(PASSWORD in m for m in messages)
