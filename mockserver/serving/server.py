"""Serving the app on waitress, a production WSGI server, in the foreground or in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request
from typing import Any

from waitress import wasyncore
from waitress.server import create_server
from waitress.task import ErrorTask, Task, WSGITask
from waitress.utilities import RequestEntityTooLarge

from mockserver.errors import PayloadTooLarge
from mockserver.faults.connection import FaultableChannel
from mockserver.serving.bodies import READ_TIMEOUT, RefusedBody, body_limit
from mockserver.wsgi import WsgiApp


class MockServer:
    """A bound server: `base_url` is known as soon as it is built (port 0 picks a free port)."""

    def __init__(
        self,
        app: WsgiApp,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.app = app
        self._server = waitress_server(app, threads, read_timeout, host=host, port=port)
        bound_host, bound_port = self._server.socket.getsockname()[:2]
        self.root_url = f"http://{bound_host}:{bound_port}"
        self.base_url = f"{self.root_url}/v1"
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self._server.run()

    def start(self, timeout: float = 10.0) -> MockServer:
        """Serve in a daemon thread and return once `/__mock/health` answers 200."""
        self._thread = threading.Thread(target=self.serve_forever, name="mockserver", daemon=True)
        self._thread.start()
        wait_until_healthy(self.root_url, timeout)
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, then end the worker threads."""
        if self._thread is not None and self._thread.is_alive():
            # Closing sockets is done by the serving loop itself, which the trigger wakes at once.
            try:
                self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
            except OSError:
                # The trigger's pipe is already gone (waitress#468, seen under load as EBADF):
                # close the sockets from here; the loop then ends on its next wake-up.
                wasyncore.close_all(self._server._map)
            self._thread.join(timeout=10)
        else:
            wasyncore.close_all(self._server._map)
        self._server.task_dispatcher.shutdown()


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Polls go straight to the mock: a proxy set for the process (`HTTP_PROXY`) cannot reach its
loopback address. (`urlopen` would take the proxies of whenever it was first called.)"""


def wait_until_healthy(root_url: str, timeout: float = 10.0) -> None:
    """Poll `/__mock/health` until it answers 200; TimeoutError once the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with _DIRECT.open(f"{root_url}/__mock/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{root_url} did not become healthy within {timeout} s")
        time.sleep(0.01)  # a poll interval, bounded by the deadline above


def waitress_server(app: WsgiApp, threads: int, read_timeout: float, **where: Any) -> Any:
    """A waitress server for `app` (`where`: host and port, or sockets) that stops reading a body
    past the app's limit (`bodies.body_limit`) and closes a connection silent for `read_timeout`.

    waitress reads every body whole before a thread runs the app; left alone, it would buffer a
    16 MiB body before the app refused it, and keep a stalled upload for two minutes.
    """
    limit = body_limit(app)
    server = create_server(
        app,
        threads=threads,
        ident="mockserver",
        # waitress refuses a body of this size or more: one byte past the limit.
        max_request_body_size=limit + 1 if limit else 1 << 30,
        channel_timeout=read_timeout,
        cleanup_interval=read_timeout,  # how often waitress looks for silent connections
        **where,
    )
    server.channel_class = _LimitedChannel
    return server


class _TooLargeTask(WSGITask):  # type: ignore[misc]  # waitress publishes no types
    """Runs the app on a request whose body waitress stopped reading at the limit, so the 413 is
    the app's (Portkey's envelope, journaled); the connection closes, the rest of the body unread."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        limit = self.channel.server.adj.max_request_body_size - 1
        environ["wsgi.input"] = RefusedBody(PayloadTooLarge(limit))
        return environ

    def execute(self) -> None:
        self.close_on_finish = True
        self.channel.refused = True
        super().execute()

    def build_response_header(self) -> bytes:
        self.response_headers.append(("Connection", "close"))  # or a client would send its next here
        header: bytes = super().build_response_header()
        return header


def _error_task(channel: Any, request: Any) -> Task:
    if isinstance(request.error, RequestEntityTooLarge):
        return _TooLargeTask(channel, request)
    return ErrorTask(channel, request)


class _LimitedChannel(FaultableChannel):
    """waitress's channel (able to reset its connection for a fault), handing a body refused at
    the limit to the app.

    Once that answer is sent, the channel shuts its sending side and reads the rest of the body
    away (discarded) until the client closes or falls silent (a lingering close): closed at once
    with the body still arriving, the connection is reset, and a client still sending can lose
    the answer before it reads it."""

    error_task_class = staticmethod(_error_task)
    refused = False  # a body was refused at the limit: drain before closing
    draining = False

    def handle_close(self) -> None:
        if self.refused and not self.draining and self.connected:
            self.draining, self.will_close = True, False
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_WR)
            return
        super().handle_close()

    def readable(self) -> bool:
        return self.draining or bool(super().readable())

    def writable(self) -> bool:
        return bool(self.will_close) if self.draining else bool(super().writable())

    def handle_read(self) -> None:
        if not self.draining:
            super().handle_read()
            return
        try:
            if self.recv(self.adj.recv_bytes):  # recv closes the channel at the client's end
                self.last_activity = time.time()  # silent for `channel_timeout`: closed
        except OSError:
            super().handle_close()
