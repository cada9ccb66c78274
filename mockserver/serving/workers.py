"""Several worker processes on one port, sharing their state through Redis.

waitress serves from one process. For more, the parent binds the listening socket once and forks
N workers; each builds its own app (Redis connections must not cross a fork) and runs waitress on
the inherited socket, and the kernel gives each new connection to one of them. The parent seeds
the store and installs the fault plan once, before forking, so N workers do not do it N times.
The WSGI server is chosen in `_serve_one` only, so another server could be slotted in there.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import socket
from collections.abc import Callable
from multiprocessing.connection import wait

from waitress.server import create_server

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.faults.connection import allow_connection_faults


def serve_workers(
    config: MockConfig,
    host: str,
    port: int,
    workers: int,
    threads: int,
    on_listening: Callable[[str], None] = print,
) -> int:
    """Serve on `workers` processes until one exits or the parent is interrupted; an exit status."""
    if workers > 1 and config.store_url is None:
        raise ValueError("--workers above 1 needs a shared store: pass --store redis://HOST:PORT/DB")
    create_app(config)  # checks the configuration, seeds and sets faults once, in the parent
    per_worker = dataclasses.replace(config, seed_path=None, fault_plan=None)
    listener = socket.create_server((host, port), backlog=1024)
    bound_host, bound_port = listener.getsockname()[:2]
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_serve_one, args=(per_worker, listener, threads), name=f"mockserver-{n}")
        for n in range(workers)
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
        listener.close()


def _serve_one(config: MockConfig, listener: socket.socket, threads: int) -> None:
    server = create_server(create_app(config), sockets=[listener], threads=threads, ident="mockserver")
    allow_connection_faults(server)
    server.run()
