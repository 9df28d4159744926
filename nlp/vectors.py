"""Stored post embeddings: the byte format of ``post_embeddings.vector`` and reading vectors back.

A vector is stored once per post as little-endian float32 bytes (``dim`` values, 1,536 bytes for MiniLM's
384). Later stages (sentiment, topics, segments) read them with :func:`load_embeddings` and never re-embed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import sqlite_utils

__all__ = ["load_embeddings", "pack", "unpack"]

_DTYPE = np.dtype("<f4")


def pack(vector: np.ndarray) -> bytes:
    """The stored bytes of one vector (any float array of one dimension)."""
    array = np.asarray(vector)
    if array.ndim != 1:
        raise ValueError(f"pack: expected one vector (1 dimension), got shape {array.shape}")
    return array.astype(_DTYPE, copy=False).tobytes()


def unpack(blob: bytes, dim: int | None = None) -> np.ndarray:
    """The float32 vector stored in ``blob``; ``dim`` (when given) is checked against its length."""
    vector = np.frombuffer(blob, dtype=_DTYPE)
    if dim is not None and vector.shape[0] != dim:
        raise ValueError(f"unpack: stored vector has {vector.shape[0]} values, expected {dim}")
    return vector


def load_embeddings(
    db: sqlite_utils.Database, post_ids: Sequence[str], *, annotator_prefix: str = "embeddings."
) -> tuple[list[str], np.ndarray]:
    """The stored vectors of ``post_ids`` as ``(ids found, matrix)``, rows in the order of ``ids found``.

    Posts with no stored vector are left out (the caller decides what a missing vector means). The matrix is
    float32 of shape ``(len(ids found), dim)``; ``(0, 0)`` when none is stored.
    """
    sql = (
        "SELECT post_id, dim, vector FROM post_embeddings "
        "WHERE post_id IN (SELECT value FROM json_each(?)) AND annotator LIKE ? || '%'"
    )
    rows = {
        pid: (dim, blob)
        for pid, dim, blob in db.conn.execute(sql, [json.dumps(list(post_ids)), annotator_prefix])
    }
    found = [pid for pid in post_ids if pid in rows]
    if not found:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = np.vstack([unpack(rows[pid][1], rows[pid][0]) for pid in found])
    return found, matrix
