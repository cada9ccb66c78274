"""The `mockserver` command: `serve` runs the mock, `proxy` a validating proxy, on waitress until
Ctrl-C; `record` turns a proxy's journal into a snapshot."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.app import MockApp, create_app
from mockserver.config import MockConfig
from mockserver.contract.document import Contract, ContractUnusable
from mockserver.control import CONTROL_PREFIX, DASHBOARD_PATH
from mockserver.control.token import TOKEN_VARIABLE, exposure_warning, is_loopback
from mockserver.errors import ApiError
from mockserver.faults.plan import parse_rule_text
from mockserver.serving.bodies import READ_TIMEOUT
from mockserver.serving.granian import serve_with_granian
from mockserver.serving.ports import free_port
from mockserver.wsgi import WsgiApp

if TYPE_CHECKING:  # each imported where its command or option needs it, off the default start
    from flask import Flask

    from mockserver.serving.server import MockServer
    from mockserver.snapshots.replay import Replayed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver", description="A stateful mock of Portkey's virtual-keys API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock on a production server (granian or waitress)")
    _add_listening_options(serve, default_port=8787)
    _add_mock_options(serve)
    _add_shared_state_options(serve.add_argument_group("shared state"))
    _add_fault_options(serve.add_argument_group("faults (see docs/faults.md)"))
    proxy = commands.add_parser(
        "proxy", help="forward /v1 to a real service, judging requests and responses against the contract"
    )
    proxy.add_argument("--upstream", required=True, help="the real service's base URL, ending in /v1")
    _add_listening_options(proxy, default_port=8788)
    proxy.add_argument("--contract", type=Path, help="OpenAPI contract to judge by (default: ours)")
    proxy.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the upstream; then 504 (default 30)"
    )
    proxy.add_argument(
        "--record", type=Path, metavar="FILE", help="write every exchange to this snapshot, secrets out"
    )
    _add_stable_option(proxy)
    record = commands.add_parser(
        "record", help="write a snapshot from a proxy's journal (a saved GET /__mock/journal, or its URL)"
    )
    record.add_argument("journal", help="a journal JSON file, or a running proxy's URL")
    record.add_argument("--out", type=Path, required=True, metavar="FILE", help="the snapshot to write")
    record.add_argument("--upstream", help="the upstream's URL, for the provenance (default: the proxy's)")
    record.add_argument("--contract", type=Path, help="OpenAPI contract to judge by (default: ours)")
    _add_stable_option(record)
    return parser


def _add_stable_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stable",
        action="store_true",
        help="ids, slugs and timestamps the service made as numbered placeholders (byte-stable snapshots)",
    )


def _add_mock_options(serve: argparse.ArgumentParser) -> None:
    """What the mock serves and how strictly: server, contract, seed, keys, answers to bad input."""
    serve.add_argument(
        "--server",
        choices=("granian", "waitress"),
        default="granian",
        help="granian (default: the faster, see docs/performance.md) or waitress (pure Python)",
    )
    serve.add_argument(
        "--contract", type=Path, help="OpenAPI contract to serve (default: the project's openapi.yaml)"
    )
    serve.add_argument("--seed", type=Path, help="YAML or JSON file of virtual keys to preload")
    serve.add_argument(
        "--replay",
        type=Path,
        metavar="FILE",
        help="re-apply a snapshot's successful writes through the mock at start (docs/record-and-replay.md)",
    )
    serve.add_argument("--keys", type=Path, help="YAML or JSON file of API keys, workspaces and scopes")
    serve.add_argument(
        "--pricing-dir",
        type=Path,
        metavar="DIR",
        help="folder of <provider>.json price files (Portkey's open price list) for model pricing",
    )
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
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"require Authorization: Bearer TOKEN on /__mock/* but /__mock/health (env: {TOKEN_VARIABLE})",
    )


def _add_shared_state_options(shared: argparse._ArgumentGroup) -> None:
    """Keeping state in Redis, shared by several workers or mocks."""
    shared.add_argument(
        "--store", metavar="URL", help="keep state in Redis, e.g. redis://127.0.0.1:6379/0 (default: memory)"
    )
    shared.add_argument(
        "--redis-prefix",
        default="portkey-mock",
        help="key prefix of this mock in Redis; mocks with one prefix share state (default portkey-mock)",
    )
    shared.add_argument(
        "--workers", type=int, default=1, help="worker processes on the port; above 1 needs --store"
    )


def _add_fault_options(faults: argparse._ArgumentGroup) -> None:
    """A fault plan to start with, from a file or rules on the command line."""
    faults.add_argument("--faults", type=Path, help="YAML or JSON fault plan to start with")
    faults.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="RULE",
        help="add a fault rule, e.g. 'operation=createVirtualKey; status=503; rate=0.2' (repeatable)",
    )
    faults.add_argument("--fault-seed", type=int, help="seed making the fault sequence repeat exactly")
    faults.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="N/UNIT",
        help="allow N requests per API key per minute, hour or day, e.g. 100/rpm (repeatable)",
    )


def _add_listening_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    """Where a server listens, how many threads run the app, how much of its traffic it journals."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=f"port to listen on; 0 picks a free one (default {default_port})",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="threads running the app (granian: requests that may wait) (default 8)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=READ_TIMEOUT,
        metavar="SECONDS",
        help=f"time a client has to send a request body; then 408 or closed (default {READ_TIMEOUT:g})",
    )
    parser.add_argument(
        "--journal-limit", type=int, default=1000, help="requests the journal keeps (default 1000)"
    )


def _fault_plan(args: argparse.Namespace) -> dict[str, Any] | None:
    """The fault plan the options describe, or None when they describe none."""
    if not (args.faults or args.fault or args.fault_seed is not None or args.rate_limit):
        return None
    plan: dict[str, Any] = {}
    if args.faults:
        text = args.faults.read_text(encoding="utf-8")
        if args.faults.suffix == ".json":
            plan = json.loads(text)
        else:
            import yaml  # 20 ms to import: only for a YAML fault plan

            plan = yaml.safe_load(text) or {}
    plan.setdefault("rules", []).extend(parse_rule_text(rule, "--fault") for rule in args.fault)
    for limit in args.rate_limit:
        value, _, unit = limit.partition("/")
        if not value.isdigit():
            raise ValueError(f"--rate-limit must look like 100/rpm, not {limit!r}")
        plan.setdefault("rate_limits", []).append({"type": "requests", "unit": unit, "value": int(value)})
    if args.fault_seed is not None:
        plan["seed"] = args.fault_seed
    return plan


def _start_errors() -> tuple[type[Exception], ...]:
    """What a start fails with, said in one line; Redis's errors only once redis was imported (it is
    imported only with --store, to keep 50 ms off the start of the default mock)."""
    from mockserver.snapshots.document import SnapshotUnusable  # read only when a start fails

    redis = sys.modules.get("redis")
    errors = (OSError, ValueError, ApiError, ContractUnusable, SnapshotUnusable)
    return errors + ((redis.RedisError,) if redis else ())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        if args.command == "record":
            return _record(args)
        if args.read_timeout <= 0:
            raise ValueError("--read-timeout must be positive")
        if args.command == "proxy":
            server = _waitress(_proxy_app(args), args)
        else:
            config = _config(args)
            if args.workers < 1:
                raise ValueError("--workers must be at least 1")
            if args.workers != 1:
                if args.replay:
                    raise ValueError("--replay works with one worker only")
                from mockserver.serving.workers import serve_workers

                return serve_workers(
                    config,
                    args.host,
                    args.port,
                    args.workers,
                    args.threads,
                    lambda url: _announce(url, args, f" with {args.workers} workers"),
                    args.read_timeout,
                )
            app = create_app(config)
            if args.replay:
                args.replayed = _replay(app, args.replay)
            if args.server == "granian":
                return _serve_with_granian(app, args)
            server = _waitress(app, args)
    except _start_errors() as exc:
        print(f"mockserver: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.command == "proxy":
        for problem in Contract.load(args.contract).problems:  # the proxy's own, loaded once per process
            print(f"mockserver proxy: warning: the contract: {problem}", file=sys.stderr, flush=True)
        print(f"mockserver proxy listening on {server.base_url}, forwarding to {args.upstream}", flush=True)
    else:
        _announce(server.base_url, args)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("mockserver stopped", flush=True)
    return 0


def _waitress(app: WsgiApp, args: argparse.Namespace) -> MockServer:
    from mockserver.serving.server import MockServer  # waitress: only when chosen

    return MockServer(app, args.host, args.port, args.threads, args.read_timeout)


def _config(args: argparse.Namespace) -> MockConfig:
    return MockConfig(
        contract_path=args.contract,
        seed_path=args.seed,
        keys_path=args.keys,
        not_found_status=args.not_found_status,
        max_body_bytes=args.max_body_bytes,
        journal_limit=args.journal_limit,
        strict=args.strict,
        connection_faults=args.server == "waitress" or args.workers > 1,  # --workers forks waitress
        store_url=args.store,
        redis_prefix=args.redis_prefix,
        fault_plan=_fault_plan(args),
        control_token=args.control_token or None,
        pricing_dir=args.pricing_dir,
    )


def _proxy_app(args: argparse.Namespace) -> Flask:
    from mockserver.serving.proxy import create_proxy_app  # the proxy is a toolkit check, wired in here only

    if not args.upstream.startswith(("http://", "https://")):
        raise ValueError("--upstream must be an http:// or https:// URL")
    if args.journal_limit < 1:
        raise ValueError("--journal-limit must be positive")
    return create_proxy_app(
        args.upstream,
        contract_path=args.contract,
        journal_limit=args.journal_limit,
        timeout=args.timeout,
        record=args.record,
        stable=args.stable,
    )


def _replay(app: MockApp, path: Path) -> Replayed:
    """Fold a snapshot's writes into the new mock, before it serves; `/__mock/replay` tells of it."""
    from mockserver.snapshots.document import read_snapshot
    from mockserver.snapshots.replay import in_process, replay, replay_blueprint

    replayed = replay(read_snapshot(path), in_process(app), str(path))
    app.state.journal.clear()  # the replay set the state up; the journal starts with the clients
    app.control.register_blueprint(replay_blueprint(replayed))
    return replayed


def _record(args: argparse.Namespace) -> int:
    """`mockserver record`: a snapshot from a journal file or a running proxy's journal."""
    import httpx  # only this command talks to a server

    from mockserver.snapshots.record import record_journal

    source, upstream = args.journal, args.upstream
    if source.startswith(("http://", "https://")):
        root = source.rstrip("/").removesuffix("/v1")
        journal = httpx.get(f"{root}{CONTROL_PREFIX}/journal", timeout=30).raise_for_status()
        entries = journal.json()["entries"]
        health = httpx.get(f"{root}{CONTROL_PREFIX}/health", timeout=30).json()
        upstream = upstream or health.get("upstream")
    else:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
        entries = document["entries"] if isinstance(document, dict) else document
    contract = Contract.load(args.contract)
    count = record_journal(entries, args.out, contract, upstream or "unknown", stable=args.stable)
    print(f"mockserver: wrote {count} exchanges to {args.out}", flush=True)
    return 0


def _announce(base_url: str, args: argparse.Namespace, detail: str = "") -> None:
    """Where the mock listens and where its dashboard is; a warning if anyone may drive it."""
    root = base_url.removesuffix("/v1")
    print(f"mockserver listening on {base_url}{detail}", flush=True)
    print(f"dashboard: {root}{DASHBOARD_PATH}", flush=True)
    replayed: Replayed | None = getattr(args, "replayed", None)
    for line in replayed.summary() if replayed else ():  # what was applied, what was quarantined
        print(f"mockserver: {line}", flush=True)
    if not args.control_token and not is_loopback(args.host):
        print(exposure_warning(args.host), file=sys.stderr, flush=True)


def _serve_with_granian(app: WsgiApp, args: argparse.Namespace) -> int:
    host, threads = args.host, args.threads
    port = args.port or free_port(host)
    with socket.socket() as probe:  # fail here, with a clear message, if the port is taken
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as granian binds
        probe.bind((host, port))
    _announce(f"http://{host}:{port}/v1", args)
    serve_with_granian(app, host, port, threads, args.read_timeout)
    print("mockserver stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
