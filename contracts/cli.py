"""The `contracts` command: dispatches to each command's own parser (`contracts/<command>/cli.py`)."""

from __future__ import annotations

import argparse
import sys

from contracts.drift import cli as drift_cli
from contracts.parity import cli as parity_cli
from contracts.traffic import cli as traffic_cli
from contracts.verify import cli as verify_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="contracts", description="Contract tests for Portkey's virtual-keys API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (verify_cli, traffic_cli, drift_cli, parity_cli):
        command.add_parser(commands)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
