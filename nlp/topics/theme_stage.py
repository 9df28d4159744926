"""The need-themes step of ``tasteradar analyze``: embed need phrases once, fit themes, assign the rest.

1. Every ``post_needs`` row without a stored phrase vector (or whose phrase changed: ``phrase_hash``) gets
   one: the phrase normalised by :func:`nlp.topics.themes.normalize_phrase` (brand names, handles, URLs out),
   embedded by the run's post encoder, stored in ``need_vectors`` (derived-table rule: erased with the post).
2. When there is no theme model (or on ``--refit``), :func:`nlp.topics.themes.cluster_needs` clusters every
   need row on its phrase vector mixed with its post's vector; the themes become a
   :class:`~nlp.topics.model.TopicModel` (row-space centroids, the fold similarity as threshold), their ids
   are matched to the old themes (:func:`nlp.topics.lineage.match`) and the model is saved and published
   like the topic model, under ``models/themes/``.
3. Every need row not assigned by the active model is assigned to its nearest theme in row space.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils

from nlp.topics import persist
from nlp.topics.model import Topic, TopicModel
from nlp.topics.themes import ThemeSettings, normalize_phrase, row_vectors
from nlp.vectors import pack, unpack
from store.transactions import transaction

__all__ = ["THEME_ANNOTATOR", "ThemeStageSettings", "embed_phrases", "run_themes"]

THEME_ANNOTATOR = "themes.consensus.v1"

_NEED_ROWS_SQL = """
SELECT n.post_id, n.start_char, n.phrase, v.phrase_hash, v.model FROM post_needs AS n
LEFT JOIN need_vectors AS v ON v.post_id = n.post_id AND v.start_char = n.start_char
ORDER BY n.post_id, n.start_char"""
# Vectors and assignments of need rows the needs annotator no longer finds (it recomputed the post).
_ORPHANS_SQL = """
DELETE FROM {table} WHERE NOT EXISTS (
    SELECT 1 FROM post_needs AS n WHERE n.post_id = {table}.post_id AND n.start_char = {table}.start_char
)"""

_ROWS_SQL = """
SELECT n.post_id, n.start_char, n.phrase, v.dim, v.vector, e.dim, e.vector
FROM post_needs AS n
JOIN need_vectors AS v ON v.post_id = n.post_id AND v.start_char = n.start_char
JOIN post_embeddings AS e ON e.post_id = n.post_id
{where}
ORDER BY n.post_id, n.start_char"""

_PENDING = (
    "LEFT JOIN post_need_themes AS t ON t.post_id = n.post_id AND t.start_char = n.start_char"
    " AND t.model_version = :version WHERE t.post_id IS NULL"
)
_ASSIGN_SQL = (
    "INSERT INTO post_need_themes (post_id, start_char, theme_id, score, model_version)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (post_id, start_char) DO UPDATE SET theme_id = excluded.theme_id, score = excluded.score,"
    " model_version = excluded.model_version"
)


@dataclass(frozen=True)
class ThemeStageSettings:
    """The clustering settings, and the fewest need rows worth a first fit."""

    themes: ThemeSettings = field(default_factory=ThemeSettings)
    min_rows: int = 100
    batch_size: int = 2_000


def encoder_label(encoder) -> str:
    """What ``need_vectors.model`` says of vectors from ``encoder`` (as ``post_embeddings.model`` does)."""
    return getattr(encoder, "label", None) or getattr(encoder, "identity", "encoder")


def _hash(phrase: str) -> str:
    return hashlib.blake2b(phrase.encode("utf-8"), digest_size=8).hexdigest()


def embed_phrases(
    db: sqlite_utils.Database, encoder, stop_terms: Sequence[str], batch_size: int = 2_000
) -> int:
    """Store a vector for every need row lacking one, whose phrase changed or whose vector came from another
    encoder than ``encoder``; return how many. Vectors and theme assignments of need rows that no longer
    exist are dropped first."""
    with transaction(db):
        for table in ("need_vectors", "post_need_themes"):
            db.conn.execute(_ORPHANS_SQL.format(table=table))
    label = encoder_label(encoder)
    rows = [
        (post_id, start, phrase)
        for post_id, start, phrase, stored, model in db.conn.execute(_NEED_ROWS_SQL)
        if stored != _hash(phrase) or model != label
    ]
    for begin in range(0, len(rows), batch_size):
        chunk = rows[begin : begin + batch_size]
        vectors = encoder.encode([normalize_phrase(phrase, stop_terms) or phrase for _, _, phrase in chunk])
        values = [
            (post_id, offset, _hash(phrase), label, int(vectors.shape[1]), pack(vector))
            for (post_id, offset, phrase), vector in zip(chunk, vectors, strict=True)
        ]
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO need_vectors (post_id, start_char, phrase_hash, model, dim, vector)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, start_char) DO UPDATE SET"
                " phrase_hash = excluded.phrase_hash, model = excluded.model, dim = excluded.dim,"
                " vector = excluded.vector",
                values,
            )
    return len(rows)


def load_rows(
    db: sqlite_utils.Database, version: str | None = None
) -> tuple[list[tuple[str, int, str]], np.ndarray, np.ndarray]:
    """Need rows that have both vectors: ``([(post_id, start_char, phrase)], phrase vectors, post vectors)``,
    every row, or (``version`` given) those that model has not assigned."""
    where = _PENDING if version is not None else ""
    keys, phrases, contexts = [], [], []
    for post_id, start, phrase, pdim, pblob, cdim, cblob in db.conn.execute(
        _ROWS_SQL.format(where=where), {"version": version}
    ):
        keys.append((post_id, start, phrase))
        phrases.append(unpack(pblob, pdim))
        contexts.append(unpack(cblob, cdim))
    if not keys:
        empty = np.zeros((0, 0), dtype=np.float32)
        return [], empty, empty
    return keys, np.vstack(phrases), np.vstack(contexts)


def run_themes(
    db: sqlite_utils.Database,
    model_dir: Path,
    *,
    encoder,
    stop_terms: Sequence[str],
    settings: ThemeStageSettings | None = None,
    refit: bool = False,
) -> dict:
    """Embed new need phrases, fit themes if needed, assign pending need rows; return what happened."""
    settings = settings or ThemeStageSettings()
    report: dict = {"embedded": 0, "fitted": 0, "assigned": 0, "themes": 0}
    if encoder is None:
        report["skipped"] = "no encoder in this run"
        return report
    report["embedded"] = embed_phrases(db, encoder, stop_terms, settings.batch_size)
    active = persist.active_model(db, "theme")
    model = TopicModel.load(model_dir / active.path) if active else None
    if model is not None and model.embedding_model != encoder_label(encoder):
        refit = True  # the phrases were embedded again by another encoder: old centroids do not compare
        report["refit_reason"] = (
            f"phrases now from {encoder_label(encoder)}, themes from {model.embedding_model}"
        )
    if refit or model is None:
        fitted = _fit(db, model_dir, settings, stop_terms, previous=model)
        if fitted is None:
            report["skipped"] = f"fewer than {settings.min_rows} need rows with vectors"
            return report
        model, report["fitted"] = fitted
    report["themes"] = len(model.topics)
    report["assigned"] = _assign_pending(db, model)
    return report


def _fit(db, model_dir: Path, settings: ThemeStageSettings, stop_terms, *, previous: TopicModel | None):
    """Cluster every need row into themes, match ids to the old themes, save and publish the model."""
    from nlp.topics.lineage import Cluster, match
    from nlp.topics.themes import cluster_needs

    keys, phrase_vectors, contexts = load_rows(db)
    if len(keys) < settings.min_rows:
        return None
    result = cluster_needs(
        [phrase for _, _, phrase in keys], phrase_vectors, settings.themes, context=contexts,
        stop_terms=stop_terms,
    )  # fmt: skip
    members: dict[int, set[str]] = {}
    for (post_id, start, _), label in zip(keys, result.labels.tolist(), strict=True):
        if label >= 0:
            members.setdefault(label, set()).add(f"{post_id}#{start}")
    new = [
        Cluster(id=theme.index, centroid=theme.vector, terms=tuple(term for term, _ in theme.terms),
                members=frozenset(members.get(theme.index, ())), size=theme.size)
        for theme in result.themes
    ]  # fmt: skip
    old = persist.old_clusters(previous, _stored_members(db) if previous else None)
    matching = match(old, new, next_id=persist.next_cluster_id(db, "theme"))
    version = persist.new_version(db, THEME_ANNOTATOR)
    model = TopicModel(
        version=version,
        embedding_model=str(db.conn.execute("SELECT model FROM need_vectors LIMIT 1").fetchone()[0]),
        topics=tuple(
            Topic(
                topic_id=theme.index, label=theme.name, terms=theme.terms, size=theme.size, representative=()
            )
            for theme in result.themes
        ),
        centroids=np.vstack([theme.vector for theme in result.themes]).astype(np.float32)
        if result.themes
        else np.zeros((0, phrase_vectors.shape[1]), dtype=np.float32),
        threshold=settings.themes.fold_similarity,
        params={
            "annotator": THEME_ANNOTATOR,
            "phrase_weight": settings.themes.phrase_weight,
            "rows": len(keys),
        },
    )
    kept_labels = persist.stored_labels(db, "theme")
    model = model.with_ids(
        matching.ids,
        labels={stable: kept_labels[stable] for stable in matching.ids.values() if stable in kept_labels},
    )
    relative = f"themes/{version.replace('@', '-')}"
    model.save(model_dir / relative)
    unthemed = float(np.mean(result.labels < 0)) if len(result.labels) else 0.0
    stats = {"fitted": len(keys), "unassigned_share": unthemed, "raw_outlier_share": unthemed, "seconds": 0.0}
    persist.publish(db, "theme", model=model, path=relative, stats=stats, matching=matching)
    return model, len(keys)


def _assign_pending(db: sqlite_utils.Database, model: TopicModel) -> int:
    keys, phrase_vectors, contexts = load_rows(db, model.version)
    if not keys:
        return 0
    rows = row_vectors(phrase_vectors, contexts, float(model.params.get("phrase_weight", 1.0)))
    ids, scores = model.assign(rows)
    values = [
        (post_id, start, int(theme), float(score), model.version)
        for (post_id, start, _), theme, score in zip(keys, ids.tolist(), scores.tolist(), strict=True)
    ]
    with transaction(db):
        db.conn.executemany(_ASSIGN_SQL, values)
    return len(values)


def _stored_members(db: sqlite_utils.Database) -> dict[int, frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for post_id, start, theme in db.conn.execute(
        "SELECT post_id, start_char, theme_id FROM post_need_themes WHERE theme_id >= 0"
    ):
        groups.setdefault(theme, set()).add(f"{post_id}#{start}")
    return {theme: frozenset(group) for theme, group in groups.items()}
