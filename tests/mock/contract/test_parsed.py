"""A contract file is parsed once per version: read back from the cache it is the same document, an
edited file is parsed anew, and a cache that cannot be used only costs the parse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from mockserver.contract import parsed
from mockserver.contract.document import Contract, ContractUnusable
from tests.support.paths import ROOT

DOCUMENT = """\
openapi: 3.1.0
shared: &shared {minimum: 1, maximum: 1.5, flag: true, none: null}
first: *shared
responses:
  200: {description: an integer key, as YAML reads it}
  "404": {description: a string key}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(parsed.CACHE_VARIABLE, str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("contract-*.marshal")) if folder.exists() else []


def _never_parsed(data: bytes) -> None:
    raise AssertionError("parsed again: the read did not come from the cache")


def test_a_document_read_again_is_the_one_yaml_parses_with_its_types_and_shared_nodes(
    tmp_path, cache, monkeypatch
):
    path = tmp_path / "contract.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    first = parsed.read_document(path)

    monkeypatch.setattr(parsed, "_parse", _never_parsed)
    again = parsed.read_document(path)

    assert len(_entries(cache)) == 1
    expected = yaml.load(DOCUMENT, Loader=yaml.CSafeLoader)
    assert first == again == expected
    assert list(again["responses"]) == [200, "404"]  # an integer key stays an integer
    assert again["shared"] is again["first"]  # an anchor and its alias stay one node


def test_an_edited_file_is_parsed_anew(tmp_path, cache):
    path = tmp_path / "contract.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    parsed.read_document(path)

    path.write_text(DOCUMENT.replace("maximum: 1.5", "maximum: 2.5"), encoding="utf-8")

    assert parsed.read_document(path)["shared"]["maximum"] == 2.5


def test_the_project_contract_loads_the_same_from_the_cache(cache):
    contract = ROOT / "openapi.yaml"
    fresh = Contract(contract)
    assert _entries(cache)  # written by that load
    cached = Contract(contract)

    assert cached.document == fresh.document
    assert cached.operations == fresh.operations


def test_a_broken_entry_or_a_folder_that_cannot_be_written_only_costs_the_parse(tmp_path, monkeypatch):
    path = tmp_path / "contract.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    expected = yaml.load(DOCUMENT, Loader=yaml.CSafeLoader)
    folder = tmp_path / "cache"
    monkeypatch.setenv(parsed.CACHE_VARIABLE, str(folder))
    parsed.read_document(path)
    [entry] = _entries(folder)
    entry.write_bytes(b"\x00not marshal")

    assert parsed.read_document(path) == expected
    assert entry.read_bytes() != b"\x00not marshal"  # written again

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(parsed.CACHE_VARIABLE, str(blocked / "cache"))
    assert parsed.read_document(path) == expected


def test_a_document_marshal_cannot_hold_is_parsed_each_time(tmp_path, cache):
    path = tmp_path / "contract.yaml"
    path.write_text("released: 2024-05-01\n", encoding="utf-8")

    assert parsed.read_document(path) == parsed.read_document(path) == yaml.safe_load("released: 2024-05-01")
    assert _entries(cache) == []


def test_the_cache_set_empty_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(parsed.CACHE_VARIABLE, "")
    path = tmp_path / "contract.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")

    assert parsed.read_document(path) == yaml.load(DOCUMENT, Loader=yaml.CSafeLoader)
    assert parsed.cache_folder() is None
    assert not (tmp_path / "xdg").exists()


def test_without_the_variable_the_cache_is_under_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv(parsed.CACHE_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert parsed.cache_folder() == tmp_path / "xdg" / "portkey-mock"


def test_only_the_newest_entries_are_kept(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(parsed, "KEPT", 2)
    path = tmp_path / "contract.yaml"
    names = []
    for version in range(4):
        text = f"version: {version}\n"
        path.write_text(text, encoding="utf-8")
        parsed.read_document(path)
        names.append(f"contract-{parsed._key(text.encode())}.marshal")
        written = cache / names[-1]
        os.utime(written, ns=(version * 10**9, version * 10**9))  # written in this order, however fast

    assert [entry.name for entry in _entries(cache)] == sorted(names[2:])  # the two newest


def test_a_file_that_is_not_yaml_is_refused_naming_the_error(tmp_path, cache):
    path = tmp_path / "contract.yaml"
    path.write_text("paths: {unclosed: [\n", encoding="utf-8")

    with pytest.raises(ContractUnusable, match=r"cannot read the contract .*: ParserError"):
        Contract(path)
