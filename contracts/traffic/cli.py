"""`contracts check-traffic`'s arguments, and running it: read, judge, report, exit status."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from contracts.traffic.command import (
    UsageError,
    contract_warnings,
    for_traffic,
    judge_traffic,
    load_contract,
    load_traffic,
    report,
    write_traffic_html,
)
from mockserver.control.token import TOKEN_VARIABLE


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `check-traffic` to the `contracts` command; `args.run(args)` runs it."""
    parser = commands.add_parser(
        "check-traffic",
        help="judge recorded requests against a contract",
        description="Judge every request of a journal or HAR file against a contract. "
        "Exit status: 0 all conform, 1 a request or a recorded response breaks the contract, 2 bad usage.",
    )
    parser.add_argument(
        "source",
        help="a journal JSON file (GET /__mock/journal), a HAR file, or a running mock's or proxy's URL",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        help="OpenAPI contract to judge against (default: the project's openapi.yaml)",
    )
    parser.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"the control token of a mock started with one (env: {TOKEN_VARIABLE})",
    )
    parser.add_argument("--html", type=Path, metavar="PATH", help="also write a self-contained HTML report")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        contract = load_contract(args.contract)
        traffic = load_traffic(args.source, args.control_token)
    except UsageError as error:
        print(f"contracts check-traffic: {error}", file=sys.stderr)
        return 2
    contract = for_traffic(contract, traffic)
    for warning in contract_warnings(contract):
        print(f"contracts check-traffic: warning: the contract: {warning}", file=sys.stderr)
    judged = judge_traffic(traffic, contract)
    print(report(judged, args.source, contract))
    if args.html:
        write_traffic_html(judged, args.source, contract, args.html)
    return 0 if all(verdict.conforms for _, verdict in judged) else 1
