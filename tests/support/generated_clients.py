"""A Python client generated from an OpenAPI document by openapi-python-client, as its users make one,
and a way to call its operations by `METHOD /path` so one lifecycle runs through any such client.

The client is generated at test time into a temporary folder: neither the generated code nor
Portkey's published spec is kept in the repository.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = "literal_enums: true\npost_hooks: []\n"
"""Enums as literal strings: with classes, the published spec does not generate at all (two values of
`ContainsCodeParameters.format`, `C#` and `C`, both become the member `C`). No formatter run after."""

_URL = re.compile(r'"method": "(\w+)",\s*"url": "([^"]+)"')
_PARAMETER = re.compile(r"\{[^}]*\}")


def generate(document: Path, folder: Path, package: str) -> subprocess.CompletedProcess[str]:
    """Run the generator on `document` into the package `folder/package`; what it printed."""
    config = folder / "generator.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    arguments = ["--path", str(document), "--output-path", str(folder / package), "--meta", "none"]
    return subprocess.run(
        [str(GENERATOR), "generate", *arguments, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass
class GeneratedClient:
    """An imported generated package, its `Client` pointed at a mock with an API key."""

    package: ModuleType
    base_url: str
    api_key: str
    operations: dict[str, ModuleType] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path, name: str, base_url: str, api_key: str) -> GeneratedClient:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        package = importlib.import_module(name)
        made = cls(package, base_url, api_key)
        for path in sorted((folder / name / "api").rglob("*.py")):
            if found := _URL.search(path.read_text(encoding="utf-8")):
                module = ".".join(path.relative_to(folder).with_suffix("").parts)
                key = f"{found[1].upper()} {_PARAMETER.sub('{}', found[2])}"
                made.operations[key] = importlib.import_module(module)
        return made

    def call(self, operation: str, *path: Any, body: dict[str, Any] | None = None, **query: Any) -> Any:
        """Send `operation` ("GET /virtual-keys/{slug}") through the generated function and return
        what the client parsed; an answer its models cannot read raises, as it would for a user.

        The generated function returns an error status as a value (a model where its document lists
        the status, else None): it raises `ErrorAnswer` here, as a user checking the status would."""
        function, client, arguments = self._prepared(operation, "sync_detailed", body, query)
        return _parsed(function(*path, client=client, **arguments))

    async def acall(
        self, operation: str, *path: Any, body: dict[str, Any] | None = None, **query: Any
    ) -> Any:
        """`call` through the generated async function."""
        function, client, arguments = self._prepared(operation, "asyncio_detailed", body, query)
        return _parsed(await function(*path, client=client, **arguments))

    def _prepared(
        self, operation: str, kind: str, body: dict[str, Any] | None, query: dict[str, Any]
    ) -> tuple[Callable[..., Any], Any, dict[str, Any]]:
        method, template = operation.split(" ", 1)
        function = getattr(self.operations[f"{method} {_PARAMETER.sub('{}', template)}"], kind)
        arguments: dict[str, Any] = dict(query)
        if body is not None:
            arguments["body"] = _model(inspect.signature(function).parameters["body"].annotation, body)
        client = importlib.import_module(f"{self.package.__name__}.client").Client(
            base_url=self.base_url,
            headers={"x-portkey-api-key": self.api_key},
            raise_on_unexpected_status=False,
        )
        return function, client, arguments


def _parsed(answer: Any) -> Any:
    if answer.status_code >= 400:
        raise ErrorAnswer(answer.status_code, answer.content)
    return answer.parsed


class ErrorAnswer(Exception):
    """An error status the generated function returned instead of raising."""

    def __init__(self, status: int, content: bytes) -> None:
        super().__init__(f"{status}: {content.decode(errors='replace')}")
        self.status = status


def _model(annotation: Any, body: dict[str, Any]) -> Any:
    """`body` as the first generated model of a body annotation that reads it (`Model`, `Model | Unset`,
    or a union of models for a oneOf, where a user would pick the one that fits)."""
    problems = []
    for candidate in getattr(annotation, "__args__", (annotation,)):
        if hasattr(candidate, "from_dict"):
            try:
                return candidate.from_dict(body)
            except (KeyError, TypeError, ValueError) as problem:
                problems.append(f"{candidate.__name__}: {problem!r}")
    raise TypeError(f"no model of {annotation!r} reads the body: {problems}")
