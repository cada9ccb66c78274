"""Connection faults on waitress: a reset, an empty response, a body cut short.

Flask cannot break a connection, so the HTTP layer only marks the request (`CONNECTION_FAULT` in
the WSGI environ) and this WSGI wrapper, outside Flask, does the breaking. What works on waitress,
as measured (tests/test_faults_sdk.py drives the real SDK through each):

- empty: raising waitress's `ClientDisconnected` before any byte is written makes waitress close
  the connection without an answer (raising anything else sends a 500 page instead);
- reset: the same, after setting `SO_LINGER` to zero on the socket, so the close sends a TCP RST;
  waitress does not put the socket in the environ, so `FaultableChannel` adds it;
- truncated: sending fewer bytes than the `Content-Length` the response announced; waitress then
  closes the connection itself (and logs a warning saying so).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable
from typing import Any

from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.task import WSGITask

CONNECTION_FAULT = "mockserver.connection_fault"
SOCKET = "mockserver.socket"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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
            return [data[: len(data) // 2]]
        connection = environ.get(SOCKET)
        if kind == "reset" and connection is not None:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise ClientDisconnected(f"injected connection fault: {kind}")


class _SocketTask(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[SOCKET] = self.channel.socket
        return environ


class FaultableChannel(HTTPChannel):
    """waitress's channel, handing the connection's socket to the app so it can be reset."""

    task_class = _SocketTask


def allow_connection_faults(server: Any) -> None:
    """Make a waitress server (from `create_server`) able to reset connections."""
    server.channel_class = FaultableChannel
