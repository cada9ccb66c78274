"""The `mockserver` command: `mockserver serve` runs the mock on waitress until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from pathlib import Path

from flask import Flask

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.granian_server import free_port, serve_with_granian
from mockserver.server import MockServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A stateful mock of Portkey's virtual-keys API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock on a production server (granian or waitress)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8787, help="port to listen on; 0 picks a free one (default 8787)"
    )
    serve.add_argument("--threads", type=int, default=8, help="threads running the app (default 8)")
    serve.add_argument(
        "--server",
        choices=("granian", "waitress"),
        default="granian",
        help="granian (default: the faster, see README 'Performance') or waitress (pure Python)",
    )
    serve.add_argument(
        "--contract", type=Path, help="OpenAPI contract to serve (default: the project's openapi.yaml)"
    )
    serve.add_argument("--seed", type=Path, help="YAML or JSON file of virtual keys to preload")
    serve.add_argument("--keys", type=Path, help="YAML or JSON file of API keys, workspaces and scopes")
    serve.add_argument(
        "--not-found-status",
        type=int,
        choices=(403, 404),
        default=404,
        help="status for an unknown slug: 404 AB08 (default) or 403 AB03 as some Portkey endpoints answer",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=1024 * 1024, help="larger bodies answer 413 (default 1 MiB)"
    )
    serve.add_argument(
        "--strict",
        action="store_true",
        help="validate every request with openapi-core too (slower; the default compiled validators agree)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = MockConfig(
        contract_path=args.contract,
        seed_path=args.seed,
        keys_path=args.keys,
        not_found_status=args.not_found_status,
        max_body_bytes=args.max_body_bytes,
        strict=args.strict,
    )
    try:
        app = create_app(config)
        if args.server == "granian":
            return _serve_with_granian(app, args.host, args.port, args.threads)
        server = MockServer(app, host=args.host, port=args.port, threads=args.threads)
    except (OSError, ValueError) as exc:
        print(f"mockserver: cannot start: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    print(f"mockserver listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("mockserver stopped", flush=True)
    return 0


def _serve_with_granian(app: Flask, host: str, port: int, threads: int) -> int:
    port = port or free_port(host)
    with socket.socket() as probe:  # fail here, with a clear message, if the port is taken
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as granian binds
        probe.bind((host, port))
    print(f"mockserver listening on http://{host}:{port}/v1", flush=True)
    serve_with_granian(app, host, port, threads)
    print("mockserver stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
