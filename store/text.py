"""Text that SQLite can store: UTF-8 repair and JSON serialisation.

Python strings may hold lone surrogates (``"\\ud83d"``, left by some JSON decoders or by a tweet cut in the
middle of an emoji) that ``sqlite3`` refuses to encode, which would fail a whole batch. Everything the store
writes passes through :func:`repair_text` (or :func:`to_json`, which repairs the JSON it produces).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import orjson

from store.records import to_iso


def repair_text(value: str | bytes) -> str:
    """Return ``value`` as a string that encodes to UTF-8.

    A string that already encodes is returned as is (the fast path, no copy). Otherwise valid surrogate
    pairs (``"\\ud83d\\ude00"``) become the real character and lone surrogates become U+FFFD. ``bytes`` are
    decoded as UTF-8 with every invalid sequence replaced by U+FFFD.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def repair_optional(value: str | bytes | None) -> str | None:
    """Like :func:`repair_text`, but ``None`` stays ``None``."""
    if value is None:
        return None
    return repair_text(value)


def _json_default(value: Any) -> Any:
    """Make the values ``json`` does not know storable instead of failing the batch."""
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return repair_text(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, float):  # a float subclass (numpy.float64): orjson hands those over, json does not
        return float(value)
    return str(value)


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (which are not JSON, and which SQLite's JSON functions reject) by null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


_OPTIONS: dict[str, Any] = {
    "ensure_ascii": False,
    "separators": (",", ":"),
    "default": _json_default,
    "allow_nan": False,
}
_ENCODE = json.JSONEncoder(**_OPTIONS).encode
_ENCODE_SORTED = json.JSONEncoder(sort_keys=True, **_OPTIONS).encode
# orjson writes the same compact JSON (non-ASCII kept, NaN and infinities as null) about 5x faster. Datetimes
# and dataclasses go through ``_json_default`` as with ``json``; what orjson refuses (lone surrogates, ints
# beyond 64 bits, non-string keys, very deep nesting) falls back to ``json`` below.
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_ORJSON_SORTED = _ORJSON | orjson.OPT_SORT_KEYS


def dump_json(value: Any, *, sort_keys: bool = False) -> str:
    """Serialise ``value`` like :func:`to_json` but without the final UTF-8 repair (for callers that repair).

    The result may still hold lone surrogates taken from ``value``; everything else is as :func:`to_json`.
    """
    try:
        return orjson.dumps(
            value, default=_json_default, option=_ORJSON_SORTED if sort_keys else _ORJSON
        ).decode()
    except TypeError:  # orjson.JSONEncodeError: let json (slower, more lenient) do it
        pass
    try:
        return (_ENCODE_SORTED if sort_keys else _ENCODE)(value)
    except TypeError:  # keys that cannot be sorted (mixed int and str)
        if not sort_keys:
            raise
        return dump_json(value)
    except ValueError:  # NaN or infinity somewhere
        return (_ENCODE_SORTED if sort_keys else _ENCODE)(_finite(value))


def to_json(value: Any, *, sort_keys: bool = False) -> str:
    """Serialise ``value`` as compact JSON text that encodes to UTF-8.

    Non-ASCII characters are kept as they are (not ``\\u`` escapes), so a lone surrogate anywhere in the value
    is visible to the repair and becomes U+FFFD instead of surviving as an escape that breaks later readers.
    ``bytes`` are decoded (invalid bytes become U+FFFD), datetimes become ISO ``...Z`` strings, sets become
    lists, NaN and infinities become ``null`` and any other unknown object its ``str()``. ``sort_keys`` is
    dropped for a mapping whose keys cannot be compared (mixed ``int`` and ``str`` keys).
    """
    if isinstance(value, bytes | bytearray | memoryview):
        value = repair_text(value)
    return repair_text(dump_json(value, sort_keys=sort_keys))
