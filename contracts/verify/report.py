"""What a verify run found, and the writers that show it: terminal, JUnit XML, JSON, HTML.

The writers know nothing of each other or of how the run was made; each takes a `VerifyResult`.
Every text here was redacted by the run: no secret it sent can appear in a report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from contracts.reporting import render_html
from mockserver import jsontext


@dataclass(frozen=True)
class Finding:
    """One failed check on one request, with a curl command that repeats the request."""

    check: str
    operation: str
    message: str
    phase: str
    curl: str
    request: str = ""
    """The request as sent (method, URL, body), secret fields as placeholders."""
    response: str = ""
    """The response's status and the start of its body, redacted; empty if there was no answer."""


@dataclass
class VerifyResult:
    base_url: str
    run_id: str
    seed: int | None
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks_passed: Counter[str] = field(default_factory=Counter)
    checks_failed: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    """Requests sent, per operation label."""
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.findings or self.errors or self.interrupted else 0

    def failures_by_operation(self) -> Counter[str]:
        return Counter(finding.operation for finding in self.findings)


def write_terminal(result: VerifyResult, out: TextIO) -> None:
    """The summary per operation and per check, then every failure with its reproduction."""
    print("\nOperations:", file=out)
    failures = result.failures_by_operation()
    operations = sorted(set(result.requests) | set(failures))
    width = max(map(len, operations), default=0)  # one column, however long the longest path
    for operation in operations:
        sent, failed = result.requests[operation], failures[operation]
        print(f"  {operation:<{width}} {sent:>6} requests {failed:>4} failed", file=out)
    print("\nChecks:", file=out)
    checks = _check_counts(result)
    width = max(map(len, checks), default=0)
    for name, counts in checks.items():
        passed, failed = counts["passed"], counts["failed"]
        state = "FAILED" if failed else "ok"
        print(f"  {name:<{width}} {state:<7} {passed:>6} passed {failed:>4} failed", file=out)
    for number, finding in enumerate(_distinct(result.findings), start=1):
        print(f"\n{number}. [{finding.check}] {finding.operation} ({finding.phase})", file=out)
        print(f"   {finding.message}", file=out)
        print(f"   reproduce: {finding.curl}", file=out)
    for error in result.errors:
        print(f"\nerror: {error}", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    verdict = _verdict(result)
    sent = sum(result.requests.values())
    distinct = len(_distinct(result.findings))
    print(f"\n{result.base_url} {verdict}: {distinct} distinct failure(s), {sent} requests", file=out)
    if result.seed is not None:
        print(f"reproduce this run with --seed {result.seed}", file=out)


def write_junit(result: VerifyResult, path: Path) -> None:
    """One test case per (operation, check) that was judged; failures carry the reproduction."""
    by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_case[(finding.operation, finding.check)].append(finding)
    checks = list(_check_counts(result))
    suite = ElementTree.Element(
        "testsuite",
        name="contracts verify",
        tests=str(len(checks) + len(by_case)),
        failures=str(len(by_case)),
        errors=str(len(result.errors)),
    )
    for name in checks:
        if not result.checks_failed[name]:
            ElementTree.SubElement(suite, "testcase", classname="checks", name=name)
    for (operation, check), findings in sorted(by_case.items()):
        case = ElementTree.SubElement(suite, "testcase", classname=operation, name=check)
        failure = ElementTree.SubElement(case, "failure", message=findings[0].message, type=check)
        failure.text = "\n\n".join(f"{f.message}\n{f.curl}" for f in _distinct(findings))
    for error in result.errors:
        case = ElementTree.SubElement(suite, "testcase", classname="run", name="error")
        ElementTree.SubElement(case, "error", message=error)
    ElementTree.indent(suite)
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_json(result: VerifyResult, path: Path) -> None:
    document = {
        "base_url": result.base_url,
        "run_id": result.run_id,
        "seed": result.seed,
        "exit_code": result.exit_code,
        "interrupted": result.interrupted,
        "requests": dict(result.requests),
        "checks": _check_counts(result),
        "failures": [asdict(finding) for finding in _distinct(result.findings)],
        "errors": result.errors,
        "notes": result.notes,
    }
    path.write_text(jsontext.dumps(document, indent=2) + "\n", encoding="utf-8")


def _distinct(findings: list[Finding]) -> list[Finding]:
    """One finding per (check, operation, message): a defect is shown once, not per example."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.check, finding.operation, finding.message), finding)
    return list(seen.values())


def write_html(result: VerifyResult, path: Path) -> None:
    """One self-contained page: verdict, checks, operations, and each failure with its reproduction."""
    failures = result.failures_by_operation()
    operations = sorted(set(result.requests) | set(failures))
    path.write_text(
        render_html(
            "verify.html",
            result=result,
            verdict=_verdict(result),
            total_requests=sum(result.requests.values()),
            checks=_check_counts(result),
            operations=operations,
            by_operation=failures,
            failures=_distinct(result.findings),
        ),
        encoding="utf-8",
    )


def _check_counts(result: VerifyResult) -> dict[str, dict[str, int]]:
    """Each check that ran, by name: how many times it passed and failed."""
    return {
        name: {"passed": result.checks_passed[name], "failed": result.checks_failed[name]}
        for name in sorted(set(result.checks_passed) | set(result.checks_failed))
    }


def _verdict(result: VerifyResult) -> str:
    if result.interrupted:
        return "was interrupted before the run finished"
    return "conforms" if result.exit_code == 0 else "does NOT conform"
