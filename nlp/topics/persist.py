"""Topics and need themes in the store: which fitted model is active, the stable clusters, their lineage.

A fitted model's arrays live in files under the database's ``models/`` folder (see
:mod:`nlp.topics.model`); ``cluster_models`` names each one and marks the active model per kind. ``topics``
and ``need_themes`` keep one row per stable id ever issued, with the label it was born with (a refit never
renames a kept cluster), its latest size and terms, and its status. ``cluster_lineage`` holds each refit's
events. :func:`publish` writes all of that in one transaction, so a crash leaves the previous model active.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from nlp.topics.lineage import Cluster, Matching
from nlp.topics.model import TopicModel
from store import to_iso, utc_now
from store.transactions import transaction

__all__ = [
    "CLUSTER_TABLES", "ActiveModel", "active_model", "new_version", "next_cluster_id", "old_clusters",
    "publish", "stored_labels",
]  # fmt: skip

#: kind -> (cluster table, its id column, the per-post assignment table).
CLUSTER_TABLES = {
    "topic": ("topics", "topic_id", "post_topics"),
    "theme": ("need_themes", "theme_id", "post_need_themes"),
}


@dataclass(frozen=True)
class ActiveModel:
    """The row of ``cluster_models`` in use for one kind."""

    version: str
    path: str
    fitted_at: str


def active_model(db: sqlite_utils.Database, kind: str) -> ActiveModel | None:
    """The active model of ``kind`` (``topic`` or ``theme``), or None before the first fit."""
    row = db.conn.execute(
        "SELECT version, path, fitted_at FROM cluster_models WHERE kind = ? AND active = 1", [kind]
    ).fetchone()
    return ActiveModel(*row) if row else None


def new_version(db: sqlite_utils.Database, annotator: str) -> str:
    """A model version never used: ``annotator@<UTC time to the microsecond>`` (``-2`` ... on a clash)."""
    base = f"{annotator}@{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"
    version, attempt = base, 1
    while db.conn.execute("SELECT 1 FROM cluster_models WHERE version = ?", [version]).fetchone():
        attempt += 1
        version = f"{base}-{attempt}"
    return version


def next_cluster_id(db: sqlite_utils.Database, kind: str) -> int:
    """The first id never issued for ``kind`` (ids are never reused, retired ones included)."""
    table, column, _ = CLUSTER_TABLES[kind]
    (highest,) = db.conn.execute(f"SELECT max({column}) FROM {table}").fetchone()
    return 0 if highest is None else highest + 1


def stored_labels(db: sqlite_utils.Database, kind: str) -> dict[int, str]:
    """Every stable id of ``kind`` with the label it keeps."""
    table, column, _ = CLUSTER_TABLES[kind]
    return dict(db.conn.execute(f"SELECT {column}, label FROM {table}"))


def old_clusters(model: TopicModel | None, members: dict[int, frozenset[str]] | None = None) -> list[Cluster]:
    """The clusters of the active model, for matching against a refit (``members``: ids per cluster)."""
    if model is None:
        return []
    members = members or {}
    return [
        Cluster(
            id=topic.topic_id,
            centroid=model.centroids[row],
            terms=tuple(term for term, _ in topic.terms),
            members=members.get(topic.topic_id),
            size=topic.size,
        )
        for row, topic in enumerate(model.topics)
    ]


def publish(
    db: sqlite_utils.Database,
    kind: str,
    *,
    model: TopicModel,
    path: str,
    stats: dict,
    matching: Matching,
) -> None:
    """Make ``model`` (ids already stable) the active model of ``kind``, with its clusters and lineage.

    ``stats``: ``fitted`` (posts or phrases fitted), ``unassigned_share``, ``raw_outlier_share``, ``seconds``.
    Kept and born clusters are (re)activated with their current size and terms; a born one is inserted with
    its label; a kept one keeps its stored label. Retired and merged clusters get that status.
    """
    table, column, _ = CLUSTER_TABLES[kind]
    now = to_iso(utc_now())
    with transaction(db):
        db.conn.execute("UPDATE cluster_models SET active = 0 WHERE kind = ?", [kind])
        db.conn.execute(
            "INSERT INTO cluster_models (version, kind, annotator, fitted_at, fitted, clusters,"
            " unassigned_share, raw_outlier_share, seconds, path, params, active)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [
                model.version, kind, model.params.get("annotator", model.version), now, stats["fitted"],
                len(model.topics), stats["unassigned_share"], stats["raw_outlier_share"], stats["seconds"],
                path, json.dumps(model.params, sort_keys=True, default=str),
            ],
        )  # fmt: skip
        for topic in model.topics:
            db.conn.execute(
                f"INSERT INTO {table} ({column}, label, terms, size, status, born_model, last_model,"
                " updated_at)"
                " VALUES (?, ?, ?, ?, 'active', ?, ?, ?)"
                f" ON CONFLICT ({column}) DO UPDATE SET terms = excluded.terms, size = excluded.size,"
                " status = 'active', last_model = excluded.last_model, updated_at = excluded.updated_at",
                [topic.topic_id, topic.label, _terms_json(topic.terms), topic.size, model.version,
                 model.version, now],
            )  # fmt: skip
        _record_events(db, kind, table, column, model.version, matching, now)


def _record_events(
    db, kind: str, table: str, column: str, version: str, matching: Matching, now: str
) -> None:
    """Write the lineage rows of one refit and the status of clusters it retired or merged."""
    for event in matching.events:
        db.conn.execute(
            "INSERT INTO cluster_lineage (kind, model_version, event, cluster_id, related, similarity, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [kind, version, event.event, event.topic_id, json.dumps(list(event.related)),
             float(event.similarity), now],
        )  # fmt: skip
        if event.event in ("retired", "merged"):
            status = "merged" if event.event == "merged" else "retired"
            db.conn.execute(
                f"UPDATE {table} SET status = ?, updated_at = ? WHERE {column} = ?",
                [status, now, event.topic_id],
            )


def _terms_json(terms: Sequence[tuple[str, float]]) -> str:
    return json.dumps([[term, round(float(weight), 6)] for term, weight in terms])
