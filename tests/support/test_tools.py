"""A test that needs a missing program skips locally and fails in CI, saying what to install."""

from __future__ import annotations

import pytest

from tests.support.tools import has_tool, require_module, require_tool

ABSENT = "no-such-program-for-the-suite"


def test_locally_a_missing_program_skips_with_what_to_install(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"{ABSENT} not found on PATH \\(apt-get install it\\)"):
        require_tool(ABSENT, install="apt-get install it")
    assert has_tool(ABSENT, install="apt-get install it") is False


def test_in_ci_a_missing_program_fails_instead(monkeypatch):
    monkeypatch.setenv("CI", "true")
    for needs in (require_tool, has_tool):
        with pytest.raises(pytest.fail.Exception, match=r"CI must run every test: .* \(apt-get install it\)"):
            needs(ABSENT, install="apt-get install it")


def test_a_program_on_path_is_used(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require_tool("python3", install="-")
    assert has_tool("python3", install="-")


def test_a_missing_python_package_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no_such_module cannot be imported"):
        require_module("no_such_module", install="pip install it")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run every test: no_such_module"):
        require_module("no_such_module", install="pip install it")
    assert require_module("json", install="-").dumps([]) == "[]"
