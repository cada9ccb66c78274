"""A parity run as text for people, JSON for tools and a self-contained HTML page.

What the reports show of an answer went through the snapshot's redaction (`clean_answer`) first;
the HTML page escapes every value, as anything a client or a service sent is data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.parity.command import ParityResult
from contracts.reporting import render_html


def as_dict(result: ParityResult, threshold: float) -> dict[str, Any]:
    return {
        "snapshot": result.snapshot,
        "base_url": result.base_url,
        "run_id": result.run_id,
        "score": round(result.score, 2),
        "threshold": threshold,
        "passed": result.score >= threshold,
        "operations": result.operations(),
        "exchanges": [
            {
                "exchange": parity.exchange,
                "operation": parity.operation,
                "fields": parity.fields,
                "matching": parity.matching,
                "differences": [difference.as_dict() for difference in parity.differences],
            }
            for parity in result.exchanges
        ],
        "cleanup": {"removed": result.removed, "left_behind": result.left_behind},
    }


def text(result: ParityResult, threshold: float) -> str:
    lines = [f"Parity of {result.base_url} with {result.snapshot} (run {result.run_id}):"]
    for operation, counts in result.operations().items():
        lines.append(
            f"  {operation}: {counts['score']:.2f}% ({counts['matching']} of {counts['fields']} fields, "
            f"{counts['exchanges']} exchanges)"
        )
    for parity in result.exchanges:
        if parity.differences:
            lines.append(f"{parity.exchange}")
            lines += [f"    {difference}" for difference in parity.differences]
    if result.left_behind:
        lines.append("Could not remove what the run created: " + ", ".join(result.left_behind))
    verdict = "at or above" if result.score >= threshold else "below"
    lines.append(f"Parity {result.score:.2f}%, {verdict} the threshold of {threshold:g}%.")
    return "\n".join(lines)


def write_json(result: ParityResult, threshold: float, path: Path) -> None:
    path.write_text(
        json.dumps(as_dict(result, threshold), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def write_html(result: ParityResult, threshold: float, path: Path) -> None:
    page = render_html("parity.html", report=as_dict(result, threshold))
    path.write_text(page, encoding="utf-8")
