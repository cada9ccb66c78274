"""The results as one plain-text table (the same shape docs/performance.md shows)."""

from __future__ import annotations

from typing import Any


def table(results: dict[str, Any]) -> str:
    lines = [
        "| system | workload | req/s | p50 ms | p99 ms | failed | cores busy | vs baseline | vs Prism "
        "| vs memory | vs 1 worker |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        if row.get("toolkit"):
            continue
        if "skipped" in row:
            lines.append(
                f"| {row['system']} | {row['workload']} | skipped: {row['skipped']} | | | | | | | | |"
            )
            continue
        lines.append(
            f"| {row['system']} | {row['workload']} | {row['rps']:.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['failed']} | {_ratio(row.get('cores_busy'))} | "
            f"{_ratio(row.get('vs_baseline'))} | "
            f"{_ratio(row.get('vs_prism'))} | {_ratio(row.get('vs_memory'))} | "
            f"{_ratio(row.get('vs_one_worker'))} |"
        )
    lines += _toolkit_table([row for row in results["rows"] if row.get("toolkit")])
    lines.append("")
    cpu = results.get("startup_cpu_seconds", {})
    for name, seconds in results["startup_seconds"].items():
        shown = f"{seconds:.3f} s" if isinstance(seconds, float | int) else f"skipped: {seconds['skipped']}"
        shown += f" (CPU {cpu[name]:.3f} s)" if name in cpu else ""
        lines.append(f"start to first 200, {name}: {shown}")
    data = results.get("data") or {}
    for row in results["rows"]:
        if "cost_vs_100_keys" in row:
            cost = row["cost_vs_100_keys"]
            lines.append(f"cost of {row['workload']} with {row['keys']} keys vs 100 keys: {cost:.2f}x")
    if "memory_per_key_bytes" in data:
        lines.append(f"memory per stored key: {data['memory_per_key_bytes']} bytes")
    machine = results["machine"]
    lines.append(f"machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}")
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _toolkit_table(rows: list[dict[str, Any]]) -> list[str]:
    """The contract-testing tools: requests the mock received, wall and CPU time, and verify's
    requests per second over stock schemathesis's."""
    if not rows:
        return []
    lines = [
        "",
        "| tool | workload | requests | seconds | req/s | CPU s | CPU ms per request | exit | vs stock "
        "| vs stock, same operations |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['system']} | {row['workload']} | {row['requests']} | {row['seconds']:.1f} | "
            f"{row['rps']:.0f} | {row['cpu_seconds']:.1f} | {row['cpu_ms_per_request']:.2f} | "
            f"{row['exit_code']} | {_ratio(row.get('vs_stock_schemathesis'))} | "
            f"{_ratio(row.get('vs_stock_same_operations'))} |"
        )
    return lines
