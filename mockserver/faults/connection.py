"""Connection faults: a reset, an empty response, a body cut short.

Flask cannot break a connection, so the HTTP layer only marks the request (`CONNECTION_FAULT` in
the WSGI environ) and this WSGI wrapper, outside Flask, does the breaking, by raising
`DroppedConnection` where the server reads the app's answer. On waitress, as measured
(tests/clients/test_python_sdk_faults.py drives the real SDK through each):

- empty: `DroppedConnection` is waitress's `ClientDisconnected`, so raised before any byte is
  written, waitress closes the connection without an answer (anything else would send a 500);
- reset: the same, after setting `SO_LINGER` to zero on the socket, so the close sends a TCP RST;
  waitress does not put the socket in the environ, so `FaultableChannel` adds it;
- truncated: the headers (with the full `Content-Length`) and half the body go out, then the
  exception, on which waitress closes the connection.

`DroppedConnection` is also a `ConnectionResetError`, on which gunicorn (gthread workers, as
tried by hand) closes the connection too: empty and truncated behave as on waitress, but a reset
arrives as a plain close, since gunicorn shuts the socket down before closing it.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.task import WSGITask

CONNECTION_FAULT = "mockserver.connection_fault"
SOCKET = "mockserver.socket"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DroppedConnection(ClientDisconnected, ConnectionResetError):
    """Raised to make the WSGI server drop the connection instead of answering."""

    def __init__(self, kind: str) -> None:
        super().__init__(errno.ECONNRESET, f"injected connection fault: {kind}")


class ConnectionFaults:
    """WSGI middleware acting on the connection fault the inner app marked in the environ."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self.app(environ, start_response)
        kind = environ.get(CONNECTION_FAULT)
        if kind is None:
            return body
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if kind == "truncated":
            return _cut_short(data)
        connection = environ.get(SOCKET)
        if kind == "reset" and connection is not None:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise DroppedConnection(kind)


def _cut_short(data: bytes) -> Iterator[bytes]:
    yield data[: len(data) // 2]
    raise DroppedConnection("truncated")


class _SocketTask(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[SOCKET] = self.channel.socket
        return environ


class FaultableChannel(HTTPChannel):
    """waitress's channel, handing the connection's socket to the app so it can be reset."""

    task_class = _SocketTask
