"""A throw-away redis-server on 127.0.0.1, for the test suite and the benchmark harness.

It keeps nothing on disk, listens on a free port, and is gone after `stop()`: a Redis-backed mock
can be tried without a Redis of one's own.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

from mockserver.serving.ports import free_port


class RedisServer:
    """`start()` gives its URL once it answers PING (None without a redis-server binary)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.directory = tempfile.TemporaryDirectory()
        self.url: str | None = None
        self.port: int | None = None

    def start(self, timeout: float = 10.0) -> str | None:
        binary = shutil.which("redis-server")
        if binary is None:
            return None
        import redis  # the client, only when a server is wanted

        self.port = free_port()
        command = [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = subprocess.Popen(
            [*command, "--dir", self.directory.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                self.url = url
                return url
            except redis.ConnectionError:
                time.sleep(0.02)  # a poll interval, bounded by the deadline
        self.stop()
        return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.directory.cleanup()
