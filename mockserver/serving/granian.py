"""Serving the app on granian, the command line's default server: about twice waitress's throughput.

Granian's HTTP side is Rust; Python runs only the app. It serves from one worker process, forked
from this one so the worker inherits the app already built (and seeded): the store is in memory, so
there is exactly one worker. The test suite's in-thread server stays on waitress (`MockServer`).
"""

from __future__ import annotations

import logging
import multiprocessing
from functools import partial

from mockserver.wsgi import WsgiApp


def serve_with_granian(app: WsgiApp, host: str, port: int, threads: int) -> None:
    """Serve `app` until SIGINT or SIGTERM; granian handles both and stops its worker."""
    from granian import Granian  # imported only when chosen
    from granian.constants import Interfaces
    from granian.log import LogLevels

    # The worker must be forked, not spawned, to inherit the app (Python 3.14 changes the default).
    multiprocessing.set_start_method("fork", force=True)
    server = Granian(
        "mockserver",  # granian wants a target name; the loader below hands it the built app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=threads,
        log_level=LogLevels.warning,
    )
    logging.getLogger("_granian").addFilter(_ThreadCountNotice())
    server.serve(target_loader=partial(_built, app))


class _ThreadCountNotice(logging.Filter):
    """Drops granian's start-up notice that 8 threads is a lot for this many cores: the mock's
    threads mostly wait (injected latency, clients), so that count is chosen, not a mistake."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


def _built(app: WsgiApp, _target: str) -> WsgiApp:
    return app
