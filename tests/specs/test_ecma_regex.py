"""``specs/ecma_regex.py``: JSON Schema patterns mean what ECMA-262 says, in Python too."""

from __future__ import annotations

import re
import unicodedata

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apitwin.specs import ecma_regex

# (pattern as published, text, ECMA-262's verdict)
CASES = [
    (r"^[\p{L}\p{N}_-]+$", "héllo_1", True),
    (r"^[\p{L}\p{N}_-]+$", "日本語", True),
    (r"^[\p{L}\p{N}_-]+$", "a b", False),
    (r"^\p{Lu}\P{L}$", "A1", True),
    (r"^\p{Lu}\P{L}$", "Ab", False),
    (r"^\p{Letter}+$", "Ωmega", True),
    (r"^\p{gc=Nd}+$", "٣4", True),
    (r"^[^\p{Z}]+$", "no-space", True),
    (r"^[^\p{Z}]+$", "a\u00a0b", False),
    (r"(?<year>\d{4})-\k<year>", "2024-2024", True),
    (r"(?<year>\d{4})-\k<year>", "2024-2025", False),
    (r"(?<=a)b", "ab", True),
    (r"(?<!a)b", "ab", False),
    (r"^\u{1F600}$", "\U0001f600", True),
    (r"^a[^]c$", "a\nc", True),
    (r"^\e\-$", "e-", True),
    (r"^[a[]+$", "a[", True),
    (r"^\cJ$", "\n", True),
]


@pytest.mark.parametrize(("pattern", "text", "verdict"), CASES)
def test_a_translated_pattern_judges_as_ecma_262_does(pattern, text, verdict):
    found = ecma_regex.matcher(pattern)
    assert found is not None
    assert bool(found.search(text)) is verdict
    if pattern not in RS_REFUSES:
        assert jsonschema_rs.validator_for({"pattern": pattern}).is_valid(text) is verdict  # a reference engine


RS_REFUSES = {r"(?<year>\d{4})-\k<year>", r"^a[^]c$", r"^\e\-$"}
"""ECMA-262 (without the u flag) reads these; jsonschema-rs, in unicode mode, refuses them."""


@pytest.mark.parametrize("pattern", sorted(RS_REFUSES))
def test_the_reference_engine_refuses_only_what_is_listed(pattern):
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validator_for({"pattern": pattern})


def test_a_pattern_python_already_reads_is_used_as_written():
    assert ecma_regex.matcher(r"^[a-z]+\d$") == re.compile(r"^[a-z]+\d$")
    assert ecma_regex.drawable(r"^[a-z]+\d$") == r"^[a-z]+\d$"


def test_a_script_property_is_left_to_jsonschema_rs():
    found = ecma_regex.matcher(r"^\p{Script=Greek}+$")
    assert isinstance(found, ecma_regex.NativeMatcher)
    assert found.search("αβγ") and not found.search("abc")
    assert ecma_regex.drawable(r"^\p{Script=Greek}+$") is None


@pytest.mark.parametrize("pattern", [r"[\p{L}", r"(", r"\p{NoSuchCategory}+"])
def test_a_pattern_no_engine_accepts_has_no_matcher(pattern):
    assert ecma_regex.matcher(pattern) is None


def test_draws_keep_to_the_ascii_members_of_a_property():
    drawable = ecma_regex.drawable(r"^[\p{L}\p{N}]+$")
    assert drawable is not None
    assert re.fullmatch(drawable, "Abc123")
    assert not re.fullmatch(drawable, "é")  # judged by matcher(), which takes it; drawn from ASCII


@pytest.mark.parametrize("name", ["L", "Lu", "Nd", "P", "Zs", "Cc", "LC"])
@settings(max_examples=60, deadline=None)
@given(char=st.characters(codec="utf-8"))
def test_property_ranges_are_the_general_categories_unicodedata_reports(name, char):
    members = ("Lu", "Ll", "Lt") if name == "LC" else (name,)
    inside = any(low <= ord(char) <= high for low, high in ecma_regex.property_ranges(name))
    assert inside is unicodedata.category(char).startswith(members)
    outside = any(low <= ord(char) <= high for low, high in ecma_regex.complement(ecma_regex.property_ranges(name)))
    assert outside is not inside
