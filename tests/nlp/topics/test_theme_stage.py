"""The need-themes step on a store: phrases embedded once, a first fit, incremental assignment, a refit that
keeps ids, orphaned rows dropped. Three planted needs; posts carry planted 32-dimension vectors."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np

from nlp.topics.theme_stage import ThemeStageSettings, run_themes
from nlp.topics.themes import ThemeSettings
from nlp.vectors import pack
from store import Post, delete_posts, upsert_posts

DIM = 32
NEEDS = {
    "roaming": ["a cheap roaming pass", "roaming that doesn't cost a fortune", "a travel pass for europe"],
    "esim": ["esim support", "proper esim activation", "an esim option in the app"],
    "hotspot": ["a bigger hotspot allowance", "unlimited tethering", "more hotspot data"],
}
SETTINGS = ThemeStageSettings(themes=ThemeSettings(min_theme_size=5), min_rows=50)


class WordEncoder:
    """A model-free encoder in the posts' 32 dimensions: a bag of hashed words, unit length."""

    label = "words-32"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def add_needs(db, per_need: int, *, offset: int = 0) -> list[tuple[str, str]]:
    """``per_need`` posts per planted need, each with one need row; return ``(post id, need)``."""
    rng = np.random.RandomState(offset)
    centres = {need: np.random.RandomState(index).normal(size=DIM) for index, need in enumerate(NEEDS)}
    made, posts, vectors, needs = [], [], [], []
    for index in range(per_need * len(NEEDS)):
        need = list(NEEDS)[index % len(NEEDS)]
        phrase = NEEDS[need][index % 3]
        number = offset + index
        created = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(hours=number)
        post = Post("x", str(5000 + number), f"I wish @Nimbus had {phrase}", created, lang="en")
        posts.append(post)
        vector = centres[need] + rng.normal(scale=0.3, size=DIM)
        vectors.append((post.id, "m", DIM, pack(vector / np.linalg.norm(vector)), "embeddings.test.v1"))
        needs.append((post.id, "wish", phrase, 18, 18 + len(phrase), "Nimbus", "needs.cues.v2"))
        made.append((post.id, need))
    upsert_posts(db, posts)
    db.conn.executemany("INSERT INTO post_embeddings VALUES (?, ?, ?, ?, ?)", vectors)
    db.conn.executemany("INSERT INTO post_needs VALUES (?, ?, ?, ?, ?, ?, ?)", needs)
    db.conn.commit()
    return made


def themes_of(db) -> dict[str, int]:
    return dict(db.conn.execute("SELECT post_id, theme_id FROM post_need_themes"))


def run(db, tmp_path, encoder, **kwargs):
    return run_themes(
        db, tmp_path / "models", encoder=encoder, stop_terms=("Nimbus",), settings=SETTINGS, **kwargs
    )


def test_first_run_embeds_fits_and_assigns(db, tmp_path):
    made = add_needs(db, 30)
    report = run(db, tmp_path, WordEncoder())
    assert report == {"embedded": 90, "fitted": 90, "assigned": 90, "themes": 3}
    found = themes_of(db)
    for need in NEEDS:
        assert len({found[pid] for pid, planted in made if planted == need}) == 1
    names = [name for (name,) in db.conn.execute("SELECT label FROM need_themes")]
    assert len(set(names)) == 3 and all("nimbus" not in name.lower() for name in names)
    (model,) = db.conn.execute("SELECT model FROM need_vectors LIMIT 1").fetchone()
    assert model == "words-32"


def test_second_run_does_no_work_then_only_new_rows(db, tmp_path):
    add_needs(db, 30)
    encoder = WordEncoder()
    run(db, tmp_path, encoder)
    assert run(db, tmp_path, encoder) == {"embedded": 0, "fitted": 0, "assigned": 0, "themes": 3}
    calls = encoder.calls
    made = add_needs(db, 2, offset=1000)
    report = run(db, tmp_path, encoder)
    assert report["embedded"] == 6 and report["assigned"] == 6 and report["fitted"] == 0
    assert encoder.calls == calls + 6
    found = themes_of(db)
    assert all(found[pid] >= 0 for pid, _ in made)


def test_a_changed_phrase_is_embedded_again(db, tmp_path):
    made = add_needs(db, 30)
    run(db, tmp_path, WordEncoder())
    post_id = made[0][0]
    db.conn.execute("UPDATE post_needs SET phrase = 'unlimited tethering' WHERE post_id = ?", [post_id])
    db.conn.commit()
    assert run(db, tmp_path, WordEncoder())["embedded"] == 1


def test_refit_keeps_ids_and_names(db, tmp_path):
    add_needs(db, 30)
    run(db, tmp_path, WordEncoder())
    before, names = themes_of(db), dict(db.conn.execute("SELECT theme_id, label FROM need_themes"))
    add_needs(db, 5, offset=2000)
    report = run(db, tmp_path, WordEncoder(), refit=True)
    assert report["fitted"] == 105 and report["assigned"] == 105
    after = themes_of(db)
    assert all(after[pid] == theme for pid, theme in before.items())
    assert dict(db.conn.execute("SELECT theme_id, label FROM need_themes")) == names
    events = {e for (e,) in db.conn.execute("SELECT event FROM cluster_lineage WHERE kind = 'theme'")}
    assert events == {"born", "kept"}


def test_erased_posts_and_dropped_needs_leave_no_rows(db, tmp_path):
    made = add_needs(db, 30)
    run(db, tmp_path, WordEncoder())
    delete_posts(db, [made[0][0]], reason="erased")
    db.conn.execute("DELETE FROM post_needs WHERE post_id = ?", [made[1][0]])
    db.conn.commit()
    run(db, tmp_path, WordEncoder())
    for table in ("need_vectors", "post_need_themes"):
        ids = {pid for (pid,) in db.conn.execute(f"SELECT post_id FROM {table}")}
        assert made[0][0] not in ids and made[1][0] not in ids and len(ids) == 88


def test_without_an_encoder_the_step_says_why(db, tmp_path):
    add_needs(db, 30)
    report = run_themes(db, tmp_path / "models", encoder=None, stop_terms=())
    assert report["skipped"] == "no encoder in this run" and report["assigned"] == 0


def test_another_encoder_embeds_every_phrase_again_and_refits(db, tmp_path):
    add_needs(db, 30)
    run(db, tmp_path, WordEncoder())
    other = WordEncoder()
    other.label = "words-32-v2"
    report = run(db, tmp_path, other)
    assert report["embedded"] == 90 and report["fitted"] == 90 and "words-32-v2" in report["refit_reason"]
    assert {model for (model,) in db.conn.execute("SELECT DISTINCT model FROM need_vectors")} == {
        "words-32-v2"
    }


def test_theme_export_shows_the_competitor_gap(db, tmp_path):
    from nlp.topics.daily import rebuild_daily
    from nlp.topics.theme_export import theme_records

    made = add_needs(db, 30)
    run(db, tmp_path, WordEncoder())
    praised = [pid for pid, need in made if need == "roaming"][:8]  # Volt praised on posts about roaming
    db.conn.executemany(
        "INSERT INTO brand_sentiment VALUES (?, 'Volt', 'positive', 0.8, 'brand_sentiment.clause.v1')",
        [(pid,) for pid in praised],
    )
    db.conn.executemany(
        "INSERT INTO brand_sentiment VALUES (?, 'Nimbus', 'positive', 0.8, 'brand_sentiment.clause.v1')",
        [(pid,) for pid, need in made if need == "esim"],  # praise of the own brand is never a gap
    )
    db.conn.commit()
    rebuild_daily(db)
    records = {record["label"]: record for record in theme_records(db.conn, "Nimbus")}
    roaming = next(record for label, record in records.items() if "roaming" in label or "pass" in label)
    assert roaming["competitors_praised"] == {"Volt": "8"} and roaming["competitor_gap"] is True
    assert roaming["raised_against"] == {"Nimbus": "30"} and roaming["needs"] == 30
    others = [record for record in records.values() if record is not roaming]
    assert all(not record["competitor_gap"] and not record["competitors_praised"] for record in others)
