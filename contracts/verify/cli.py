"""`contracts verify`'s arguments. The run itself (`command.py`, schemathesis and hypothesis) is
imported only when the command runs, so parsing stays cheap for the other commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from contracts.verify.run import PERMANENT_WRITES_OPTION, PHASES, ContractNotForVerify, ServiceUnreachable


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `verify` to the `contracts` command; `args.run(args)` runs it."""
    parser = commands.add_parser(
        "verify",
        help="check that a running service keeps to the contract",
        description="Generate requests from the contract (schemathesis), send them to BASE_URL and judge "
        "every answer. Exit 0: conforms; 1: a check failed; 2: bad usage or the service is unreachable.",
    )
    add = parser.add_argument
    add("--base-url", required=True, help="the API root, e.g. http://127.0.0.1:8787/v1")
    add("--api-key", required=True, help="sent in the contract's API-key header")
    add("--second-api-key", help="another workspace's API key: keys must be invisible across the two")
    add("--max-examples", type=_positive, default=20, help="examples per operation and phase (default 20)")
    add("--seed", type=int, help="fix the generation so a run can be repeated exactly")
    add("--workers", type=_positive, default=1, help="concurrent schemathesis workers (default 1)")
    add("--read-only", action="store_true", help="only GET requests: nothing is created, changed or deleted")
    add(
        PERMANENT_WRITES_OPTION,
        action="store_true",
        help="also drive what cannot be deleted afterwards (a log inserted, feedback on it, a log export "
        "moved through its states): for a service you own, never shared staging; ignored with --read-only",
    )
    add("--max-requests", type=_positive, help="stop once this many requests were sent (clean-up excepted)")
    add(
        "--phases",
        type=_subset_of(lambda: PHASES),
        default=PHASES,
        help=f"comma-separated subset of {','.join(PHASES)}",
    )
    add(
        "--provider-cases",
        type=_subset_of(_provider_cases),
        default=None,
        help="comma-separated provider cases the lifecycle phase creates (default: all)",
    )
    add("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report")
    add("--json", type=Path, metavar="PATH", dest="json_report", help="write a JSON report")
    add("--html", type=Path, metavar="PATH", dest="html_report", help="write a self-contained HTML report")
    add("--contract", type=Path, help="the OpenAPI contract (default: the project's openapi.yaml)")
    add("--request-timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from contracts.verify.command import VerifyOptions, verify

    options = VerifyOptions(
        base_url=args.base_url,
        api_key=args.api_key,
        second_api_key=args.second_api_key,
        max_examples=args.max_examples,
        seed=args.seed,
        workers=args.workers,
        read_only=args.read_only,
        max_requests=args.max_requests,
        phases=args.phases,
        provider_cases=args.provider_cases or _provider_cases(),
        junit_xml=args.junit_xml,
        json_report=args.json_report,
        html_report=args.html_report,
        contract_path=args.contract,
        request_timeout=args.request_timeout,
        permanent_writes=args.permanent_writes,
    )
    try:
        return verify(options).exit_code
    except (ServiceUnreachable, ContractNotForVerify) as error:
        print(f"contracts verify: {error}", file=sys.stderr)
        return 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _subset_of(known: Callable[[], Iterable[str]]) -> Callable[[str], tuple[str, ...]]:
    """An argparse type for a comma-separated, non-empty subset of `known()` (asked when used)."""

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(known())
        chosen = tuple(part.strip() for part in text.split(",") if part.strip())
        if not chosen or any(name not in names for name in chosen):
            raise argparse.ArgumentTypeError(f"choose from {', '.join(names)}")
        return chosen

    return parse


def _provider_cases() -> tuple[str, ...]:
    from contracts.strategies import PROVIDER_CASES  # schemathesis and hypothesis: only for verify

    return tuple(PROVIDER_CASES)
