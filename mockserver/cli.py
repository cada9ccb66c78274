"""The `mockserver` command: `serve` runs the mock, `proxy` a validating proxy, on waitress until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from flask import Flask

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.errors import ApiError
from mockserver.server import MockServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A stateful mock of Portkey's virtual-keys API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock on a production WSGI server (waitress)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8787, help="port to listen on; 0 picks a free one (default 8787)"
    )
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
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
        "--journal-limit", type=int, default=1000, help="requests the journal keeps (default 1000)"
    )
    proxy = commands.add_parser(
        "proxy", help="forward /v1 to a real service, judging requests and responses against the contract"
    )
    proxy.add_argument("--upstream", required=True, help="the real service's base URL, ending in /v1")
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=8788, help="port to listen on (default 8788)")
    proxy.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    proxy.add_argument("--contract", type=Path, help="OpenAPI contract to judge by (default: ours)")
    proxy.add_argument(
        "--journal-limit", type=int, default=1000, help="requests the journal keeps (default 1000)"
    )
    proxy.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the upstream; then 504 (default 30)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        app = _proxy_app(args) if args.command == "proxy" else create_app(_config(args))
        server = MockServer(app, host=args.host, port=args.port, threads=args.threads)
    except (OSError, ValueError, ApiError) as exc:
        print(f"mockserver: cannot start: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    if args.command == "proxy":
        print(f"mockserver proxy listening on {server.base_url}, forwarding to {args.upstream}", flush=True)
    else:
        print(f"mockserver listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("mockserver stopped", flush=True)
    return 0


def _config(args: argparse.Namespace) -> MockConfig:
    return MockConfig(
        contract_path=args.contract,
        seed_path=args.seed,
        keys_path=args.keys,
        not_found_status=args.not_found_status,
        max_body_bytes=args.max_body_bytes,
        journal_limit=args.journal_limit,
    )


def _proxy_app(args: argparse.Namespace) -> Flask:
    from contracts.proxy import create_proxy_app  # the proxy is a toolkit check, wired in here only

    if not args.upstream.startswith(("http://", "https://")):
        raise ValueError("--upstream must be an http:// or https:// URL")
    if args.journal_limit < 1:
        raise ValueError("--journal-limit must be positive")
    return create_proxy_app(
        args.upstream, contract_path=args.contract, journal_limit=args.journal_limit, timeout=args.timeout
    )


if __name__ == "__main__":
    sys.exit(main())
