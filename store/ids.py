"""Checks of platform ids: strings as received, never numbers that went through a float."""

from __future__ import annotations

import re
from typing import Any

# A native id that went through a float: "5.70306E+17", "570306133677760513.0", "nan".
_FLOATY = re.compile(
    r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+|[+-]?(?:nan|inf|infinity)", re.I
)


def check_native_id(name: str, value: Any) -> str | None:
    """Return why ``value`` is not a usable platform id (a non-empty string, never a float), or None."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return None  # the usual id, ASCII digits only: nothing below can fail
    if not isinstance(value, str):
        return (
            f"{name} must be a non-empty string, got {type(value).__name__} {value!r} (keep ids as strings)"
        )
    if not value.strip():
        return f"{name} is empty"
    if value != value.strip():
        return f"{name} {value!r} has leading or trailing whitespace"
    if _FLOATY.fullmatch(value):
        return (
            f"{name} {value!r} looks like a number that went through a float: keep the id string as received"
        )
    return None
