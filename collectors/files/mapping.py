"""``--map COLUMN=FIELD``: how the columns of any CSV (or the keys of any JSONL) become ``Post`` fields.

Each ``--map`` names a column of the file (a CSV header name; for JSONL a key, with dots for nested keys such
as ``user.screen_name``) and the ``Post`` field it fills::

    --map id=native_id --map body=text --map posted=created_at --map user=author_handle

``native_id``, ``text`` and ``created_at`` are required. A few fields also take a constant instead of a
column: ``--map platform=x`` (or ``lang=en``, ``query=...``) reads "every post has platform x" because
``x`` is not a field name. Without one, ``platform`` is ``file``. ``reply_to`` and ``conversation_id``
columns hold native ids; they become store keys (``platform:id``). Anything else in a record stays in
``Post.raw``, which is the whole record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from store import Post

#: Post fields a column can fill.
FIELDS = (
    "native_id", "text", "created_at", "platform", "author_id", "author_handle", "url", "lang",
    "reply_to", "conversation_id", "query",
)  # fmt: skip
REQUIRED = ("native_id", "text", "created_at")
#: Fields that may be set to a constant (``--map platform=x``).
CONSTANT_FIELDS = ("platform", "lang", "query")
DEFAULT_PLATFORM = "file"

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S%z", "%d/%m/%Y %H:%M")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_FLOAT_ID = re.compile(r"(\d+)\.0+")


class MappingError(ValueError):
    """A ``--map`` the user must fix; the message says what to add or change."""


@dataclass(frozen=True)
class ColumnMapping:
    """A parsed column mapping: ``columns`` maps a Post field to its column, ``constants`` to a value."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[str]:
        """The mapping as sorted ``COLUMN=FIELD`` strings (stored with the checkpoint)."""
        pairs = [f"{column}={name}" for name, column in self.columns.items()]
        pairs += [f"{name}={value}" for name, value in self.constants.items()]
        return sorted(pairs)


def parse_mapping(specs: Iterable[str]) -> ColumnMapping:
    """Parse ``--map`` values; raise :class:`MappingError` naming the bad one and the allowed fields."""
    columns: dict[str, str] = {}
    constants: dict[str, str] = {}
    for spec in specs:
        left, sep, right = spec.rpartition("=")
        if not sep or not left or not right:
            raise MappingError(f"--map {spec!r}: expected COLUMN=FIELD, for example --map body=text")
        if right in FIELDS:
            name, target = right, columns
            value = left
        elif left in CONSTANT_FIELDS:
            name, target, value = left, constants, right
        else:
            raise MappingError(
                f"--map {spec!r}: unknown field {right!r}; fields are {', '.join(FIELDS)} "
                f"(constants: {', '.join(f'{name}=VALUE' for name in CONSTANT_FIELDS)})"
            )
        if name in columns or name in constants:
            raise MappingError(f"--map {spec!r}: field {name!r} is mapped twice")
        target[name] = value
    return ColumnMapping(columns, constants)


def check_mapping(mapping: ColumnMapping, available: list[str] | None = None) -> None:
    """Raise :class:`MappingError` when a required field is unmapped or a column is not in ``available``.

    ``available`` is the CSV header (None for JSONL, whose keys vary from line to line).
    """
    hint = f" (columns in this file: {', '.join(available)})" if available is not None else ""
    missing = [name for name in REQUIRED if name not in mapping.columns]
    if missing:
        adds = " ".join(f"--map COLUMN={name}" for name in missing)
        raise MappingError(f"the mapping has no {', '.join(missing)}: add {adds}{hint}")
    if available is not None:
        unknown = [column for column in mapping.columns.values() if column not in available]
        if unknown:
            raise MappingError(f"no column {', '.join(map(repr, unknown))} in the header{hint}")


def lookup(record: Mapping[str, Any], column: str) -> Any:
    """Return ``record[column]``, following dots into nested objects when there is no such key."""
    if column in record:
        return record[column]
    value: Any = record
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def id_text(name: str, value: Any) -> str | None:
    """Return an id as the string it was (JSON ints are exact); a float id is refused, it lost digits."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise ValueError(
            f"{name} {value!r} went through a float (its last digits are lost): keep ids as text"
        )
    return str(value)


def ref_id(value: Any) -> str | None:
    """Return a referenced id (``in_response_to_tweet_id``), mending pandas' ``192625.0``; '' is None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else None
    text = str(value)
    whole = _FLOAT_ID.fullmatch(text)
    return whole.group(1) if whole else text


def parse_time(value: Any) -> datetime:
    """Parse a post time into aware UTC: ISO 8601, epoch seconds (or ms), X's ``Tue Oct 31 ... 2017``.

    A time without an offset is taken as UTC. Raises ``ValueError`` naming the value it could not read.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"no created_at (got {value!r})")
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for form in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, form)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"unreadable created_at {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _epoch(seconds: float) -> datetime:
    """Epoch seconds (or milliseconds, when too large for seconds) to aware UTC."""
    if seconds > 1e11:
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def _text_or_none(value: Any) -> str | None:
    """A cell as an optional string: empty is None."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def mapped_post(record: Mapping[str, Any], mapping: ColumnMapping) -> Post:
    """Map one record (a CSV row as a dict, or a JSON object) to a ``Post`` with ``raw`` = the record.

    Raises ``ValueError`` naming what is missing or unreadable (the record then goes to quarantine).
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"record must be a JSON object, got {type(record).__name__}")

    def get(name: str) -> Any:
        if name in mapping.constants:
            return mapping.constants[name]
        column = mapping.columns.get(name)
        return None if column is None else lookup(record, column)

    native_id = id_text("native_id", get("native_id"))
    if native_id is None:
        raise ValueError(f"no native_id (column {mapping.columns['native_id']!r} is empty or missing)")
    text = get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"no text (column {mapping.columns['text']!r} is empty or missing)")
    platform = _text_or_none(get("platform")) or DEFAULT_PLATFORM
    refs = {name: ref_id(get(name)) for name in ("reply_to", "conversation_id")}
    return Post(
        platform=platform,
        native_id=native_id,
        text=text,
        created_at=parse_time(get("created_at")),
        author_id=id_text("author_id", get("author_id")),
        author_handle=_text_or_none(get("author_handle")),
        url=_text_or_none(get("url")),
        lang=_text_or_none(get("lang")),
        reply_to=f"{platform}:{refs['reply_to']}" if refs["reply_to"] else None,
        conversation_id=f"{platform}:{refs['conversation_id']}" if refs["conversation_id"] else None,
        raw=dict(record),
        query=_text_or_none(get("query")),
    )
