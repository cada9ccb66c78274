"""The `contracts` command: checks of clients and services against the contract, one subcommand each."""

from __future__ import annotations

import argparse
import sys

from contracts.traffic import add_check_traffic_parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts", description="Check clients and services against the virtual-keys contract."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_check_traffic_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
