"""Micro-segments in the store: runs, stable ids, members, examples and lineage.

A run (``segment_runs``) records its settings, the annotator and model versions its features came from, and a
summary. Each group (one broad segment of customers, or the audience) is written by :func:`write_group` in one
transaction: the group's segments (kept ones updated, new ones inserted, retired and merged ones marked), its
members (``segment_members`` for customers, ``audience_members`` for authors), its example post ids and its
lineage events. A crash leaves each group as the previous run or this run wrote it, never half of it.

**Stable ids.** :func:`assign_ids` matches a group's new segments to its previous active segments with
:func:`nlp.topics.lineage.match` (centroid cosine and member overlap, one-to-one by the Hungarian method):
a kept segment keeps its id *and its name*; a new one gets an id never issued before (ids of retired and
merged segments included); split, merged, born and retired segments are recorded in ``segment_lineage``.
A segment's centroid is its contrast with its group (:meth:`segments.mixture.MixtureParams.contrasts`), stored
with the names of its features (``profile['centroid_features']``); two runs' centroids are compared over the
union of their features (0 where one run lacks a feature), a centroid of zeros (the only segment of a group)
as a unit vector of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from nlp.topics.lineage import Cluster, Matching, match
from store import to_iso, to_json, utc_now
from store.transactions import transaction

__all__ = [
    "NewSegment", "StoredSegment", "assign_ids", "finish_run", "next_segment_id", "previous_segments",
    "start_run", "write_group",
]  # fmt: skip

#: Link threshold of the lineage match for segments (see :mod:`nlp.topics.lineage`).
THRESHOLD = 0.5
_MEMBERS = {"customers": ("segment_members", "customer_id"), "audience": ("audience_members", "author_id")}


@dataclass(frozen=True)
class StoredSegment:
    """An active segment of a previous run: id, name, centroid over ``features``, member ids."""

    id: int
    name: str
    centroid: np.ndarray
    features: tuple[str, ...]
    members: frozenset[str]


@dataclass(frozen=True)
class NewSegment:
    """A segment found by this run, before it has a stable id (``local``: its label in the fit).

    ``members``: ``(customer or author id, posterior probability)``; ``examples``: post ids, best first.
    """

    local: int
    name: str
    size: int
    churn_rate: float | None
    sentiment: float | None
    profile: dict
    centroid: np.ndarray
    features: tuple[str, ...]
    members: tuple[tuple[str, float], ...]
    examples: tuple[str, ...] = ()


def start_run(db: sqlite_utils.Database, params: dict, versions: dict) -> int:
    """Insert a ``segment_runs`` row (started now) and return its id."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO segment_runs (started_at, params, versions) VALUES (?, ?, ?)",
            [to_iso(utc_now()), to_json(params, sort_keys=True), to_json(versions, sort_keys=True)],
        )
    return int(cursor.lastrowid)


def finish_run(db: sqlite_utils.Database, run_id: int, summary: dict) -> None:
    """Mark the run finished now, with its ``summary``."""
    with transaction(db) as conn:
        conn.execute(
            "UPDATE segment_runs SET finished_at = ?, summary = ? WHERE id = ?",
            [to_iso(utc_now()), to_json(summary, sort_keys=True), run_id],
        )


def next_segment_id(db: sqlite_utils.Database) -> int:
    """The first segment id never issued (ids start at 1 and are never reused)."""
    (highest,) = db.conn.execute(
        "SELECT max(id) FROM (SELECT max(id) AS id FROM segments UNION ALL"
        " SELECT max(segment_id) FROM segment_lineage)"
    ).fetchone()
    return 1 if highest is None else int(highest) + 1


def _unpack(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float64) if blob else np.zeros(0)


def previous_segments(db: sqlite_utils.Database, population: str, broad_segment: str) -> list[StoredSegment]:
    """The active segments of one group, with their stored members."""
    table, column = _MEMBERS[population]
    rows = db.conn.execute(
        "SELECT id, name, centroid, profile FROM segments WHERE population = ? AND broad_segment = ?"
        " AND status = 'active' ORDER BY id",
        [population, broad_segment],
    ).fetchall()
    members: dict[int, set[str]] = {row[0]: set() for row in rows}
    for member, segment in db.conn.execute(
        f"SELECT m.{column}, m.segment_id FROM {table} AS m JOIN segments AS s ON s.id = m.segment_id"
        " WHERE s.population = ? AND s.broad_segment = ? AND s.status = 'active'",
        [population, broad_segment],
    ):
        members[segment].add(member)
    return [
        StoredSegment(
            id=segment_id, name=name, centroid=_unpack(blob),
            features=tuple(json.loads(profile or "{}").get("centroid_features", [])),
            members=frozenset(members[segment_id]),
        )
        for segment_id, name, blob, profile in rows
    ]  # fmt: skip


def _aligned(vectors: Sequence[tuple[np.ndarray, tuple[str, ...]]]) -> list[np.ndarray]:
    """Each ``(vector, its feature names)`` laid out over the union of the names (0 where a feature is
    absent), plus a last column that is 1 only for a vector of zeros (so it still has a direction)."""
    position = {name: i for i, name in enumerate(sorted({name for _, names in vectors for name in names}))}
    out = []
    for vector, features in vectors:
        row = np.zeros(len(position) + 1)
        for value, name in zip(vector, features, strict=False):
            row[position[name]] = value
        if not np.any(row):
            row[-1] = 1.0
        out.append(row)
    return out


def assign_ids(
    old: Sequence[StoredSegment], new: Sequence[NewSegment], *, next_id: int, threshold: float = THRESHOLD
) -> Matching:
    """Stable ids for ``new`` (by local label) and the lineage events, matched against ``old``."""
    vectors = _aligned([(s.centroid, s.features) for s in [*old, *new]])
    old_clusters = [
        Cluster(id=s.id, centroid=v, members=s.members, size=len(s.members))
        for s, v in zip(old, vectors, strict=False)
    ]
    new_clusters = [
        Cluster(id=s.local, centroid=v, members=frozenset(m for m, _ in s.members), size=s.size)
        for s, v in zip(new, vectors[len(old) :], strict=True)
    ]
    return match(old_clusters, new_clusters, next_id=next_id, threshold=threshold)


def _unique_names(new: Sequence[NewSegment], ids: dict[int, int], kept: dict[int, str]) -> dict[int, str]:
    """The name of each stable id: kept ones keep theirs; a new name that any segment of the group had (or
    another new one takes) gets `` (2)``, `` (3)``..."""
    names = {stable: kept[stable] for stable in ids.values() if stable in kept}
    taken = {name.casefold() for name in kept.values()}
    for segment in sorted(new, key=lambda s: (-s.size, s.local)):
        stable = ids[segment.local]
        if stable in names:
            continue
        name, number = segment.name, 2
        while name.casefold() in taken:
            name, number = f"{segment.name} ({number})", number + 1
        names[stable] = name
        taken.add(name.casefold())
    return names


def write_group(
    db: sqlite_utils.Database,
    run_id: int,
    population: str,
    broad_segment: str,
    new: Sequence[NewSegment],
    matching: Matching,
) -> dict[int, int]:
    """Write one group's segments, members, examples and lineage in one transaction; return the stable id of
    each new segment's local label (see the module docstring)."""
    table, column = _MEMBERS[population]
    now = to_iso(utc_now())
    with transaction(db) as conn:
        stored = dict(
            conn.execute(
                "SELECT id, name FROM segments WHERE population = ? AND broad_segment = ?",
                [population, broad_segment],
            ).fetchall()
        )
        names = _unique_names(new, matching.ids, stored)
        marks = to_json(sorted(stored))
        conn.execute(f"DELETE FROM {table} WHERE segment_id IN (SELECT value FROM json_each(?))", [marks])
        conn.execute(
            "DELETE FROM segment_examples WHERE segment_id IN (SELECT value FROM json_each(?))", [marks]
        )
        for segment in new:
            stable = matching.ids[segment.local]
            row = (stable, population, broad_segment, names[stable], run_id, now)
            _upsert_segment(conn, row, segment)
            conn.executemany(
                f"INSERT INTO {table} ({column}, segment_id, run_id, score) VALUES (?, ?, ?, ?)"
                f" ON CONFLICT ({column}) DO UPDATE SET segment_id = excluded.segment_id,"
                " run_id = excluded.run_id, score = excluded.score",
                [(member, stable, run_id, round(float(score), 6)) for member, score in segment.members],
            )
            conn.executemany(
                "INSERT INTO segment_examples (post_id, segment_id, rank) VALUES (?, ?, ?)",
                [(post_id, stable, rank) for rank, post_id in enumerate(segment.examples, start=1)],
            )
        _record_events(conn, run_id, matching, now)
    return dict(matching.ids)


def _upsert_segment(conn, row: tuple[int, str, str, str, int, str], segment: NewSegment) -> None:
    """Insert a new segment row, or refresh a kept one (its name and born run stay); ``row`` is
    ``(id, population, broad_segment, name, run_id, now)``."""
    stable, population, broad, name, run_id, now = row
    profile = {**segment.profile, "centroid_features": list(segment.features)}
    centroid = np.asarray(segment.centroid, dtype="<f4").tobytes()
    conn.execute(
        "INSERT INTO segments (id, population, broad_segment, name, size, churn_rate, sentiment, profile,"
        " centroid, status, born_run, last_run, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET size = excluded.size, churn_rate = excluded.churn_rate,"
        " sentiment = excluded.sentiment, profile = excluded.profile, centroid = excluded.centroid,"
        " status = 'active', last_run = excluded.last_run, updated_at = excluded.updated_at",
        [stable, population, broad, name, segment.size, segment.churn_rate, segment.sentiment,
         to_json(profile, sort_keys=True), centroid, run_id, run_id, now],
    )  # fmt: skip


def _record_events(conn, run_id: int, matching: Matching, now: str) -> None:
    """The lineage rows of one group, and the status of the segments it retired or merged."""
    for event in matching.events:
        conn.execute(
            "INSERT INTO segment_lineage (run_id, event, segment_id, related, similarity, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, event.event, event.topic_id, to_json(list(event.related)), float(event.similarity), now],
        )
        if event.event in ("retired", "merged"):
            conn.execute(
                "UPDATE segments SET status = ?, updated_at = ? WHERE id = ?",
                [event.event, now, event.topic_id],
            )
