"""`contracts drift`'s arguments, and running it: compare, print, exit status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contracts.drift.command import UsageError, as_json, as_text, drift, drift_table, read_accepted
from mockserver.contract.document import Contract, ContractUnusable


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "drift",
        help="compare two contracts of one API, field by field",
        description="Compare OURS with THEIRS operation by operation and field by field, and say whom "
        "each difference breaks. Exit status: 0 nothing beyond the accept file, 1 differences found, "
        "2 bad usage.",
    )
    parser.add_argument("ours", type=Path, nargs="?", help="our OpenAPI contract")
    parser.add_argument(
        "theirs", type=Path, nargs="?", help="the other OpenAPI contract (e.g. Portkey's published spec)"
    )
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")
    parser.add_argument("--accept", type=Path, metavar="FILE", help="known differences, with reasons (YAML)")
    parser.add_argument(
        "--table", type=Path, metavar="FILE", help="print an accept file as the docs' drift table (Markdown)"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        if args.table:
            print(drift_table(read_accepted(args.table)))
            return 0
        if args.ours is None or args.theirs is None:
            raise UsageError("name two contracts: OURS THEIRS (or --table FILE)")
        accepted = read_accepted(args.accept) if args.accept else []
        ours, theirs = Contract(args.ours), Contract(args.theirs)
    except (UsageError, ContractUnusable) as error:
        print(f"contracts drift: {error}", file=sys.stderr)
        return 2
    result = drift(ours, theirs, accepted)
    print(as_json(result) if args.json else as_text(result, args.ours, args.theirs))
    return 1 if result.new else 0
