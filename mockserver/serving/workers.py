"""Several worker processes on one port, sharing their state through Redis.

waitress serves from one process. For more, the parent opens N listening sockets on the one port
with `SO_REUSEPORT`, so the kernel spreads new connections evenly over them, and forks N workers,
each serving one of them; each builds its own app (Redis connections must not cross a fork).
(On one socket shared by all, whichever worker woke first took the connections: in one measured
run all eight of the load generator's went to one worker, and two workers served no more than
one.) The sockets listen before the address is announced, so no early client is refused. The
parent seeds the store and installs the fault plan once, before forking, so N workers do not do
it N times.
The WSGI server is chosen in `_serve_one` only, so another server could be slotted in there.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import socket
from collections.abc import Callable
from multiprocessing.connection import wait

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.serving.bodies import READ_TIMEOUT
from mockserver.serving.server import waitress_server


def serve_workers(
    config: MockConfig,
    host: str,
    port: int,
    workers: int,
    threads: int,
    on_listening: Callable[[str], None] = print,
    read_timeout: float = READ_TIMEOUT,
) -> int:
    """Serve on `workers` processes until one exits or the parent is interrupted; an exit status."""
    if workers > 1 and config.store_url is None:
        raise ValueError("--workers above 1 needs a shared store: pass --store redis://HOST:PORT/DB")
    create_app(config)  # checks the configuration, seeds and sets faults once, in the parent
    per_worker = dataclasses.replace(config, seed_path=None, fault_plan=None)
    listeners = [_listening(host, port)]
    bound_host, bound_port = listeners[0].getsockname()[:2]
    listeners += [_listening(bound_host, bound_port) for _ in range(workers - 1)]
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(
            target=_serve_one, args=(per_worker, listener, threads, read_timeout), name=f"mockserver-{n}"
        )
        for n, listener in enumerate(listeners)
    ]
    for process in processes:
        process.start()
    on_listening(f"http://{bound_host}:{bound_port}/v1")
    try:
        wait([process.sentinel for process in processes])  # returns when any worker ends
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
        for listener in listeners:
            listener.close()


def _listening(host: str, port: int) -> socket.socket:
    """One worker's socket on the shared port (0: a free one, for the first)."""
    return socket.create_server((host, port), backlog=1024, reuse_port=True)


def _serve_one(config: MockConfig, listener: socket.socket, threads: int, read_timeout: float) -> None:
    waitress_server(create_app(config), threads, read_timeout, sockets=[listener]).run()
