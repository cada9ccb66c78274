"""`contracts parity`'s arguments, and running it: send, compare, report, exit status."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from contracts.parity.command import Unreachable, run_parity
from contracts.parity.report import text, write_html, write_json
from mockserver.contract.document import Contract, ContractUnusable
from mockserver.snapshots.document import SnapshotUnusable, read_snapshot

API_KEY_VARIABLE = "PORTKEY_API_KEY"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `parity` to the `contracts` command; `args.run(args)` runs it."""
    parser = commands.add_parser(
        "parity",
        help="re-send a snapshot's requests to a service and score how alike its answers are",
        description="Re-send every request of a snapshot (mockserver proxy --record) to a service, "
        "compare each answer with the recorded one field by field, and score the parity per operation. "
        "Exit status: 0 at or above --threshold, 1 below it, 2 bad usage or an unreachable service.",
    )
    parser.add_argument("snapshot", type=Path, help="a snapshot file")
    parser.add_argument(
        "--base-url", required=True, help="the service to compare, ending in /v1 (never taken from elsewhere)"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_VARIABLE),
        help=f"API key to send for each recorded credential (env: {API_KEY_VARIABLE})",
    )
    parser.add_argument(
        "--threshold", type=float, default=100.0, help="lowest parity, in percent, that passes (default 100)"
    )
    parser.add_argument(
        "--contract", type=Path, help="OpenAPI contract (default: the project's openapi.yaml)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the report as JSON")
    parser.add_argument("--html", type=Path, metavar="PATH", help="also write a self-contained HTML report")
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, metavar="S", help="seconds per request"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    if not args.base_url.startswith(("http://", "https://")):
        print("contracts parity: --base-url must be an http:// or https:// URL", file=sys.stderr)
        return 2
    try:
        snapshot = read_snapshot(args.snapshot)
        contract = Contract.load(args.contract)
        result = run_parity(
            snapshot,
            str(args.snapshot),
            args.base_url,
            contract,
            api_key=args.api_key,
            timeout=args.request_timeout,
        )
    except (SnapshotUnusable, ContractUnusable, Unreachable) as error:
        print(f"contracts parity: {error}", file=sys.stderr)
        return 2
    print(text(result, args.threshold))
    if args.json:
        write_json(result, args.threshold, args.json)
    if args.html:
        write_html(result, args.threshold, args.html)
    return 0 if result.score >= args.threshold else 1
