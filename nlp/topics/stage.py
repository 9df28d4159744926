"""The topics step of ``tasteradar analyze``: fit when there is no model (or on ``--refit``), assign the rest.

Topics are what customers discuss: the posts **in scope** of the topic model are the English posts that are
not brand account posts (:mod:`nlp.voice`: the author is a configured handle of the own brand or a
competitor, ``TopicSettings.brand_handles``; a care desk's boilerplate, "dm, send", "glad, hear, hope", would
otherwise form topics of its own). A fit reads a seeded random sample of at most ``max_posts`` in-scope posts
with stored embeddings (their vectors only: nothing is re-embedded), fits BERTopic
(:func:`nlp.topics.fit.fit_topics`), matches the new topics to the active model's
(:func:`nlp.topics.lineage.match`: centroids, terms and members) so kept topics keep their ids and labels,
saves the model under ``models/topics/<version>/`` and publishes it. Every post with an embedding and no
assignment by the active model is then assigned by nearest centroid
(:meth:`nlp.topics.model.TopicModel.assign`), in batches, one transaction each: a refit reassigns every post,
an ordinary run only the new ones. Posts out of scope (other languages than English: the topic model reads
English; brand account posts) get topic -1. So what is read from a fit (labels and terms, the unassigned
share, lineage by shared members) and from the assignments (representative posts: a topic's highest scores)
comes from in-scope posts only.

A post's scope is read when it is assigned: existing assignments are not revisited when the configured
handles change. ``analyze --refit`` publishes a new model version, which no post is assigned by yet, and so
reassigns every post with an embedding under the current handles.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import sqlite_utils

from nlp.annotate import EFFECTIVE_LANG_SQL
from nlp.topics import persist
from nlp.topics.fit import FitSettings
from nlp.topics.model import TopicModel
from nlp.vectors import load_embeddings, unpack
from nlp.voice import brand_account_sql, handles_json
from store.transactions import transaction

__all__ = ["TOPIC_ANNOTATOR", "TopicSettings", "assign_pending", "fit_and_publish", "run_topics"]

TOPIC_ANNOTATOR = "topics.bertopic.v1"
_LOAD_CHUNK = 5_000

#: In scope of the topic model: English and not a brand account post (``:handles``: :func:`handles_json`).
_IN_SCOPE_SQL = f"({EFFECTIVE_LANG_SQL} = 'en' AND NOT {brand_account_sql('p.author_handle', ':handles')})"

_IN_SCOPE_IDS_SQL = f"""
SELECT e.post_id FROM post_embeddings AS e JOIN posts AS p ON p.id = e.post_id
WHERE {_IN_SCOPE_SQL} ORDER BY e.post_id"""

_PENDING_SQL = f"""
SELECT e.post_id, e.dim, e.vector, {_IN_SCOPE_SQL}
FROM post_embeddings AS e JOIN posts AS p ON p.id = e.post_id
LEFT JOIN post_topics AS t ON t.post_id = e.post_id AND t.model_version = :version
WHERE e.post_id > :after AND t.post_id IS NULL
ORDER BY e.post_id LIMIT :limit"""

_ASSIGN_SQL = (
    "INSERT INTO post_topics (post_id, topic_id, score, model_version) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (post_id) DO UPDATE SET topic_id = excluded.topic_id, score = excluded.score,"
    " model_version = excluded.model_version"
)


@dataclass(frozen=True)
class TopicSettings:
    """How the topics step fits: the fit itself, the fewest in-scope posts worth a first fit, and the brand
    accounts whose posts are out of scope (keys of :func:`nlp.voice.brand_handles`; empty: none are)."""

    fit: FitSettings = field(default_factory=FitSettings)
    min_posts: int = 200
    batch_size: int = 5_000
    brand_handles: frozenset[str] = frozenset()


Progress = Callable[[str, int, int], None]


def run_topics(
    db: sqlite_utils.Database,
    model_dir: Path,
    *,
    settings: TopicSettings,
    refit: bool = False,
    word_encoder=None,
    progress: Progress | None = None,
) -> dict:
    """Fit if needed, then assign pending posts; return what happened (``fitted``, ``assigned``, ``topics``,
    and after a fit ``unassigned_share``, a share of the fitted in-scope posts; ``skipped`` says why a first
    fit did not happen). Posts already assigned by the active model keep their topic, whatever the handles."""
    active = persist.active_model(db, "topic")
    model = TopicModel.load(model_dir / active.path) if active else None
    report: dict = {"fitted": 0, "assigned": 0, "topics": len(model.topics) if model else 0}
    stored = _any_embedding_model(db)
    if model is not None and stored and model.embedding_model != stored:
        refit = True  # the posts were embedded again by another model: the centroids live in another space
        report["refit_reason"] = f"embeddings now from {stored}, the topic model from {model.embedding_model}"
    if refit or model is None:
        fitted = fit_and_publish(db, model_dir, settings, previous=model, word_encoder=word_encoder)
        if fitted is None:
            report["skipped"] = (
                f"fewer than {settings.min_posts} English posts with embeddings (brand account posts aside)"
            )
            return report
        model, stats = fitted
        report.update(fitted=stats["fitted"], unassigned_share=stats["unassigned_share"])
        report["topics"] = len(model.topics)
    report["assigned"] = assign_pending(
        db, model, batch_size=settings.batch_size, handles=settings.brand_handles, progress=progress
    )
    return report


def fit_and_publish(
    db: sqlite_utils.Database,
    model_dir: Path,
    settings: TopicSettings,
    *,
    previous: TopicModel | None = None,
    word_encoder=None,
) -> tuple[TopicModel, dict] | None:
    """Fit a new model on a sample, give its topics stable ids, save and publish it; return it with the fit's
    figures (``fitted``, ``unassigned_share``, ``raw_outlier_share``, ``seconds``); None if too few posts."""
    from nlp.topics.fit import fit_topics
    from nlp.topics.lineage import Cluster, match

    ids = sample_ids(db, settings.fit.max_posts, settings.fit.seed, settings.brand_handles)
    if len(ids) < settings.min_posts:
        return None
    ids, texts, vectors = load_sample(db, ids)
    identity = embedding_model(db, ids[:1])
    result = fit_topics(
        ids, texts, vectors, settings.fit, embedding_model=identity, word_encoder=word_encoder, copy=False
    )
    members = _members(result.post_ids, result.assignments)
    new = [
        Cluster(id=topic.topic_id, centroid=result.model.centroids[row],
                terms=tuple(term for term, _ in topic.terms), size=topic.size,
                members=members.get(topic.topic_id, frozenset()))
        for row, topic in enumerate(result.model.topics)
    ]  # fmt: skip
    old = persist.old_clusters(previous, _stored_members(db, ids) if previous else None)
    matching = match(old, new, next_id=persist.next_cluster_id(db, "topic"))
    kept_labels = persist.stored_labels(db, "topic")
    version = persist.new_version(db, TOPIC_ANNOTATOR)
    model = result.model.with_ids(
        matching.ids,
        labels={stable: kept_labels[stable] for stable in matching.ids.values() if stable in kept_labels},
    )
    params = {
        **model.params, "annotator": TOPIC_ANNOTATOR, "sample": len(ids),
        "brand_accounts": sorted(settings.brand_handles),  # whose posts were out of scope
    }  # fmt: skip
    # The saved file names no post: representative posts are read from post_topics when shown, so erasing
    # a person's posts leaves nothing of them in models/.
    topics = tuple(replace(topic, representative=()) for topic in model.topics)
    model = replace(model, version=version, params=params, topics=topics)
    relative = f"topics/{version.replace('@', '-')}"
    model.save(model_dir / relative)
    stats = {
        "fitted": len(ids),
        "unassigned_share": result.unassigned_share,
        "raw_outlier_share": result.raw_outlier_share,
        "seconds": result.seconds,
    }
    persist.publish(db, "topic", model=model, path=relative, stats=stats, matching=matching)
    return model, stats


def sample_ids(db: sqlite_utils.Database, limit: int, seed: int, handles: Iterable[str] = ()) -> list[str]:
    """A seeded uniform sample of at most ``limit`` in-scope post ids with embeddings (English, and not by one
    of the brand account ``handles``: keys of :func:`nlp.voice.handle_key`), in id order."""
    ids = [row[0] for row in db.conn.execute(_IN_SCOPE_IDS_SQL, {"handles": handles_json(handles)})]
    if len(ids) <= limit:
        return ids
    chosen = np.random.default_rng(seed).choice(len(ids), size=limit, replace=False)
    return [ids[index] for index in np.sort(chosen)]


def load_sample(db: sqlite_utils.Database, ids: Sequence[str]) -> tuple[list[str], list[str], np.ndarray]:
    """The texts and stored vectors of ``ids`` (those with both), read in chunks."""
    found: list[str] = []
    texts: list[str] = []
    parts = []
    for start in range(0, len(ids), _LOAD_CHUNK):
        chunk = list(ids[start : start + _LOAD_CHUNK])
        got, matrix = load_embeddings(db, chunk)
        by_id = dict(
            db.conn.execute(
                "SELECT id, text FROM posts WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(got)]
            )
        )
        found.extend(got)
        texts.extend(by_id[pid] for pid in got)
        parts.append(matrix)
    return found, texts, np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def _any_embedding_model(db: sqlite_utils.Database) -> str:
    row = db.conn.execute("SELECT model FROM post_embeddings LIMIT 1").fetchone()
    return row[0] if row else ""


def embedding_model(db: sqlite_utils.Database, ids: Sequence[str]) -> str:
    """The ``post_embeddings.model`` of the fitted vectors (what the centroids are comparable with)."""
    row = db.conn.execute(
        "SELECT model FROM post_embeddings WHERE post_id IN (SELECT value FROM json_each(?)) LIMIT 1",
        [json.dumps(list(ids))],
    ).fetchone()
    return row[0] if row else ""


def assign_pending(
    db: sqlite_utils.Database,
    model: TopicModel,
    *,
    batch_size: int = 5_000,
    handles: Iterable[str] = (),
    progress: Progress | None = None,
) -> int:
    """Assign every embedded post not yet assigned by ``model`` (a transaction per batch); return how many.

    Posts out of scope (not English, or by one of the brand account ``handles``) get topic -1."""
    scope = handles_json(handles)
    (pending,) = db.conn.execute(
        "SELECT count(*) FROM post_embeddings AS e LEFT JOIN post_topics AS t"
        " ON t.post_id = e.post_id AND t.model_version = ? WHERE t.post_id IS NULL",
        [model.version],
    ).fetchone()
    done, after = 0, ""
    while done < pending:
        rows = db.conn.execute(
            _PENDING_SQL, {"version": model.version, "after": after, "limit": batch_size, "handles": scope}
        ).fetchall()
        if not rows:
            break
        _assign_batch(db, model, rows)
        done += len(rows)
        after = rows[-1][0]
        if progress is not None:
            progress("topics", done, pending)
    return done


def _assign_batch(db: sqlite_utils.Database, model: TopicModel, rows: list[tuple]) -> None:
    """Assign a batch of ``(post_id, dim, vector, in_scope)`` rows: in-scope posts by nearest centroid, the
    others -1."""
    in_scope = [row for row in rows if row[3]]
    topic_ids, scores = (
        model.assign(np.vstack([unpack(blob, dim) for _, dim, blob, _ in in_scope]))
        if in_scope
        else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    )
    values = [
        (row[0], int(tid), float(score), model.version)
        for row, tid, score in zip(in_scope, topic_ids, scores, strict=True)
    ]
    values += [(row[0], -1, 0.0, model.version) for row in rows if not row[3]]
    with transaction(db):
        db.conn.executemany(_ASSIGN_SQL, values)


def _members(post_ids: Sequence[str], assignments: np.ndarray) -> dict[int, frozenset[str]]:
    """The sampled post ids of each topic of a fit."""
    groups: dict[int, set[str]] = {}
    for pid, tid in zip(post_ids, assignments.tolist(), strict=True):
        if tid >= 0:
            groups.setdefault(tid, set()).add(pid)
    return {tid: frozenset(group) for tid, group in groups.items()}


def _stored_members(db: sqlite_utils.Database, ids: Sequence[str]) -> dict[int, frozenset[str]]:
    """The active model's assignment of the sampled posts, grouped by topic (for membership overlap)."""
    groups: dict[int, set[str]] = {}
    for start in range(0, len(ids), _LOAD_CHUNK):
        chunk = json.dumps(list(ids[start : start + _LOAD_CHUNK]))
        for pid, tid in db.conn.execute(
            "SELECT post_id, topic_id FROM post_topics WHERE topic_id >= 0"
            " AND post_id IN (SELECT value FROM json_each(?))",
            [chunk],
        ):
            groups.setdefault(tid, set()).add(pid)
    return {tid: frozenset(members) for tid, members in groups.items()}
