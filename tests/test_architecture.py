"""The house as ARCHITECTURE.md draws it: every folder on the map, imports only downward, no loops."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

LAYERS = [
    ("facts", ["mockserver.violations", "mockserver.errors", "mockserver.jsontext"]),
    ("contract", ["mockserver.contract"]),
    ("state", ["mockserver.state"]),
    (
        "domain and API",
        [
            "mockserver.resources",
            "mockserver.access",
            "mockserver.responses",
            "mockserver.journal",
        ],
    ),
    ("faults", ["mockserver.faults"]),
    (
        "HTTP",
        ["mockserver.wsgi", "mockserver.api", "mockserver.control", "mockserver.app", "mockserver.config"],
    ),
    ("snapshots", ["mockserver.snapshots"]),
    ("serving", ["mockserver.serving", "mockserver.cli", "mockserver.client", "mockserver.pytest_plugin"]),
    ("toolkit, shared", ["contracts.redaction", "contracts.reporting", "contracts.strategies"]),
    (
        "toolkit commands",
        [
            "contracts.verify",
            "contracts.traffic",
            "contracts.drift",
            "contracts.parity",
            "contracts.schemathesis_hooks",
        ],
    ),
    ("toolkit command line", ["contracts.cli", "contracts.__main__"]),
]
"""Each module's layer, bottom first; a module may import from its own layer or any below it."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in ("mockserver", "contracts")
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    return None


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("mockserver", "contracts")}


COMMANDS = ["contracts.verify", "contracts.traffic", "contracts.drift", "contracts.parity"]
"""The toolkit's command packages: each stands alone on the shared modules below it."""


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_every_module_has_a_layer():
    faces = {"mockserver", "contracts"}  # the packages' own faces re-export what lies below them
    assert [name for name in _modules() if name not in faces and _layer(name) is None] == []


def test_no_import_runs_up_a_layer():
    upward = []
    for module, path in _modules().items():
        own = _layer(module)
        for imported in _imports(path):
            theirs = _layer(imported)
            if own is not None and theirs is not None and theirs > own:
                upward.append(f"{module} imports {imported} ({LAYERS[theirs][0]} is above {LAYERS[own][0]})")
    assert upward == []


def test_the_mock_never_imports_the_toolkit():
    offenders = [
        module
        for module, path in _modules().items()
        if module.startswith("mockserver") and any(name.startswith("contracts") for name in _imports(path))
    ]
    assert offenders == []


def test_the_toolkit_commands_never_import_one_another():
    crossing = [
        f"{module} imports {imported}"
        for module, path in _modules().items()
        for imported in _imports(path)
        for own in COMMANDS
        for other in COMMANDS
        if other != own and _within(module, own) and _within(imported, other)
    ]
    assert crossing == []


def test_there_are_no_import_loops_between_modules():
    modules = _modules()
    graph = {
        module: {name for name in _imports(path) if name in modules and name != module}
        for module, path in modules.items()
    }
    # Package faces (`__init__`) re-export their own modules: not a loop of the design.
    for module in graph:
        graph[module] = {name for name in graph[module] if not module.startswith(name + ".")}
    state: dict[str, int] = {}
    loops: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                loops.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert loops == []


@pytest.mark.parametrize(
    "folder",
    sorted(
        str(path.relative_to(ROOT))
        for package in ("mockserver", "contracts")
        for path in [ROOT / package, *(ROOT / package).rglob("*")]
        if path.is_dir() and (path / "__init__.py").exists()
    ),
)
def test_architecture_md_names_every_folder(folder):
    assert f"{folder}/" in (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_at_most_fourteen_modules_sit_directly_in_the_mock():
    assert len(list((ROOT / "mockserver").glob("*.py"))) <= 14
