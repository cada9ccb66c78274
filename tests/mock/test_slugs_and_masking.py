"""Rules of the resource that hold for every input: slug derivation and secret masking."""

from __future__ import annotations

import os
import random
import re
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.contract.date_times import timestamp
from mockserver.contract.secrets import mask_secret
from mockserver.resources.ids import new_id, slug_for, uuid4_text


@given(st.text(min_size=1, max_size=300))
def test_every_name_gives_a_url_safe_slug_with_a_hex_tag(name):
    slug = slug_for(name)
    base, tag = slug.rsplit("-", 1)
    assert re.fullmatch(r"[0-9a-f]{6}", tag)
    assert re.fullmatch(r"[a-z0-9-]{1,15}", base) and not base.endswith("-")
    assert "--" not in base


@given(st.from_regex(r"[a-z0-9]{1,15}", fullmatch=True))
def test_a_short_lowercase_name_is_kept_whole(name):
    assert slug_for(name, "abcdef") == f"{name}-abcdef"


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_an_id_is_the_version_4_uuid_the_standard_library_makes_of_the_same_bits(bits):
    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


def test_seeding_pythons_random_does_not_make_the_mock_repeat_ids_or_slugs():
    """A test suite that seeds `random` (hypothesis does, per example) shares a process with the
    pytest plugin's mock; the mock's slugs and ids must not follow that seed."""
    made = []
    for _ in range(2):
        random.seed(1234)
        made.append((new_id(), slug_for("same name")))
    assert made[0][0] != made[1][0]
    assert made[0][1] != made[1][1]


def test_a_forked_worker_does_not_repeat_the_parents_ids():
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: its first id, to the parent
        os.write(writer, new_id().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as pipe:
        childs = pipe.read().decode()
    assert re.fullmatch(r"[0-9a-f-]{36}", childs)
    assert childs != new_id()


def test_live_examples_of_slugs():
    assert slug_for("OPENAI_API_KEY", "345cc9") == "openai-api-key-345cc9"
    assert slug_for("ANTHROPIC_API_KEY", "6feca8") == "anthropic-api-k-6feca8"


@given(st.text(min_size=10, max_size=200))
def test_a_long_secret_shows_only_two_leading_and_three_trailing_characters(secret):
    masked = mask_secret(secret)
    assert masked == secret[:2] + "*****" + secret[-3:]


@given(st.text(max_size=9))
def test_a_short_secret_is_masked_whole(secret):
    assert mask_secret(secret) == "*****"


@pytest.mark.parametrize(
    ("secret", "masked"),
    [("123456789", "*****"), ("1234567890", "12*****890"), ("", "*****")],
)
def test_ten_characters_is_where_a_mask_starts_showing_the_ends(secret, masked):
    assert mask_secret(secret) == masked


def test_timestamps_have_milliseconds_and_z():
    assert timestamp(datetime(2026, 5, 2, 12, 31, 48, 123456, tzinfo=UTC)) == "2026-05-02T12:31:48.123Z"
