"""Load from a second process: wrk on 127.0.0.1, bounded in time, driven by workload.lua."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.systems import API_KEY, System

SCRIPT = Path(__file__).resolve().parent / "workload.lua"
WRK_MISSING = "wrk is not installed (apt-get install wrk)"


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float
    cores_busy: float
    """Cores of this machine busy during the run, on average: the server, wrk, Redis, anything else."""
    created: int = 0
    """Creates answered with a record the lifecycle then reads, updates and deletes (mixed, configs)."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_missing() -> str | None:
    return None if shutil.which("wrk") else WRK_MISSING


def run(system: System, workload: str, slug: str, seconds: float, connections: int) -> Measurement:
    """Drive `workload` against the running `system` for `seconds` with `connections` connections."""
    assert system.url.startswith("http://127.0.0.1:")  # load goes to this machine only
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
        "-s", str(SCRIPT), system.url, "--", workload, system.base, API_KEY, slug,
    ]  # fmt: skip
    before = _cpu_ticks()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    after = _cpu_ticks()
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {done.stderr.strip() or done.stdout.strip()}")
    result = json.loads(line.removeprefix("BENCH "))
    return Measurement(
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        failed=result["failed"],
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        cores_busy=_cores_busy(before, after),
        created=result.get("created", 0),
    )


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from the first line of /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def _cores_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return round(busy / total * (os.cpu_count() or 1), 2) if total else 0.0
