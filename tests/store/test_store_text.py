"""UTF-8 repair of text and JSON, including a property test over arbitrary strings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store import repair_text, to_json
from store.text import repair_optional

# Any code point, with surrogates (lone, paired, reversed) mixed in often: st.text() never produces them.
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ANY_TEXT = st.lists(st.one_of(st.characters(), SURROGATE)).map("".join)
NO_EXAMPLE_DB = settings(database=None)  # leave no .hypothesis folder in the work tree


@NO_EXAMPLE_DB
@given(ANY_TEXT)
def test_repair_always_encodes_and_is_idempotent(value: str) -> None:
    repaired = repair_text(value)
    repaired.encode("utf-8")
    assert repair_text(repaired) == repaired
    assert value.count("\ufffd") <= repaired.count("\ufffd") <= len(value)


@NO_EXAMPLE_DB
@given(st.text(), st.text())
def test_only_the_bad_parts_change(left: str, right: str) -> None:
    assert repair_text(left + "\udc00" + right) == left + "\ufffd" + right


@NO_EXAMPLE_DB
@given(st.text())
def test_valid_text_is_returned_unchanged(value: str) -> None:
    value.encode("utf-8")
    assert repair_text(value) is value


@NO_EXAMPLE_DB
@given(st.binary())
def test_bytes_always_decode(value: bytes) -> None:
    repaired = repair_text(value)
    repaired.encode("utf-8")
    assert repaired == value.decode("utf-8", errors="replace")


@NO_EXAMPLE_DB
@given(ANY_TEXT)
def test_to_json_always_encodes_and_parses(value: str) -> None:
    text = to_json({"text": value, "list": [value]})
    text.encode("utf-8")
    parsed = json.loads(text)
    assert parsed["text"] == repair_text(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\ud83d", "\ufffd"),
        ("a\udc80b", "a\ufffdb"),
        ("\ud83d\ude00", "\U0001f600"),
        ("\ude00\ud83d", "\ufffd\ufffd"),
        ("ok \U0001f600", "ok \U0001f600"),
        (b"caf\xc3\xa9 \xff", "café \ufffd"),
        (bytearray(b"\xfe"), "\ufffd"),
    ],
)
def test_repair_examples(value: str | bytes, expected: str) -> None:
    assert repair_text(value) == expected


def test_repair_optional_keeps_none() -> None:
    assert repair_optional(None) is None
    assert repair_optional("\ud800") == "\ufffd"


def test_to_json_handles_what_json_does_not() -> None:
    value = {
        "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "day": date(2024, 1, 2),
        "blob": b"\xffok",
        "tags": {"a"},
        "nan": float("nan"),
        "inf": [float("inf")],
        "\ud83d": "key repaired",
    }
    parsed = json.loads(to_json(value))
    assert parsed == {
        "when": "2024-01-02T03:04:05Z",
        "day": "2024-01-02",
        "blob": "\ufffdok",
        "tags": ["a"],
        "nan": None,
        "inf": [None],
        "\ufffd": "key repaired",
    }


def test_to_json_sorts_keys_when_asked_and_survives_mixed_keys() -> None:
    assert to_json({"b": 1, "a": 2}, sort_keys=True) == '{"a":2,"b":1}'
    assert json.loads(to_json({1: "x", "a": "y"}, sort_keys=True)) == {"1": "x", "a": "y"}
    assert to_json("caf\u00e9") == '"café"'
