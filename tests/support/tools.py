"""Tests that need a program the Python install does not bring (redis-server, node and npm, wrk,
chromium), or an optional Python package.

Locally a missing program skips the test, saying what to install. In CI (`CI` set, as `.ci/run`
runs) it fails the test instead: CI installs every such program, so a missing one is a broken
set-up, not a reason to pass with fewer tests.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest


def missing(*programs: str) -> list[str]:
    return [program for program in programs if shutil.which(program) is None]


def require_tool(*programs: str, install: str) -> None:
    """Skip (locally) or fail (in CI) the calling test unless every program is on PATH."""
    if absent := missing(*programs):
        message = f"{' and '.join(absent)} not found on PATH ({install})"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test: {message}", pytrace=False)
        pytest.skip(message)


def has_tool(*programs: str, install: str) -> bool:
    """Whether every program is on PATH, for a test that checks either case; in CI it must be."""
    if absent := missing(*programs):
        if os.environ.get("CI"):
            pytest.fail(
                f"CI must run every test: {' and '.join(absent)} not found on PATH ({install})", pytrace=False
            )
        return False
    return True


def require_module(name: str, *, install: str) -> ModuleType:
    """The module `name`; if it cannot be imported, skip (locally) or fail (in CI) the caller."""
    try:
        return importlib.import_module(name)
    except ImportError:
        message = f"{name} cannot be imported ({install})"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test: {message}", pytrace=False)
        pytest.skip(message, allow_module_level=True)
