"""Shared fixtures for the store tests: a fresh database file per test and a post factory."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from store import Post, open_db

_ids = itertools.count(1)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a database file that does not exist yet."""
    return tmp_path / "data" / "tasteradar.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[sqlite_utils.Database]:
    """A freshly created and migrated database."""
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def make_post() -> Callable[..., Post]:
    """Return a factory of valid posts; keyword arguments override fields."""

    def factory(**overrides: Any) -> Post:
        number = next(_ids)
        values: dict[str, Any] = {
            "platform": "x",
            "native_id": str(1_700_000_000_000_000_000 + number),
            "text": f"Nimbus Mobile post number {number}",
            "created_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            "author_id": str(1000 + number % 7),
            "author_handle": f"user{number % 7}",
            "metrics": {"likes": number},
            "raw": {"id": str(number)},
            "query": "nimbus",
        }
        values.update(overrides)
        return Post(**values)

    return factory


def _fts_ids(db: sqlite_utils.Database, match: str) -> set[str]:
    """Return the ids of the posts the full-text index finds for ``match``."""
    rows = db.conn.execute(
        "SELECT posts.id FROM posts_fts JOIN posts ON posts.rowid = posts_fts.rowid WHERE posts_fts MATCH ?",
        [match],
    )
    return {row[0] for row in rows}


def _count(db: sqlite_utils.Database, table: str) -> int:
    """Return the number of rows of ``table``."""
    return db.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]


# Helpers are handed out as fixtures (not imported from conftest), so they work in any pytest import mode.
@pytest.fixture
def fts_ids() -> Callable[[sqlite_utils.Database, str], set[str]]:
    """Return a function giving the ids of the posts the full-text index finds for a query."""
    return _fts_ids


@pytest.fixture
def count() -> Callable[[sqlite_utils.Database, str], int]:
    """Return a function giving the number of rows of a table."""
    return _count
