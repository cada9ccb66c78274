"""`contracts verify` passes the unchanged mock whatever the seed, with any API key and with a keys file.

The whole sweep (seeds 0 to 19, at the default 20 examples and at 50, in both auth modes: 80 runs,
every phase) took an hour on two cores on 2026-12-05, too long for the suite. The suite runs what
varies with the seed: the fuzzing and stateful phases, which draw new data for each seed (the
coverage phase draws a fixed set, the examples phase the contract's examples), for the 20 seeds in
both modes with 3 examples; and one run of every phase at 50 examples in each mode. Set
`VERIFY_SEEDS=all` for the whole sweep (docs/performance.md has its figures).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.verify import VerifyOptions, verify
from mockserver import MockServer, create_app
from mockserver.config import MockConfig

pytestmark = pytest.mark.slow  # whole verify runs against real servers: not in the fast loop

SEEDS = range(20)
ALL = os.environ.get("VERIFY_SEEDS") == "all"
SWEEP: dict[str, Any] = {"max_examples": 3, "phases": ("fuzzing", "stateful")}
WHOLE_SWEEP = [{"max_examples": 20}, {"max_examples": 50}]
KEYS = {"any key": ("k1", "k2"), "keys file": ("pk-seeds-one", "pk-seeds-two")}


@pytest.fixture(params=sorted(KEYS))
def mode(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[MockConfig, str, str]]:
    """A mock config and two API keys: any key accepted, or exactly the two of a keys file."""
    first, second = KEYS[request.param]
    if request.param == "any key":
        yield MockConfig(), first, second
        return
    keys = tmp_path / "keys.yaml"
    lines = [f"  - {{key: {key}, workspace_id: ws-{index}}}" for index, key in enumerate((first, second))]
    keys.write_text("\n".join(["api_keys:", *lines, ""]))
    yield MockConfig(keys_path=keys), first, second


def failures(config: MockConfig, api_key: str, second_api_key: str, **options: Any) -> list[str]:
    """What verify found against a fresh mock, one line per finding; empty when it conforms."""
    server = MockServer(create_app(config)).start()
    try:
        out = io.StringIO()
        settings = VerifyOptions(server.base_url, api_key, second_api_key, **options)
        result = verify(settings, out=out)
    finally:
        server.stop()
    found = [f"seed {options['seed']}: [{f.check}] {f.operation}: {f.message}" for f in result.findings]
    found += [f"seed {options['seed']}: error: {error}" for error in result.errors]
    assert result.exit_code == (1 if found else 0), out.getvalue()
    return found


def test_every_seed_conforms_in_the_phases_that_vary_with_it(mode):
    runs = [{"seed": seed, **settings} for seed in SEEDS for settings in (WHOLE_SWEEP if ALL else [SWEEP])]
    found = [line for run in runs for line in failures(*mode, **run)]
    assert found == [], json.dumps(found, indent=1)


def test_fifty_examples_of_every_phase_conform(mode):
    assert failures(*mode, seed=0, max_examples=50) == []
