"""The docs as a user reads them: every code block in README.md and docs/*.md runs, or says why not.

Each fenced block follows a marker comment `<!-- docs: KIND [reason] -->` (CONTRIBUTING.md lists the
kinds). Blocks that run do so against a real mock: `http://127.0.0.1:8787` in a block stands for
the address of the test's own `portkey_mock`. The docs' links and the source paths and modules they
name are checked to exist, so a moved module cannot leave the docs behind.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver import MockConfig, MockServer, create_app
from tests.support.paths import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCUMENTED_URL = "http://127.0.0.1:8787"
MARKER = re.compile(r"<!-- docs: (?P<kind>[a-z-]+)(?: (?P<reason>.*?))? -->")
RUN = {"pytest", "python", "shell", "seed", "keys", "faults", "ci"}
NOT_RUN = {"output", "not-run"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    kind: str | None
    reason: str | None
    language: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The page's fenced blocks, each with the marker on the line before its fence (if any)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, index = [], 0
    while index < len(lines):
        fence = re.match(r"^(```+)(\S*)", lines[index])
        if not fence:
            index += 1
            continue
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].startswith(fence.group(1))), len(lines)
        )
        marker = MARKER.fullmatch(lines[index - 1].strip()) if index else None
        found.append(
            Block(
                page,
                index + 1,
                marker["kind"] if marker else None,
                marker["reason"] if marker else None,
                fence.group(2),
                "\n".join(lines[index + 1 : end]) + "\n",
            )
        )
        index = end + 1
    return found


ALL = [block for page in PAGES for block in blocks(page)]


def runnable(kind: str) -> list:
    return [pytest.param(b, id=b.name) for b in ALL if b.kind == kind]


def outside_fences(page: Path) -> list[tuple[int, str]]:
    """The page's lines that are prose (not inside a fenced block), numbered from 1."""
    prose, fenced = [], False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            prose.append((number, line))
    return prose


# -- every block is run or marked ---------------------------------------------------------------


def test_every_block_is_marked_as_run_or_says_why_not():
    unmarked = [b.name for b in ALL if b.kind is None]
    unknown = [f"{b.name} ({b.kind})" for b in ALL if b.kind and b.kind not in RUN | NOT_RUN]
    unexplained = [b.name for b in ALL if b.kind == "not-run" and not b.reason]
    assert not unmarked, f"code blocks without a `<!-- docs: KIND -->` marker: {unmarked}"
    assert not unknown, f"unknown marker kinds (see CONTRIBUTING.md): {unknown}"
    assert not unexplained, f"`not-run` blocks must say why: {unexplained}"
    assert len([b for b in ALL if b.kind in RUN]) >= 10


def test_no_code_hides_in_an_indented_block():
    """Indented code escapes the markers; every block must be fenced."""
    indented = []
    for page in PAGES:
        previous = ""
        for number, line in outside_fences(page):
            if line.startswith("    ") and not previous.strip() and line.strip():
                indented.append(f"{page.relative_to(ROOT)}:{number}")
            previous = line
    assert not indented, f"indented code blocks (fence them and mark them): {indented}"


# -- links, paths and modules the docs name exist ----------------------------------------------


def test_links_stay_inside_the_repository_or_are_public_urls():
    broken = []
    for page in PAGES:
        for number, line in outside_fences(page):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"https?://", target):
                    continue
                path = (page.parent / target.split("#")[0]).resolve()
                if not path.is_relative_to(ROOT) or not path.exists():
                    broken.append(f"{page.relative_to(ROOT)}:{number} -> {target}")
    assert not broken, f"links to nothing, or outside the repository: {broken}"


def test_every_source_path_and_module_the_docs_name_exists():
    outputs = [line for line in (ROOT / ".gitignore").read_text().splitlines() if "/" in line.rstrip("/")]
    missing = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for path in re.findall(r"`((?:mockserver|contracts|tests|benchmarks)/[\w./-]*)`", text):
            if not (ROOT / path).exists() and not path.startswith(tuple(outputs)):
                missing.append(f"{page.relative_to(ROOT)}: {path}")
        for dotted in set(re.findall(r"`((?:mockserver|contracts)(?:\.\w+)+)", text)):
            if not importable(dotted):
                missing.append(f"{page.relative_to(ROOT)}: {dotted}")
    assert not missing, f"the docs name paths or modules that do not exist: {missing}"


def importable(dotted: str) -> bool:
    """A module, or an attribute of one (`contracts.strategies.keep_service_rules`).

    A module is found, not imported: importing `contracts.schemathesis_hooks` registers its hooks for
    every schemathesis run in this worker."""
    try:
        if importlib.util.find_spec(dotted) is not None:
            return True
    except ModuleNotFoundError:
        pass  # a parent is not a package: an attribute path
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


# -- the blocks that run -------------------------------------------------------------------------


pytest_plugins = ["pytester"]


@pytest.mark.slow  # a subprocess per block
@pytest.mark.parametrize("block", runnable("pytest"))
def test_pytest_block_passes_as_a_test_module(block: Block, pytester):
    module = re.match(r"# (test_\w+)\.py\n", block.code)
    assert module, f"{block.name}: a pytest block starts with its file name, `# test_....py`"
    pytester.makepyfile(**{module.group(1): block.code})
    tests = len(re.findall(r"^def test_", block.code, re.M))
    # In a subprocess: an in-process run restores sys.modules afterwards, so schemathesis's modules
    # imported during it are imported again later as new classes, and a verify run later in this
    # worker failed its isinstance checks (Hook Error, custom checks failing).
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=tests)


@pytest.mark.slow  # a subprocess per block
@pytest.mark.parametrize("block", runnable("python"))
def test_python_block_runs_against_a_mock(block: Block, portkey_mock, tmp_path):
    run([sys.executable, "-c", at(portkey_mock, block.code)], tmp_path, block)
    portkey_mock.assert_all_requests_conform()


@pytest.mark.slow  # a subprocess per block
@pytest.mark.parametrize("block", runnable("shell"))
def test_shell_block_runs_against_a_mock(block: Block, portkey_mock, tmp_path):
    run(["bash", "-e", "-u", "-o", "pipefail", "-c", at(portkey_mock, block.code)], tmp_path, block)
    portkey_mock.assert_all_requests_conform()


@pytest.mark.parametrize("block", runnable("seed"))
def test_seed_block_preloads_its_keys(block: Block, portkey_mock):
    document = yaml.safe_load(block.code)
    answer = httpx.post(f"{portkey_mock.root_url}/__mock/seed", json=document, timeout=30)
    assert answer.status_code == 200, answer.text
    fixed = [k["slug"] for w in document["workspaces"] for k in w["virtual_keys"] if "slug" in k]
    assert set(fixed) <= set(answer.json()["slugs"])


@pytest.mark.parametrize("block", runnable("keys"))
def test_keys_block_starts_a_mock_that_knows_exactly_those_keys(block: Block, tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text(block.code, encoding="utf-8")
    server = MockServer(create_app(MockConfig(keys_path=keys))).start()
    try:

        def list_status(api_key: str) -> int:
            url = f"{server.base_url}/virtual-keys"
            return httpx.get(url, headers={"x-portkey-api-key": api_key}, timeout=30).status_code

        for entry in yaml.safe_load(block.code)["api_keys"]:
            assert list_status(entry["key"]) != 401, entry["key"]
        assert list_status("pk-nobody-knows") == 401
    finally:
        server.stop()


@pytest.mark.parametrize("block", runnable("faults"))
def test_fault_plan_block_is_accepted(block: Block, portkey_mock):
    plan = json.loads(block.code)
    answer = httpx.put(f"{portkey_mock.root_url}/__mock/faults", json=plan, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["seed"] == plan.get("seed", answer.json()["seed"])


@pytest.mark.parametrize("block", runnable("ci"))
def test_ci_block_is_what_ci_runs(block: Block):
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert block.code.strip() in ci, f"{block.name} is not a line of .ci/run"


def at(portkey_mock, code: str) -> str:
    """The block with the documented address replaced by the test's mock."""
    return code.replace(DOCUMENTED_URL, portkey_mock.root_url)


def run(command: list[str], cwd: Path, block: Block) -> None:
    """Run with this environment's `mockserver`, `contracts` and `python3` first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{block.name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
