"""Load from a second process: wrk on 127.0.0.1, bounded in time, driven by workload.lua."""

from __future__ import annotations

import json
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
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
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
    )
