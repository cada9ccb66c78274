"""The toolkit's rows: `contracts verify` against stock `schemathesis run --checks all`, and
`contracts check-traffic` on a journal of 10,000 entries.

verify and schemathesis each test a fresh mock (its own process, with a keys file of two workspace
keys, so that both tools' auth checks apply as designed) with the same contract, examples and seed,
taking turns. Requests are counted where they arrive, by the mock's
journal, so both tools are measured the same way; CPU is the tool's own process (user and system).
Stock schemathesis runs as shipped, without the project's hooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.systems import API_KEY, API_KEY_HEADER, CONTRACT, ROOT, System, mock

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
SCHEMATHESIS_PHASES = ("examples", "coverage", "fuzzing", "stateful")
STOCK, STOCK_SAME_OPERATIONS, VERIFY = (
    "stock schemathesis",
    "stock schemathesis, verify's operations",
    "contracts verify",
)
JOURNAL_LIMIT = 10_000


@dataclass(frozen=True)
class ToolRun:
    """One run of a tool: what the mock received, how long it took, the CPU the tool spent."""

    tool: str
    requests: int
    seconds: float
    cpu_seconds: float
    exit_code: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def row(self, **extra: Any) -> dict[str, Any]:
        return {
            "system": self.tool,
            "workload": extra.pop("workload", "contract test"),
            "rps": round(self.rps, 1),
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "cpu_ms_per_request": round(1000 * self.cpu_seconds / self.requests, 2)
            if self.requests
            else None,
            "exit_code": self.exit_code,
            "toolkit": True,
            **extra,
        }


def verify_command(url: str, examples: int, seed: int, phases: tuple[str, ...]) -> list[str]:
    return [
        sys.executable, "-m", "contracts", "verify", "--base-url", f"{url}/v1",
        "--api-key", API_KEY, "--second-api-key", SECOND_API_KEY,
        "--max-examples", str(examples), "--seed", str(seed), "--phases", ",".join((*phases, "lifecycle")),
    ]  # fmt: skip


def schemathesis_command(
    url: str, examples: int, seed: int, phases: tuple[str, ...], config: Path | None = None
) -> list[str]:
    return [
        SCHEMATHESIS, *(["--config-file", str(config)] if config else []), "run", str(CONTRACT),
        "--url", f"{url}/v1", "--header", f"{API_KEY_HEADER}: {API_KEY}", "--checks", "all",
        "--max-examples", str(examples), "--seed", str(seed), "--workers", "1",
        "--phases", ",".join(phases), "--no-color",
    ]  # fmt: skip


def verify_selection(folder: Path) -> Path:
    """A schemathesis.toml that has stock schemathesis test what verify's schemathesis phases test:
    not the operations verify leaves out or to its own scenarios (declared resources' writes), and
    the admin reads no lifecycle drives in the examples and fuzzing phases only. Stock's whole run
    spends most of its requests on the coverage phase's boundaries of analytics' 25 query
    parameters, which verify leaves out to keep a run short: the same operations compare the tools'
    cost per request, not their choices of what to send."""
    from contracts.verify.command import left_to_the_lifecycle
    from contracts.verify.run import SAMPLED_PHASES, contract_to_verify, read_contract, sampled_reads

    whole = read_contract(CONTRACT)
    cut = contract_to_verify(whole)
    kept = {op.operation_id for op in cut.operations.values()}
    left_out = sorted({op.operation_id for op in whole.operations.values()} - kept)
    off = [f"phases.{name}.enabled = false" for name in SCHEMATHESIS_PHASES if name not in SAMPLED_PHASES]
    lines = [
        "[[operations]]",
        f"include-operation-id = {json.dumps(left_out + left_to_the_lifecycle(cut))}",
        "enabled = false",
        "",
        "[[operations]]",
        f"include-operation-id = {json.dumps(sorted(sampled_reads(cut)))}",
        *off,
    ]
    path = folder / "schemathesis.toml"
    path.write_text(
        "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return path


def measure(
    examples: int = 20,
    seed: int = 7,
    phases: tuple[str, ...] = SCHEMATHESIS_PHASES,
    rounds: int = 1,
    journal_entries: int = JOURNAL_LIMIT,
) -> list[dict[str, Any]]:
    """verify and stock schemathesis taking turns (`rounds` each, the median kept), the ratio of
    their requests per second, then check-traffic on a journal of `journal_entries` entries."""
    journal: list[Any] = []
    with tempfile.TemporaryDirectory() as folder:
        selection = verify_selection(Path(folder))
        commands = {
            STOCK: lambda url: schemathesis_command(url, examples, seed, phases),
            STOCK_SAME_OPERATIONS: lambda url: schemathesis_command(url, examples, seed, phases, selection),
            VERIFY: lambda url: verify_command(url, examples, seed, phases),
        }
        runs: dict[str, list[ToolRun]] = {tool: [] for tool in commands}
        for _ in range(rounds):
            for tool, command in commands.items():
                print(f"running {tool} against a fresh mock ...", file=sys.stderr, flush=True)
                run, entries = _against_fresh_mock(tool, command)
                runs[tool].append(run)
                journal = entries if tool == VERIFY else journal
    rows = [
        _median(measured).row(all_rounds=[round(r.rps, 1) for r in measured]) for measured in runs.values()
    ]
    stock, same, verify = rows
    verify["vs_stock_schemathesis"] = round(verify["rps"] / stock["rps"], 2) if stock["rps"] else None
    verify["vs_stock_same_operations"] = round(verify["rps"] / same["rps"], 2) if same["rps"] else None
    rows.append(
        _check_traffic(journal, journal_entries).row(workload=f"a journal of {journal_entries} entries")
    )
    return rows


SECOND_API_KEY = f"{API_KEY}-second"


def _against_fresh_mock(tool: str, command: Any) -> tuple[ToolRun, list[Any]]:
    system = mock(name="mock for the toolkit")
    with tempfile.TemporaryDirectory() as folder:
        keys = Path(folder) / "keys.yaml"
        keys.write_text(
            f"api_keys:\n  - {{key: {API_KEY}, workspace_id: ws-bench}}\n"
            f"  - {{key: {SECOND_API_KEY}, workspace_id: ws-bench-second}}\n",
            encoding="utf-8",
        )
        system.command += ["--journal-limit", str(JOURNAL_LIMIT), "--keys", str(keys)]
        system.start()
        try:
            run = _timed(tool, command(system.url))
            journal = _journal(system)
            return ToolRun(tool, len(journal["entries"]) + journal["dropped"], *run), journal["entries"]
        finally:
            system.stop()


def _check_traffic(entries: list[Any], count: int) -> ToolRun:
    """check-traffic on `entries` (verify's traffic: valid and invalid requests) cycled to `count`."""
    if not entries:
        raise RuntimeError("the verify run left no journal to check")
    cycled = [entries[i % len(entries)] for i in range(count)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.json"
        path.write_text(json.dumps({"limit": count, "dropped": 0, "entries": cycled}), encoding="utf-8")
        print(f"running contracts check-traffic on {count} entries ...", file=sys.stderr, flush=True)
        seconds, cpu, code = _timed(
            "check-traffic", [sys.executable, "-m", "contracts", "check-traffic", str(path)]
        )
    return ToolRun("contracts check-traffic", count, seconds, cpu, code)


def _timed(tool: str, command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user and system) and exit status of `command` run to its end."""
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if process.returncode not in (0, 1):  # 1: found something; anything else: it did not run
        said = errors.decode(errors="replace").strip()[-500:]
        raise RuntimeError(f"{tool} exited with status {process.returncode}: {said}")
    return seconds, usage.ru_utime + usage.ru_stime, process.returncode


def _journal(system: System) -> dict[str, Any]:
    with urllib.request.urlopen(f"{system.url}/__mock/journal", timeout=30) as response:
        journal: dict[str, Any] = json.load(response)
        return journal


def _median(runs: list[ToolRun]) -> ToolRun:
    return sorted(runs, key=lambda run: run.rps)[len(runs) // 2]
