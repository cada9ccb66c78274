"""The benchmark harness runs end to end in a few seconds: a table, a JSON file, every row there.

No timing is asserted: the numbers depend on the machine. Only that each system and workload has
a row, with a measurement or the reason it was skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from benchmarks import toolkit
from tests.support.paths import ROOT
from tests.support.tools import has_tool

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

SHORT_RUN = ["--seconds", "1", "--rounds", "1", "--starts", "1", "--workloads", "retrieve", "--no-prism"]


def _harness(
    tmp_path: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    redis: bool = False,
    toolkit: bool = False,
) -> tuple[str, dict]:
    output = tmp_path / "bench.json"
    leave_out = ([] if redis else ["--no-redis"]) + ([] if toolkit else ["--no-toolkit"])
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *SHORT_RUN, *leave_out, "--output", str(output), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(output.read_text())


def test_a_one_second_run_gives_every_row_in_the_table_and_the_json(tmp_path):
    wrk = has_tool("wrk", install="apt-get install wrk")
    printed, results = _harness(tmp_path, "--large", "300")
    rows = {(row["system"], row["workload"]): row for row in results["rows"]}
    assert set(rows) == {
        ("baseline", "retrieve"),
        ("mock", "retrieve"),
        ("mock, 100 keys", "retrieve"),
        ("mock, 300 keys", "retrieve"),
        ("mock, 100 keys", "list"),
        ("mock, 300 keys", "list"),
    }
    for row in rows.values():
        if wrk:
            assert row["rps"] > 0 and row["failed"] == 0 and row["p99_ms"] >= row["p50_ms"] > 0
        else:
            assert row["skipped"] == "wrk is not installed (apt-get install wrk)"
    if wrk:
        assert rows[("mock", "retrieve")]["vs_baseline"] > 0
        assert "| mock | retrieve |" in printed
    assert results["startup_seconds"]["mock"] > 0
    assert results["startup_cpu_seconds"]["mock"] > 0  # the process and its granian worker
    assert f"start to first 200, mock: {results['startup_seconds']['mock']:.3f} s (CPU " in printed
    assert isinstance(results["data"]["memory_per_key_bytes"], int)
    assert "machine:" in printed


def test_the_configs_lifecycle_runs_on_the_mock_and_the_baseline_side_by_side(tmp_path):
    wrk = has_tool("wrk", install="apt-get install wrk")
    printed, results = _harness(tmp_path, "--large", "0", "--workloads", "configs")
    rows = {(row["system"], row["workload"]): row for row in results["rows"]}
    assert set(rows) == {("baseline", "configs"), ("mock", "configs")}
    if not wrk:
        assert {row["skipped"] for row in rows.values()} == {"wrk is not installed (apt-get install wrk)"}
        return
    for row in rows.values():
        assert row["rps"] > 0 and row["failed"] == 0  # every create, read, list, update, delete answered 2xx
        assert row["created"] > 0  # the lifecycle read the configs it made, so it acted on them
    mock, baseline = rows[("mock", "configs")], rows[("baseline", "configs")]
    assert mock["vs_baseline"] == pytest.approx(mock["rps"] / baseline["rps"], abs=0.01)
    assert "| mock | configs |" in printed


def test_a_missing_load_generator_skips_its_rows_and_says_why(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no wrk on this PATH
    printed, results = _harness(tmp_path, "--large", "0", env=env)
    assert [row["skipped"] for row in results["rows"]] == ["wrk is not installed (apt-get install wrk)"] * 2
    assert "skipped: wrk is not installed" in printed


def test_prism_without_node_is_skipped_with_the_reason(tmp_path, monkeypatch):
    from benchmarks import systems

    monkeypatch.setattr(systems, "PRISM", tmp_path / "not-installed" / "prism")
    monkeypatch.setattr(systems.shutil, "which", lambda _name: None)
    missing = systems.prism().missing
    assert missing == "Node.js and npm are missing (apt-get install nodejs npm), so Prism cannot run"


def test_the_redis_rows_compare_the_store_with_memory_and_each_worker_count_with_one(tmp_path):
    redis = has_tool("redis-server", install="apt-get install redis-server")
    wrk = has_tool("wrk", install="apt-get install wrk")
    printed, results = _harness(tmp_path, "--large", "0", "--workers", "1", "2", redis=True)
    rows = {row["system"]: row for row in results["rows"] if row.get("shared_state")}
    assert set(rows) == {
        "mock, memory",
        "mock, redis",
        "one Redis trip alone",
        "mock, redis, 1 workers",
        "mock, redis, 2 workers",
    }
    for row in rows.values():
        assert "vs_baseline" not in row  # another server and store: not compared with the baseline
        if not redis and row["system"] != "mock, memory":
            assert row["skipped"] == "redis-server is not installed (apt-get install redis-server)"
        elif wrk:
            assert row["rps"] > 0 and row["failed"] == 0
            assert 0 < row["cores_busy"] <= (os.cpu_count() or 1)
    if redis and wrk:
        assert rows["mock, redis"]["vs_memory"] > 0
        assert rows["one Redis trip alone"]["vs_memory"] > 0  # the floor of any one-trip design
        assert rows["mock, redis, 2 workers"]["vs_one_worker"] > 0
        assert "| mock, redis, 2 workers | retrieve |" in printed
        assert "| one Redis trip alone | retrieve |" in printed


def test_the_toolkit_rows_put_verify_beside_stock_schemathesis_and_time_check_traffic(tmp_path):
    toolkit = ["--toolkit-examples", "1", "--toolkit-phases", "examples", "--toolkit-journal", "300"]
    printed, results = _harness(tmp_path, "--large", "0", *toolkit, toolkit=True)
    rows = {row["system"]: row for row in results["rows"] if row.get("toolkit")}
    same = "stock schemathesis, verify's operations"
    assert set(rows) == {"stock schemathesis", same, "contracts verify", "contracts check-traffic"}
    for row in rows.values():
        assert row["requests"] > 0 and row["seconds"] > 0 and row["cpu_seconds"] > 0
    assert rows["contracts verify"]["exit_code"] == 0  # the mock conforms
    assert rows["contracts check-traffic"]["requests"] == 300
    ratio = rows["contracts verify"]["rps"] / rows["stock schemathesis"]["rps"]
    assert rows["contracts verify"]["vs_stock_schemathesis"] == pytest.approx(ratio, abs=0.01)
    assert rows[same]["requests"] < rows["stock schemathesis"]["requests"]  # verify's operations only
    ratio = rows["contracts verify"]["rps"] / rows[same]["rps"]
    assert rows["contracts verify"]["vs_stock_same_operations"] == pytest.approx(ratio, abs=0.01)
    assert "| contracts verify | contract test |" in printed
    assert results["settings"]["toolkit"]["journal_entries"] == 300


def test_stock_schemathesis_on_verify_s_operations_is_told_what_verify_s_schemathesis_phases_test(tmp_path):
    """The like-for-like row: stock schemathesis skips what verify leaves out or to its scenarios
    (a declared resource's writes, a log's insert), and tests the admin reads no lifecycle drives
    in the examples and fuzzing phases only, as verify does."""
    selection = tomllib.loads(toolkit.verify_selection(tmp_path).read_text(encoding="utf-8"))
    skipped, sampled = selection["operations"]
    assert skipped["enabled"] is False
    assert {"createConfig", "updateConfig", "deleteConfig", "insertLogs", "getModelPricing"} <= set(
        skipped["include-operation-id"]
    )
    assert not {"listConfigs", "getConfig", "createVirtualKey"} & set(skipped["include-operation-id"])
    assert {"getCostGraph", "listAuditLogs"} <= set(sampled["include-operation-id"])
    assert sampled["phases"] == {"coverage": {"enabled": False}, "stateful": {"enabled": False}}
