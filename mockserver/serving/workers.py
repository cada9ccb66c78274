"""Several worker processes on one port, sharing their state through Redis.

waitress serves from one process. For more, the parent forks N workers; each builds its own app
(Redis connections must not cross a fork) and runs waitress on its own listening socket, bound to
the same port with `SO_REUSEPORT`, so the kernel spreads new connections evenly over the workers.
(On one socket inherited by all, whichever worker woke first took the connections: in one
measured run all eight of the load generator's went to one worker, and two workers served no
more than one.) The parent holds the port, bound but not listening, so it receives none. It seeds
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
    holder = _port_holder(host, port)
    bound_host, bound_port = holder.getsockname()[:2]
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(
            target=_serve_one, args=(per_worker, bound_host, bound_port, threads), name=f"mockserver-{n}"
        )
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
        holder.close()


def _port_holder(host: str, port: int) -> socket.socket:
    """A socket that takes the port (a free one for 0) for the workers to share, never listening."""
    holder = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, port))
    return holder


def _serve_one(config: MockConfig, host: str, port: int, threads: int) -> None:
    listener = socket.create_server((host, port), backlog=1024, reuse_port=True)
    server = create_server(create_app(config), sockets=[listener], threads=threads, ident="mockserver")
    allow_connection_faults(server)
    server.run()
