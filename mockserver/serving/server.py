"""Serving the app on waitress, a production WSGI server, in the foreground or in a thread."""

from __future__ import annotations

import threading
import time
import urllib.request

from waitress import wasyncore
from waitress.server import create_server

from mockserver.faults.connection import allow_connection_faults
from mockserver.wsgi import WsgiApp


class MockServer:
    """A bound server: `base_url` is known as soon as it is built (port 0 picks a free port)."""

    def __init__(self, app: WsgiApp, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> None:
        self.app = app
        self._server = create_server(app, host=host, port=port, threads=threads, ident="mockserver")
        allow_connection_faults(self._server)
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


def wait_until_healthy(root_url: str, timeout: float = 10.0) -> None:
    """Poll `/__mock/health` until it answers 200; TimeoutError once the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{root_url}/__mock/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{root_url} did not become healthy within {timeout} s")
        time.sleep(0.01)  # a poll interval, bounded by the deadline above
