"""Faults on demand: latency, error answers, connection faults and a counting rate limiter.

A fault plan is `{"seed": int, "rules": [rule, ...], "rate_limits": [limit, ...]}`. A rule says
which operation it hits (`operation`, default all), how often (`rate`, a probability; `times`,
only the next N matching requests) and what happens: a delay (`latency` with its parameters), an
error answer (`status` the contract declares, `retry_after`, `request_id`) or a connection fault
(`connection`: `reset`, `empty`, `truncated`). A single request can also carry one rule as
`key=value; ...` text in the `x-mock-fault` header. A fault replaces the operation: nothing changes.

Deterministic: whether the n-th request a rule matches is hit, and its delay, are drawn from a
random generator seeded by (seed, rule, n), so a seed repeats a fault sequence exactly, in any
process. Without a seed the mock picks one and reports it, so a failing run can be replayed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from mockserver.contract import strict_json
from mockserver.contract.document import Contract
from mockserver.errors import ApiError, ValidationFailed
from mockserver.state.fault_state import FaultState, Plan
from mockserver.violations import Violation, from_schema_errors

FAULT_HEADER = "x-mock-fault"
REQUEST_ID_HEADER = "x-portkey-request-id"
MAX_LATENCY_MS = 60_000
CONNECTION_FAULTS = ("reset", "empty", "truncated")
LATENCIES = ("fixed", "uniform", "lognormal")
WINDOW_SECONDS = {"rpm": 60, "rph": 3600, "rpd": 86400}
_LATENCY_PARAMETERS = {
    "fixed": ("latency_ms",),
    "uniform": ("latency_min_ms", "latency_max_ms"),
    "lognormal": ("latency_median_ms", "latency_sigma"),
}

_MS = {"type": "number", "minimum": 0, "maximum": MAX_LATENCY_MS}
_EFFECT = {
    "status": {"type": "integer"},
    "retry_after": {"type": "integer", "minimum": 0, "maximum": 86400},
    "request_id": {"type": "boolean"},
    "connection": {"enum": list(CONNECTION_FAULTS)},
    "latency": {"enum": list(LATENCIES)},
    "latency_ms": _MS,
    "latency_min_ms": _MS,
    "latency_max_ms": _MS,
    "latency_median_ms": _MS,
    "latency_sigma": {"type": "number", "minimum": 0, "maximum": 5},
}
_RULE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        **_EFFECT,
        "operation": {"type": "string"},
        "rate": {"type": "number", "minimum": 0, "maximum": 1},
        "times": {"type": "integer", "minimum": 1},
    },
}
_HEADER_RULE = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": _EFFECT}
_PLAN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "seed": {"type": "integer"},
        "rules": {"type": "array", "items": _RULE},
        "rate_limits": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "unit", "value"],
                "properties": {
                    "type": {"const": "requests"},
                    "unit": {"enum": list(WINDOW_SECONDS)},
                    "value": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Fault:
    """What an injected fault does to one request; the default does nothing."""

    delay_ms: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    request_id: bool = False
    connection: str | None = None
    rate_limits: tuple[dict[str, Any], ...] = ()
    """The plan's rate limits, read with the rules: the request's one read of the plan."""

    def error(self) -> ApiError:
        """The error answer this fault gives, in Portkey's envelope."""
        assert self.status is not None
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.request_id:
            headers[REQUEST_ID_HEADER] = secrets.token_hex(16)
        message = f"{HTTPStatus(self.status).phrase} (injected fault)"
        return ApiError.for_status(message, self.status, headers)


def parse_rule_text(text: str, where: str) -> dict[str, Any]:
    """`status=503; request_id=true` -> `{"status": 503, "request_id": True}` (values read as JSON)."""
    rule: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, equals, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise ValidationFailed([Violation(where, "must be key=value pairs separated by ';'")])
        try:
            rule[name] = strict_json.loads(value.strip())
        except ValueError:  # TooDeep and NaN, Infinity or 1e400 (OddNumbers) too
            rule[name] = value.strip()  # a word such as `reset`; the schema judges it
    return rule


NO_FAULT = Fault()
"""The fault of a request no fault applies to."""


class Faults:
    """Decides each request's fault from the plan, its counters and the request's own header."""

    def __init__(
        self,
        contract: Contract,
        state: FaultState,
        clock: Callable[[], float] = time.time,
        connection_faults: bool = True,
    ) -> None:
        self.contract = contract
        self.state = state
        self.clock = clock
        self.connection_faults = connection_faults
        """Whether the server can break a connection on demand (waitress can, granian cannot)."""

    def set_plan(self, document: Any, where: str = "faults") -> Plan:
        """Validate and install a plan (starting its counters afresh); the plan with its seed."""
        plan = self._checked_plan(document, where)
        self.state.save(plan)
        return plan

    def plan(self) -> Plan:
        return self.state.load() or {"rules": [], "rate_limits": []}

    def clear(self) -> None:
        self.state.clear()

    def counters(self) -> dict[str, int]:
        """Requests each rule has matched since the plan was set, keyed by rule index (as JSON keys)."""
        return {str(index): count for index, count in sorted(self.state.matches().items())}

    def for_request(
        self, operation_id: str, headers: Mapping[str, str], assume_no_plan: bool = False
    ) -> Fault:
        """The fault for one request to `operation_id`; a header rule comes first.

        `NO_FAULT` itself when nothing applies, which is every request of a mock without faults.
        `assume_no_plan` skips reading the plan, for a caller that has the store check its absence
        (mockserver/state/trip.py).
        """
        header = headers.get(FAULT_HEADER)
        if assume_no_plan and header is None:
            return NO_FAULT
        plan = self.state.load()
        if plan is None and header is None:
            return NO_FAULT
        limits = tuple(plan["rate_limits"]) if plan else ()
        if header is None and not (plan and plan["rules"]):
            return Fault(rate_limits=limits) if limits else NO_FAULT
        effects: list[dict[str, Any]] = []
        if header is not None:
            where = f"header.{FAULT_HEADER}"
            rule = parse_rule_text(header, where)
            self._check_rule(rule, _HEADER_RULE, where, operation_id)
            effects.append(_with_sample(rule, random.Random(f"header:{header}")))
        for index, rule in enumerate(plan["rules"] if plan else []):
            if rule.get("operation", "*") not in ("*", operation_id):
                continue
            n = self.state.next_match(index)
            if n > rule.get("times", math.inf):
                continue
            assert plan is not None  # the loop runs over its rules
            draws = random.Random(f"{plan['seed']}:{index}:{n}")
            if draws.random() < rule.get("rate", 1.0):
                effects.append(_with_sample(rule, draws))
        return dataclasses.replace(_combined(effects), rate_limits=limits)

    def plan_is_set(self) -> bool:
        return self.state.load() is not None

    def may_hold(self, headers: Mapping[str, str]) -> bool:
        """Whether a fault may hold a request with these headers: wait a delay or break its
        connection. Only a header rule (judged when the request is served) or a plan with a rule
        that delays or breaks a connection can; error answers and rate limits answer at once."""
        if FAULT_HEADER in headers:
            return True
        plan = self.state.load()
        return plan is not None and any(_holds(rule) for rule in plan["rules"])

    def check_rate_limit(self, api_key: str, limits: tuple[dict[str, Any], ...] | None = None) -> None:
        """Count a request of `api_key`; 429 AB06 with `Retry-After` once a limit of the plan is spent.

        `limits` are those `for_request` read for the same request; None reads the plan again.
        """
        if limits is None:
            plan = self.state.load()
            limits = tuple(plan["rate_limits"]) if plan else ()
        if not limits:
            return
        who = hashlib.sha256(api_key.encode()).hexdigest()[:16]  # never the key itself
        now = self.clock()
        waits = []
        for limit in limits:
            if limit["value"] == 0:
                continue  # Portkey's meaning of 0: no limit
            window = WINDOW_SECONDS[limit["unit"]]
            index = int(now // window)
            if self.state.count_request(f"{who}:{limit['unit']}:{index}", 2 * window) > limit["value"]:
                waits.append(math.ceil((index + 1) * window - now))
        if waits:
            message = "Rate limit exceeded for this API key"
            raise ApiError.for_status(message, 429, {"Retry-After": str(max(1, max(waits)))})

    def _checked_plan(self, document: Any, where: str) -> Plan:
        from jsonschema import Draft202012Validator  # only with faults: slow to import (30 ms)

        errors = list(Draft202012Validator(_PLAN).iter_errors(document))
        if errors:
            raise ValidationFailed(from_schema_errors(errors, where))
        violations = []
        for index, rule in enumerate(document.get("rules", [])):
            violations += self._rule_violations(rule, f"{where}.rules[{index}]")
        if violations:
            raise ValidationFailed(violations)
        seed = document.get("seed", secrets.randbelow(2**31))
        return {
            "seed": seed,
            "rules": document.get("rules", []),
            "rate_limits": document.get("rate_limits", []),
        }

    def _check_rule(
        self, rule: dict[str, Any], schema: dict[str, Any], where: str, operation_id: str
    ) -> None:
        from jsonschema import Draft202012Validator

        errors = list(Draft202012Validator(schema).iter_errors(rule))
        if errors:
            raise ValidationFailed(from_schema_errors(errors, where))
        violations = self._rule_violations(rule, where, operation_id)
        if violations:
            raise ValidationFailed(violations)

    def _rule_violations(self, rule: dict[str, Any], where: str, default: str = "*") -> list[Violation]:
        """The rules between fields that the schema above does not state."""
        found = []
        operation = rule.get("operation", default)
        operations = list(self.contract.operations) if operation == "*" else [operation]
        if operation not in ("*", *self.contract.operations):
            found.append(Violation(f"{where}.operation", "must be * or an operationId of the contract"))
            operations = []
        if "status" in rule:
            undeclared = [
                op for op in operations if rule["status"] not in self.contract.declared_statuses(op)
            ]
            if undeclared or rule["status"] < 400:
                rule_text = f"must be an error status the contract declares for {', '.join(operations)}"
                found.append(Violation(f"{where}.status", rule_text))
            if "connection" in rule:
                found.append(Violation(f"{where}.connection", "cannot be combined with status"))
        if "connection" in rule and not self.connection_faults:
            rule_text = "needs the waitress server: start the mock with `mockserver serve --server waitress`"
            found.append(Violation(f"{where}.connection", rule_text))
        if not any(k in rule for k in ("status", "connection", "latency", *_all_latency_parameters())):
            found.append(Violation(where, "must set status, connection or latency"))
        found += _latency_violations(rule, where)
        return found


def _holds(rule: dict[str, Any]) -> bool:
    """Whether a rule waits a delay or breaks the connection (rather than only answering an error)."""
    return "connection" in rule or "latency" in rule or any(p in rule for p in _all_latency_parameters())


def _all_latency_parameters() -> tuple[str, ...]:
    return tuple(p for params in _LATENCY_PARAMETERS.values() for p in params)


def _latency_violations(rule: dict[str, Any], where: str) -> list[Violation]:
    given = [p for p in _all_latency_parameters() if p in rule]
    if not given and "latency" not in rule:
        return []
    kind = rule.get("latency", "fixed")
    wanted = _LATENCY_PARAMETERS[kind]
    found = [Violation(f"{where}.{p}", f"is required for latency {kind}") for p in wanted if p not in rule]
    found += [
        Violation(f"{where}.{p}", f"does not apply to latency {kind}") for p in given if p not in wanted
    ]
    if kind == "uniform" and not found and rule["latency_min_ms"] > rule["latency_max_ms"]:
        found.append(Violation(f"{where}.latency_min_ms", "must not be above latency_max_ms"))
    return found


def _with_sample(rule: dict[str, Any], draws: random.Random) -> dict[str, Any]:
    """The rule's effect with its delay drawn (milliseconds, capped at MAX_LATENCY_MS)."""
    kind = rule.get("latency", "fixed" if "latency_ms" in rule else None)
    delay = 0.0
    if kind == "fixed":
        delay = rule["latency_ms"]
    elif kind == "uniform":
        delay = draws.uniform(rule["latency_min_ms"], rule["latency_max_ms"])
    elif kind == "lognormal":
        delay = rule["latency_median_ms"] * math.exp(rule["latency_sigma"] * draws.gauss(0.0, 1.0))
    return {**rule, "delay_ms": min(delay, MAX_LATENCY_MS)}


def _combined(effects: list[dict[str, Any]]) -> Fault:
    """Delays add up; the first error answer or connection fault decides how the request ends."""
    delay = sum(effect["delay_ms"] for effect in effects)
    ending = next((e for e in effects if "status" in e or "connection" in e), None)
    if ending is None:
        return Fault(delay_ms=delay)
    retry_after = ending.get("retry_after", 1 if ending.get("status") == 429 else None)
    return Fault(
        delay_ms=delay,
        status=ending.get("status"),
        retry_after=retry_after,
        request_id=ending.get("request_id", False),
        connection=ending.get("connection"),
    )
