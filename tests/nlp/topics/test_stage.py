"""The topics step of analyze on a store: first fit, incremental assignment, refit with stable ids, rollups
and exports. Posts carry planted embeddings (six well-separated blobs), the fit uses the fast backend."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from nlp.mentions import Brand
from nlp.topics.export import representative_posts
from nlp.topics.fit import FitSettings
from nlp.topics.pipeline import ClusterSettings, brand_stop_terms, run_clusters
from nlp.topics.stage import TopicSettings, run_topics, sample_ids
from nlp.topics.trend_stage import run_trends
from nlp.vectors import pack
from nlp.voice import brand_handles
from store import Post, upsert_posts

WORDS = [
    ("roaming", "abroad", "travel"),
    ("hotspot", "tethering", "laptop"),
    ("esim", "activation", "qr"),
    ("gaming", "ping", "latency"),
    ("invoice", "vat", "accountant"),
    ("landline", "home", "number"),
]
BRANDS = [Brand("Nimbus Mobile", aliases=("Nimbus",), handles=("nimbusmobile",))]
DIM = 32
START = datetime(2026, 7, 1, tzinfo=UTC)


def settings(**fit) -> ClusterSettings:
    return ClusterSettings(topics=TopicSettings(fit=FitSettings(backend="fast", **fit), min_posts=50))


def add_posts(
    db,
    count: int,
    *,
    offset: int = 0,
    seed: int = 0,
    lang: str = "en",
    days: int = 40,
    topics=None,
    extra="",
    authors=(None,),
    words=WORDS,
    centres_seed=99,
) -> list[str]:
    """``count`` posts on ``days`` days, topic ``i % len(words)`` (or ``topics[i]``), each with a vector near
    its topic's planted centroid (centroids drawn with ``centres_seed``); ``extra`` words end each text;
    post ``i`` is by ``authors[i % len(authors)]``."""
    rng = np.random.RandomState(seed)
    centres = np.random.RandomState(centres_seed).normal(size=(len(words), DIM))
    posts, vectors = [], []
    for index in range(offset, offset + count):
        topic = index % len(words) if topics is None else topics[index - offset]
        text = " ".join(rng.choice(words[topic], size=4))
        brand = "@nimbusmobile " if index % 2 else ""
        created = START + timedelta(days=(index // len(words)) % days, minutes=index % 1000)
        author = authors[index % len(authors)]
        posts.append(
            Post(
                "x",
                str(1000 + index),
                f"{brand}{text} again {extra}".strip(),
                created,
                lang=lang,
                author_handle=author,
            )
        )
        vector = centres[topic] + rng.normal(scale=0.15, size=DIM)
        vectors.append(vector / np.linalg.norm(vector))
    upsert_posts(db, posts)
    rows = [
        (post.id, "test-model", DIM, pack(vector), "embeddings.test.v1")
        for post, vector in zip(posts, vectors, strict=True)
    ]
    db.conn.executemany(
        "INSERT INTO post_embeddings (post_id, model, dim, vector, annotator) VALUES (?, ?, ?, ?, ?)", rows
    )
    db.conn.commit()
    return [post.id for post in posts]


#: A care desk's replies: one tight cluster of boilerplate, unlike anything customers write.
CARE = [("dm", "send", "details", "glad", "hear", "sorry")]
#: The care desks' handles as stored authors, in the spellings handles come in (configured "@TMobileHelp").
CARE_DESKS = ("tmobilehelp", "@TMobileHelp", "TMOBILEHELP", "NimbusMobile", " @nimbusmobile")
CUSTOMERS = (None, "c_123", "TMobileHelpFan", "AmazonHelp")  # AmazonHelp: a care desk nobody configured
DESK_BRANDS = [*BRANDS, Brand("T-Mobile", handles=("@TMobileHelp",))]


def add_world(db) -> tuple[list[str], list[str]]:
    """600 customer posts on the six planted topics and 120 care desk replies; their ids."""
    customers = add_posts(db, 600, authors=CUSTOMERS)
    desks = add_posts(db, 120, offset=600, seed=3, words=CARE, centres_seed=7, authors=CARE_DESKS)
    return customers, desks


def assignments(db) -> dict[str, int]:
    return dict(db.conn.execute("SELECT post_id, topic_id FROM post_topics"))


def run(db, tmp_path, **kwargs):
    return run_clusters(db, tmp_path / "models", brands=BRANDS, settings=settings(), **kwargs)


def test_brand_terms_are_stop_terms():
    assert brand_stop_terms(BRANDS) == ("Nimbus Mobile", "Nimbus", "nimbusmobile")


def test_first_run_fits_and_assigns_every_post(db, tmp_path):
    ids = add_posts(db, 600)
    report = run(db, tmp_path)["topics"]
    assert report["fitted"] == 600 and report["assigned"] == 600
    assert report["topics"] == len(WORDS)
    found = assignments(db)
    assert set(found) == set(ids)
    assert sum(topic == -1 for topic in found.values()) <= 0.15 * len(ids)
    # every planted topic lands in one fitted topic
    for planted in range(len(WORDS)):
        members = {found[pid] for index, pid in enumerate(ids) if index % len(WORDS) == planted}
        assert len(members - {-1}) == 1
    labels = [row[0] for row in db.conn.execute("SELECT label FROM topics")]
    assert all("nimbus" not in label.lower() for label in labels)
    assert any("roaming" in label or "abroad" in label or "travel" in label for label in labels)
    (active,) = db.conn.execute(
        "SELECT count(*) FROM cluster_models WHERE kind = 'topic' AND active = 1"
    ).fetchone()
    assert active == 1
    events = {row[0] for row in db.conn.execute("SELECT event FROM cluster_lineage WHERE kind = 'topic'")}
    assert events == {"born"}
    saved = (tmp_path / "models" / "topics").rglob("model.json")
    assert not any("x:10" in path.read_text() for path in saved)  # the model file names no post


def test_second_run_assigns_only_new_posts(db, tmp_path):
    old = add_posts(db, 600)
    run(db, tmp_path)
    assert run(db, tmp_path)["topics"] == {"fitted": 0, "assigned": 0, "topics": len(WORDS)}
    new = add_posts(db, 30, offset=600, seed=1)
    report = run(db, tmp_path)["topics"]
    assert report["fitted"] == 0 and report["assigned"] == 30
    found = assignments(db)
    for index, pid in enumerate(new, start=600):
        assert found[pid] == found[old[index % len(WORDS)]]  # the topic of its planted siblings


def test_non_english_posts_get_no_topic(db, tmp_path):
    add_posts(db, 600)
    others = add_posts(db, 12, offset=600, lang="es")
    run(db, tmp_path)
    found = assignments(db)
    assert all(found[pid] == -1 for pid in others)


def test_brand_account_posts_are_out_of_the_topic_model(db, tmp_path):
    customers, desks = add_world(db)
    sampled = sample_ids(db, 10_000, 0, brand_handles(DESK_BRANDS))
    assert sampled == sorted(customers)  # the fit sample holds no care desk reply
    report = run_clusters(db, tmp_path / "models", brands=DESK_BRANDS, settings=settings())["topics"]
    assert report["fitted"] == 600 and report["assigned"] == 720 and report["topics"] == len(WORDS)
    found = assignments(db)
    assert all(found[pid] == -1 for pid in desks)
    for planted in range(len(WORDS)):  # customers get their topics as without any care desk
        members = {found[pid] for index, pid in enumerate(customers) if index % len(WORDS) == planted}
        assert len(members - {-1}) == 1
    labels = " ".join(row[0] for row in db.conn.execute("SELECT label FROM topics"))
    assert not {"dm", "send", "glad", "sorry"} & set(labels.replace(",", " ").split())
    fitted, share, params = db.conn.execute(
        "SELECT fitted, unassigned_share, params FROM cluster_models WHERE active = 1 AND kind = 'topic'"
    ).fetchone()
    assert fitted == 600 and share == report["unassigned_share"]  # a share of the customer posts
    assert json.loads(params)["brand_accounts"] == ["nimbusmobile", "tmobilehelp"]
    for topic_id in {found[pid] for pid in customers} - {-1}:
        assert not set(representative_posts(db.conn, topic_id)) & set(desks)


def test_without_handles_brand_account_posts_stay_in_scope(db, tmp_path):
    customers, desks = add_world(db)
    everything = sorted(customers + desks)
    assert sample_ids(db, 10_000, 0) == sample_ids(db, 10_000, 0, ()) == everything
    assert sample_ids(db, 300, 0) == sample_ids(db, 300, 0, frozenset())  # the same seeded sample
    topic_settings = replace(settings().topics, fit=replace(settings().topics.fit, stop_terms=("Nimbus",)))
    assert topic_settings.brand_handles == frozenset()  # the default: nothing excluded
    report = run_topics(db, tmp_path / "models", settings=topic_settings)
    assert report["fitted"] == 720 and report["topics"] == len(WORDS) + 1  # the boilerplate is a topic
    found = assignments(db)
    assert len({found[pid] for pid in desks} - {-1}) == 1


def test_new_handles_wait_for_a_refit(db, tmp_path):
    """Assignments are not revisited when the handles change; ``--refit`` reassigns every post."""
    customers, desks = add_world(db)
    run_clusters(db, tmp_path / "models", brands=[Brand("Nimbus Mobile")], settings=settings())
    before = assignments(db)
    desk_topics = [before[pid] for pid in desks]  # without handles the replies make a topic of their own
    assert len(set(desk_topics) - {-1}) == 1 and desk_topics.count(-1) <= 12
    again = run_clusters(db, tmp_path / "models", brands=DESK_BRANDS, settings=settings())["topics"]
    assert again["fitted"] == 0 and again["assigned"] == 0 and assignments(db) == before
    refit = run_clusters(db, tmp_path / "models", brands=DESK_BRANDS, settings=settings(), refit=True)
    assert refit["topics"]["fitted"] == 600 and refit["topics"]["assigned"] == 720
    after = assignments(db)
    assert set(after) == set(customers + desks) and all(after[pid] == -1 for pid in desks)
    (version,) = db.conn.execute(
        "SELECT version FROM cluster_models WHERE kind = 'topic' AND active = 1"
    ).fetchone()
    assert db.conn.execute("SELECT count(DISTINCT model_version) FROM post_topics").fetchone() == (1,)
    assert db.conn.execute("SELECT DISTINCT model_version FROM post_topics").fetchone() == (version,)


def test_refit_keeps_ids_and_labels(db, tmp_path):
    add_posts(db, 600)
    run(db, tmp_path)
    before = assignments(db)
    labels = dict(db.conn.execute("SELECT topic_id, label FROM topics"))
    add_posts(db, 120, offset=600, seed=2)
    report = run(db, tmp_path, refit=True)["topics"]
    assert report["fitted"] == 720 and report["assigned"] == 720
    after = assignments(db)
    # a post that has a topic in both fits has the same id; a few move across the assignment threshold
    assert all(after[pid] == topic for pid, topic in before.items() if topic >= 0 and after[pid] >= 0)
    assert sum(after[pid] != topic for pid, topic in before.items()) <= 0.02 * len(before)
    assert dict(db.conn.execute("SELECT topic_id, label FROM topics")) == labels
    versions = [row[0] for row in db.conn.execute("SELECT version FROM cluster_models ORDER BY fitted_at")]
    assert len(versions) == 2
    second = {row[0] for row in db.conn.execute(
        "SELECT event FROM cluster_lineage WHERE model_version = ?", [versions[1]]
    )}  # fmt: skip
    assert second == {"kept"}
    (old_rows,) = db.conn.execute(
        "SELECT count(*) FROM post_topics WHERE model_version != ?", [versions[1]]
    ).fetchone()
    assert old_rows == 0


def test_rollups_count_posts_per_topic_day_and_brand(db, tmp_path, mentions):
    add_posts(db, 600)
    mentions()
    run(db, tmp_path)
    total, branded = db.conn.execute(
        "SELECT sum(posts), sum(CASE WHEN brand != '' THEN posts END) FROM topic_daily"
    ).fetchone()
    assert total == 600 and branded == 300
    (brands,) = db.conn.execute(
        "SELECT group_concat(DISTINCT brand) FROM topic_daily WHERE brand != ''"
    ).fetchone()
    assert brands == "Nimbus Mobile"


@pytest.fixture
def mentions(db):
    """Posts' brand mentions as the mentions annotator would store them (the odd ones name @nimbusmobile)."""

    def store():
        rows = [
            (pid, "Nimbus Mobile", "@nimbusmobile", 0, 13, "mentions.phrase.v2")
            for (pid, text) in db.conn.execute("SELECT id, text FROM posts")
            if text.startswith("@nimbusmobile")
        ]
        db.conn.executemany(
            "INSERT INTO post_mentions (post_id, brand, surface, start_char, end_char, annotator)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.conn.commit()

    return store


def test_exports_carry_topics(db, tmp_path, mentions):
    from nlp.export import post_records
    from nlp.topics.export import topic_records

    add_posts(db, 600)
    mentions()
    run(db, tmp_path)
    records = list(post_records(db.conn))
    assert all(record["topic_id"] is not None for record in records)
    labelled = [record for record in records if record["topic_id"] >= 0]
    assert labelled and all(record["topic_label"] for record in labelled)
    topics = list(topic_records(db.conn))
    assert len(topics) == len(WORDS)
    assert sum(topic["posts"] for topic in topics) == len(labelled)
    first = topics[0]
    assert first["status"] == "active" and first["lineage"][0].startswith("born@topics.bertopic.v1@")
    branded = {record["topic_id"] for record in labelled if record["brands"]}
    assert all(set(topic["brands"]) == {"Nimbus Mobile"} for topic in topics if topic["topic_id"] in branded)
    assert all(not topic["brands"] for topic in topics if topic["topic_id"] not in branded)
    assert first["posts_7d"] >= 0 and first["terms"]
    assert json.dumps(topics)  # every value is plain JSON


def test_a_growing_topic_and_its_term_are_flagged_with_explanations(db, tmp_path, mentions):
    add_posts(db, 90 * 30, days=90)  # 30 posts a day over 90 days, 5 per topic
    late = [3] * 7 * 15
    ids = add_posts(db, len(late), offset=90 * 30, seed=5, days=7, topics=late, extra="satellite texting")
    shift = timedelta(days=83)
    db.conn.executemany(  # the extra posts fall on the last 7 days
        "UPDATE posts SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, ?) WHERE id = ?",
        [(f"+{shift.days} days", pid) for pid in ids],
    )
    db.conn.commit()
    mentions()
    report = run(db, tmp_path)
    assert report["emerging"]["topic"] >= 1 and report["emerging"]["term"] >= 1
    late_sql = "SELECT topic_id FROM post_topics WHERE post_id IN (SELECT value FROM json_each(?))"
    topic_of_late = {row[0] for row in db.conn.execute(late_sql, [json.dumps(ids)])}
    flagged = db.conn.execute("SELECT kind, key, day, explanation FROM emerging ORDER BY day").fetchall()
    topics = {int(key) for kind, key, _, _ in flagged if kind == "topic"}
    assert topics == topic_of_late - {-1}  # the growing topic, and no other
    terms = {key for kind, key, _, _ in flagged if kind == "term"}
    assert "satellite" in terms and "satellite texting" in terms
    # the growing topic's own words grew too; the other topics' words did not
    assert not {word for term in terms for word in term.split()} & {"roaming", "hotspot", "esim", "invoice"}
    first_topic_day = min(day for kind, _, day, _ in flagged if kind == "topic")
    assert "2026-09-22" <= first_topic_day <= "2026-09-28"  # within the trend's first 7 days
    explanation = json.loads([e for kind, _, _, e in flagged if kind == "topic"][-1])
    assert "satellite" in [term for term, _, _ in explanation["drivers"]]
    assert explanation["brands"] == {"Nimbus Mobile": pytest.approx(explanation["brands"]["Nimbus Mobile"])}
    # a second run with nothing new leaves the flags alone; a forced one re-evaluates and replaces them
    again = run(db, tmp_path)
    assert again["emerging"] == {"up_to_date": True}
    forced = run_trends(db, stop_terms=brand_stop_terms(BRANDS), settings=settings().trends, full=True)
    assert forced == report["emerging"]
    assert db.conn.execute("SELECT count(*) FROM emerging").fetchone()[0] == len(flagged)


def test_posts_embedded_by_another_model_trigger_a_refit(db, tmp_path):
    add_posts(db, 600)
    run(db, tmp_path)
    db.conn.execute("UPDATE post_embeddings SET model = 'another-model'")
    db.conn.commit()
    report = run(db, tmp_path)["topics"]
    assert report["fitted"] == 600 and "another-model" in report["refit_reason"]
    (model,) = db.conn.execute(
        "SELECT version FROM cluster_models WHERE kind = 'topic' AND active = 1"
    ).fetchone()
    assert (
        db.conn.execute("SELECT count(*) FROM post_topics WHERE model_version = ?", [model]).fetchone()[0]
        == 600
    )
