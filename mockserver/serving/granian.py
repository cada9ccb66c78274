"""Serving the app on granian, the command line's default server: about twice waitress's throughput.

Granian's HTTP side is Rust; Python runs only the app. It serves from one worker process, forked
from this one so the worker inherits the app already built (and seeded): the store is in memory, so
there is exactly one worker. The test suite's in-thread server stays on waitress (`MockServer`).

The app is served over granian's RSGI interface, through `WsgiOverRsgi`, not over its WSGI one.
granian's WSGI interface (2.x) reads a body from inside the app's thread with no time limit, so ten
stalled uploads held all eight threads and the mock stopped answering; it gives
`x_portkey_api_key` and `x-portkey-api-key` one environ key; and it hands the app a body the
client cut short as if it were whole. Over RSGI the request is read on granian's event loop, with
a deadline and the body limit, header names arrive as sent, and a body cut short is an error.
Then the app answers it on the loop, unless the app says the request may wait (`MockApp.may_block`:
the Redis store, a delay fault, the control plane): only such a request takes one of the threads.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from mockserver.errors import BodyTimeout, IncompleteBody, PayloadTooLarge
from mockserver.serving.bodies import RefusedBody, body_limit
from mockserver.wsgi import DRAINED_BYTES, Environ, WsgiApp


def serve_with_granian(app: WsgiApp, host: str, port: int, threads: int, read_timeout: float) -> None:
    """Serve `app` until SIGINT or SIGTERM; granian handles both and stops its worker."""
    from granian import Granian  # imported only when chosen
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    # The worker must be forked, not spawned, to inherit the app (Python 3.14 changes the default).
    multiprocessing.set_start_method("fork", force=True)
    server = Granian(
        "mockserver",  # granian wants a target name; the loader below hands it the built app
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        loop=Loops.uvloop,  # wakes from another thread (each request, each body) cheaper than asyncio's
        workers=1,
        websockets=False,
        log_level=LogLevels.warning,
    )
    bridge = WsgiOverRsgi(app, threads, body_limit(app), read_timeout, getattr(app, "may_block", None))
    server.serve(target_loader=partial(_built, bridge))


class WsgiOverRsgi:
    """A WSGI app served by an RSGI server: each request is read on the server's event loop (its
    body within `read_timeout` seconds and `max_body_bytes`), then answered by the app, on the
    event loop itself unless `may_block(environ)` says it may wait (`MockApp.may_block`: the
    Redis store, a delay fault, the control plane), which runs on one of `threads` threads.

    Inline, a request costs what it costs the app; the hop to a thread and back cost half of the
    mock's throughput. A request that waits must not wait on the loop, or it would hold every
    other client; one that only computes gains nothing from a thread, under the GIL. An app that
    does not say (`may_block` None) has every request run on a thread.

    Headers are read as waitress reads them: a name with an underscore is dropped (it would be
    read as the header spelled with a hyphen), repeated headers are joined with a comma.
    """

    def __init__(
        self,
        app: WsgiApp,
        threads: int,
        max_body_bytes: int | None,
        read_timeout: float,
        may_block: Callable[[Environ], bool] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout
        self.may_block = may_block or _always
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="mockserver")
        from granian._granian import RSGIProtocolClosed, RSGIProtocolError  # granian only when chosen

        self._cut_short = (RSGIProtocolError, RSGIProtocolClosed)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        environ = wsgi_environ(scope)
        environ["wsgi.input"] = incoming = await self._body(protocol, environ)
        if self.may_block(environ):
            loop = asyncio.get_running_loop()
            status, headers, body = await loop.run_in_executor(self._threads, self._run, environ)
        else:
            status, headers, body = self._run(environ)
        if isinstance(incoming, RefusedBody) and not incoming.read_to_end:
            # Part of the request is still unread, so granian drops the connection after this
            # answer: say so, or a client reusing it sends its next request into a closed socket.
            headers = [*headers, ("connection", "close")]
        protocol.response_bytes(status, headers, body)

    async def _body(self, protocol: Any, environ: Environ) -> io.BytesIO | RefusedBody:
        """The body as sent, or the reason it was not read whole."""
        length = environ.get("CONTENT_LENGTH")
        limit = self.max_body_bytes
        announced = length is not None or "HTTP_TRANSFER_ENCODING" in environ
        if not announced and environ["SERVER_PROTOCOL"] != "HTTP/2":
            return io.BytesIO()  # HTTP/1 sends a body only with one of those headers
        size = int(length) if length is not None and length.isdigit() else 0
        if limit is not None and size > limit + DRAINED_BYTES:
            return RefusedBody(PayloadTooLarge(limit))  # not read at all
        try:
            async with asyncio.timeout(self.read_timeout):
                if length is None:
                    body = await _streamed(protocol, limit)
                    return io.BytesIO(body) if isinstance(body, bytes) else body
                if limit is not None and size > limit:
                    return await _dropped(_whole(protocol), limit)
                return io.BytesIO(await protocol())  # granian stops at the announced length
        except TimeoutError:
            return RefusedBody(BodyTimeout(self.read_timeout))
        except (PayloadTooLarge, IncompleteBody) as refusal:
            return RefusedBody(refusal)
        except self._cut_short:
            return RefusedBody(IncompleteBody())

    def _run(self, environ: Environ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The app's answer to one request, on the event loop or one of the threads."""
        started: list[Any] = []
        result = self.app(environ, lambda status, headers, exc_info=None: started.extend((status, headers)))
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = started
        return int(status.split(" ", 1)[0]), headers, body


DRAIN_SECONDS = 0.5
"""How long the rest of a body over the limit is waited for before its 413.

Read to its end and dropped, the body leaves the connection ready for the client's next request
(a client sends all of a small body before it reads the answer); a rest that does not come (a
client stalling, or one sending more than `DRAINED_BYTES`) is not waited for: the 413 then says
`Connection: close`, since granian drops a connection whose request it did not read whole."""


async def _dropped(rest: Awaitable[bool], limit: int) -> RefusedBody:
    """The 413 of a body over `limit`, once the rest of it is read and dropped, or given up on."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            ended = await rest
    except TimeoutError:
        ended = False
    return RefusedBody(PayloadTooLarge(limit), read_to_end=ended)


async def _whole(protocol: Any) -> bool:
    await protocol()  # granian reads to the announced length
    return True


async def _streamed(protocol: Any, limit: int | None) -> bytes | RefusedBody:
    """A chunked body, read up to `limit`: `IncompleteBody` if cut short, the 413 past the limit,
    once the rest is read and dropped (within `DRAIN_SECONDS` and `DRAINED_BYTES`) or given up on.

    granian ends the pieces with one empty piece; it turns an error (the client closed before
    the last chunk) into an empty piece of its own, so two of them mean the body was cut short.
    (Trailers read the same way, so a chunked body with trailers is refused; no API client sends
    them.) The pieces are read in one loop: a second iteration of granian's protocol starts anew.
    """
    pieces, size, empty = [], 0, 0
    bound = limit if limit is not None else sys.maxsize
    try:
        async with asyncio.timeout(None) as drain:
            async for piece in protocol:
                size += len(piece)
                empty += not piece
                if size <= bound:
                    pieces.append(piece)
                elif size > bound + DRAINED_BYTES:
                    return RefusedBody(PayloadTooLarge(bound))
                elif drain.when() is None:  # just past the limit: the rest is waited for a while
                    drain.reschedule(asyncio.get_running_loop().time() + DRAIN_SECONDS)
    except TimeoutError:
        if not drain.expired():
            raise
        return RefusedBody(PayloadTooLarge(bound))  # the rest did not come in time
    if empty > 1:
        raise IncompleteBody()
    if size > bound:
        return RefusedBody(PayloadTooLarge(bound), read_to_end=True)
    return b"".join(pieces)


def wsgi_environ(scope: Any) -> Environ:
    """The WSGI environ of an RSGI request scope (PEP 3333's names), without its body."""
    server_host, _, server_port = scope.server.rpartition(":")
    environ: Environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),  # WSGI's latin-1 of the bytes
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rpartition(":")[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    headers = scope.headers
    for name in headers:
        if "_" in name:
            continue
        key = _CGI_NAMES.get(name) or "HTTP_" + name.upper().replace("-", "_")
        environ[key] = (";" if name == "cookie" else ",").join(headers.get_all(name))
    if "HTTP_HOST" not in environ and scope.authority:
        environ["HTTP_HOST"] = scope.authority
    return environ


_CGI_NAMES = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def _always(_environ: Environ) -> bool:
    return True


def _built(app: WsgiOverRsgi, _target: str) -> Any:  # granian types a loader's result as a callable
    return app
