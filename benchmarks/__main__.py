"""`python -m benchmarks`: the mock against a bare Flask baseline and Prism, side by side in one run.

Prints one table (system, workload, requests per second, p50, p99, ratio to the baseline and to
Prism) and writes the same as JSON. Every system runs as its own process on 127.0.0.1; wrk drives
the load for a bounded time. A missing tool (wrk, Node.js) skips its rows and says why.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import load, systems, toolkit
from benchmarks.report import table
from mockserver.serving.redis_server import RedisServer

WORKLOADS = systems.KEY_WORKLOADS + systems.LIFECYCLES
STORED_KEYS = 20  # keys each system holds while measured (Prism, stateless, answers a 20-key example page)
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"  # git-ignored


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="load time per run (default 5)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per row, taking turns; the median is kept"
    )
    parser.add_argument("--starts", type=int, default=3, help="starts timed per system; the median is kept")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=("waitress", "gunicorn", "granian"),
        default=[systems.DEFAULT_SERVER],
        help=f"servers to run the mock and the baseline on (default: {systems.DEFAULT_SERVER}, the mock's)",
    )
    parser.add_argument(
        "--large", type=int, default=100_000, help="keys stored for the cost-with-data rows (default 100000)"
    )
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument(
        "--workers",
        nargs="+",
        type=int,
        default=[1, 2],
        metavar="N",
        help="worker counts of the mock with Redis, compared with one worker (default: 1 2)",
    )
    parser.add_argument(
        "--no-redis", action="store_true", help="leave out the Redis rows (the store, the worker counts)"
    )
    parser.add_argument(
        "--no-toolkit",
        action="store_true",
        help="leave out the toolkit rows (verify, schemathesis, check-traffic)",
    )
    parser.add_argument(
        "--toolkit-examples", type=int, default=20, help="examples per operation and phase (default 20)"
    )
    parser.add_argument("--toolkit-seed", type=int, default=7, help="seed of both contract tests (default 7)")
    parser.add_argument(
        "--toolkit-phases",
        nargs="+",
        choices=toolkit.SCHEMATHESIS_PHASES,
        default=list(toolkit.SCHEMATHESIS_PHASES),
        help="schemathesis phases both run (verify adds its lifecycle phase)",
    )
    parser.add_argument(
        "--toolkit-rounds", type=int, default=1, help="runs of each contract test, taking turns (default 1)"
    )
    parser.add_argument(
        "--toolkit-journal", type=int, default=10_000, help="entries of the journal check-traffic reads"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.large and args.large <= 100:
        parser.error("--large must be 0 (leave the rows out) or more than 100")
    missing_wrk = load.wrk_missing()
    candidates = [systems.baseline(s) for s in args.servers] + [systems.mock(s) for s in args.servers]
    for system in candidates:  # the configs lifecycle: the mock and the baseline, as for mixed
        system.workloads += systems.LIFECYCLES
    if not args.no_prism:
        candidates.append(systems.prism(page_size=STORED_KEYS))
    startup = {system.name: _startup(system, args.starts) for system in candidates}
    startup_cpu = {name: cpu for name, (_, cpu) in startup.items() if cpu is not None}
    rows = _side_by_side(candidates, args, missing_wrk)
    if not args.no_redis:
        rows += _shared_state(args, missing_wrk)
    data = _cost_with_data(args, missing_wrk) if args.large else {}
    rows += data.pop("rows", [])
    _add_ratios(rows)
    if not args.no_toolkit:
        rows += toolkit.measure(
            args.toolkit_examples,
            args.toolkit_seed,
            tuple(args.toolkit_phases),
            args.toolkit_rounds,
            args.toolkit_journal,
        )
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "settings": {
            "seconds": args.seconds,
            "rounds": args.rounds,
            "connections": args.connections,
            "large": args.large,
            "toolkit": None
            if args.no_toolkit
            else {
                "examples": args.toolkit_examples,
                "seed": args.toolkit_seed,
                "phases": args.toolkit_phases,
                "rounds": args.toolkit_rounds,
                "journal_entries": args.toolkit_journal,
            },
        },
        "rows": rows,
        "startup_seconds": {name: seconds for name, (seconds, _) in startup.items()},
        "startup_cpu_seconds": startup_cpu,
        "data": data,
    }
    print(table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    return 0


def _startup(system: systems.System, starts: int) -> tuple[float | dict[str, str], float | None]:
    """Median seconds from process start to the first 200, over `starts` starts, and the median CPU
    seconds of those starts (the process and its children: on a shared machine the steadier figure).

    A system that does not start is marked missing, so its rows are skipped with the reason.
    """
    if system.missing:
        return {"skipped": system.missing}, None
    print(f"timing the start of {system.name} ...", file=sys.stderr, flush=True)
    _write_bytecode(system)
    seconds, cpu = [], []
    for _ in range(starts):
        try:
            seconds.append(system.start())
            cpu.append(system.start_cpu)
        except (OSError, RuntimeError, TimeoutError) as exc:
            system.missing = f"did not start: {exc}"
            print(f"skipping {system.name}: {system.missing}", file=sys.stderr)
            return {"skipped": system.missing}, None
        finally:
            system.stop()
    return round(statistics.median(seconds), 3), round(statistics.median(cpu), 3)


def _write_bytecode(system: systems.System) -> None:
    """One untimed start that may write Python bytecode, so the timed starts read it, as an installed
    package's do (pip compiles a wheel's modules; a checkout writes them on its first start).

    A machine may forbid it for every process (`PYTHONDONTWRITEBYTECODE=1`, as the one these
    figures were measured on does): then each start compiles the mock's own modules again, about
    0.1 s that no installed mock pays. A start that fails here fails again, timed, and is reported.
    """
    kept = system.env
    system.env = {**kept, "PYTHONDONTWRITEBYTECODE": ""}
    try:
        system.start()
    except (OSError, RuntimeError, TimeoutError):
        pass
    finally:
        system.stop()
        system.env = kept


def _side_by_side(
    candidates: list[systems.System], args: argparse.Namespace, missing_wrk: str | None
) -> list[dict[str, Any]]:
    """All systems up at once; each workload runs on each in turn, `rounds` times; medians kept.

    Taking turns spreads the noise of a shared machine evenly over the systems compared.
    """
    running = [s for s in candidates if not s.missing and not missing_wrk]
    rows = [
        {"system": s.name, "workload": w, "skipped": s.missing or missing_wrk}
        for s in candidates
        if s not in running
        for w in args.workloads
        if w in s.workloads
    ]
    try:
        slugs: dict[str, dict[str, str]] = {}  # system -> workload -> a record that exists
        for system in running:
            system.start()
            created = [system.create_key() for _ in range(STORED_KEYS)]  # a list answers a page of 20
            slugs[system.name] = dict.fromkeys(systems.KEY_WORKLOADS, created[0])
            if "configs" in system.workloads and "configs" in args.workloads:
                configs = [system.create_config() for _ in range(STORED_KEYS)]
                slugs[system.name]["configs"] = configs[0]
        for workload in [w for w in WORKLOADS if w in args.workloads]:  # create late: it grows the store
            taking_part = [s for s in running if workload in s.workloads]
            print(f"measuring {workload} on {', '.join(s.name for s in taking_part)} ...", file=sys.stderr)
            runs: dict[str, list[load.Measurement]] = {s.name: [] for s in taking_part}
            for _ in range(args.rounds):
                for system in taking_part:
                    runs[system.name].append(
                        load.run(
                            system, workload, slugs[system.name][workload], args.seconds, args.connections
                        )
                    )
            rows += [_row(name, workload, measured) for name, measured in runs.items()]
    finally:
        for system in running:
            system.stop()
    return rows


def _shared_state(args: argparse.Namespace, missing_wrk: str | None) -> list[dict[str, Any]]:
    """The Redis store against the memory store (one process each, the default server), beside an
    app that makes one Redis trip per request and nothing else (the floor of any one-trip design),
    and Redis with 1, 2, 4... worker processes (waitress, as `--workers` forks it), side by side.

    Compared with each other (`vs_memory`, `vs_one_worker`) rather than with the baseline.
    """
    redis = RedisServer()
    url = redis.start()
    try:
        candidates = [systems.mock(name="mock, memory"), systems.mock_redis(url), systems.redis_trip(url)]
        candidates += [systems.mock_workers(n, url) for n in args.workers]
        rows = _side_by_side(candidates, args, missing_wrk)
    finally:
        redis.stop()
    for row in rows:
        row["shared_state"] = True
    return rows


def _row(system: str, workload: str, runs: list[load.Measurement], **extra: Any) -> dict[str, Any]:
    """The median run (by throughput) of `runs`."""
    median = sorted(runs, key=lambda m: m.rps)[len(runs) // 2]
    return {
        "system": system,
        "workload": workload,
        "rps": round(median.rps, 1),
        "p50_ms": median.p50_ms,
        "p99_ms": median.p99_ms,
        "requests": median.requests,
        "failed": median.failed,
        "cores_busy": median.cores_busy,
        **({"created": median.created} if workload in ("mixed", *systems.LIFECYCLES) else {}),
        "rps_all_rounds": [round(m.rps, 1) for m in runs],
        **extra,
    }


def _cost_with_data(args: argparse.Namespace, missing_wrk: str | None) -> dict[str, Any]:
    """Retrieve and list with 100 keys and with `args.large` keys, side by side; memory per key."""
    counts = (100, args.large)
    result: dict[str, Any] = {"rows": []}
    with tempfile.TemporaryDirectory() as folder:
        stores = []
        for count in counts:
            seed = Path(folder) / f"seed-{count}.json"
            seed.write_text(json.dumps(_seed_document(count)), encoding="utf-8")
            system = systems.mock(seed=seed)
            system.name = f"mock, {count} keys"
            stores.append((count, system))
        try:
            rss = {}
            for count, system in stores:
                print(f"starting {system.name} ...", file=sys.stderr, flush=True)
                system.start(timeout=600)
                rss[count] = system.rss_bytes()
            result["memory_per_key_bytes"] = round(
                (rss[counts[1]] - rss[counts[0]]) / (counts[1] - counts[0])
            )
            for workload in ("retrieve", "list"):
                if missing_wrk:
                    result["rows"] += [
                        {"system": s.name, "workload": workload, "skipped": missing_wrk} for _, s in stores
                    ]
                    continue
                runs: dict[int, list[load.Measurement]] = {count: [] for count in counts}
                for _ in range(args.rounds):
                    for count, system in stores:
                        slug = f"bench-key-{count // 2}"  # a key from the middle of the store
                        runs[count].append(load.run(system, workload, slug, args.seconds, args.connections))
                result["rows"] += [
                    _row(system.name, workload, runs[count], keys=count) for count, system in stores
                ]
        finally:
            for _, system in stores:
                system.stop()
    return result


def _seed_document(count: int) -> dict[str, Any]:
    keys = [
        {
            "slug": f"bench-key-{i}",
            "name": f"bench key {i}",
            "provider": "openai",
            "key": f"sk-bench-{i:016d}",
        }
        for i in range(count)
    ]
    return {"workspaces": [{"api_key": systems.API_KEY, "virtual_keys": keys}]}


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    """Each row's throughput over the baseline's (same server) and Prism's, for the same workload."""
    measured = {(r["system"], r["workload"]): r["rps"] for r in rows if "rps" in r}
    for row in rows:
        if "rps" not in row or "keys" in row or row.get("shared_state"):
            continue
        server = row["system"].partition("/")[2]  # "" for the default server
        baseline = measured.get(("baseline/" + server if server else "baseline", row["workload"]))
        prism = measured.get(("prism", row["workload"]))
        row["vs_baseline"] = round(row["rps"] / baseline, 2) if baseline else None
        row["vs_prism"] = round(row["rps"] / prism, 2) if prism else None
    for row in rows:
        if "rps" not in row or not row.get("shared_state"):
            continue
        if row["system"] in ("mock, redis", "one Redis trip alone"):
            memory = measured.get(("mock, memory", row["workload"]))
            row["vs_memory"] = round(row["rps"] / memory, 2) if memory else None
        elif row["system"].endswith(" workers"):
            one = measured.get(("mock, redis, 1 workers", row["workload"]))
            row["vs_one_worker"] = round(row["rps"] / one, 2) if one else None
    small = {r["workload"]: r for r in rows if r.get("keys") == 100}
    for row in rows:
        if row.get("keys", 100) != 100 and "rps" in row and row["workload"] in small:
            first = small[row["workload"]]
            row["cost_vs_100_keys"] = round(first["rps"] / row["rps"], 2) if row["rps"] else None


def _machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


if __name__ == "__main__":
    sys.exit(main())
