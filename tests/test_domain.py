"""Rules of the resource that hold for every input: slug derivation and secret masking."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.resources.virtual_keys import mask_secret, slug_for, timestamp


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
