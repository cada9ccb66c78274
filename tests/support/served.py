"""`mockserver serve` or `proxy` as a user starts it: its own process and process group, on a free port."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from mockserver.serving.server import wait_until_healthy

MOCKSERVER = str(Path(sys.executable).with_name("mockserver"))


class ServedProcess:
    """The command's process, up and healthy; `stop()` ends it and any worker it forked.

    It gets a process group of its own because granian, and `--workers`, serve from child processes
    that must not outlive the test.
    """

    def __init__(self, *options: str, command: str = "serve", timeout: float = 30.0) -> None:
        self.output = ""
        """What the command printed after its address (stdout, then stderr), once stopped."""
        self.process = subprocess.Popen(
            [MOCKSERVER, command, "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            self.base_url = self._announced_url(deadline=time.monotonic() + timeout)
            self.root_url = self.base_url.removesuffix("/v1")
            wait_until_healthy(self.root_url, timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def _announced_url(self, deadline: float) -> str:
        """The base URL from the first line the command prints once its socket is bound."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                raise TimeoutError("mockserver did not announce its address")
        line = self.process.stdout.readline()
        if not re.match(r"mockserver (proxy )?listening on http://127\.0\.0\.1:", line):
            raise RuntimeError(f"mockserver did not start: {line!r} {self.process.stderr.read()}")
        return line.split("listening on ")[1].split()[0].rstrip(",")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker whose parent already exited
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                self.output += stream.read()
                stream.close()
