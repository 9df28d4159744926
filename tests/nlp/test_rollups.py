"""Rollups over annotation rows written by hand: the weekly switching matrix and share of voice per day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from nlp.rollups import SwitchRow, VoiceRow, share_of_voice, switching_matrix

A, B, C = "Nimbus Mobile", "Volt Mobile", "Titan Telecom"
INTENTS = "intents.rules.v2"


def add_post(db, post_id: str, created_at: str, platform: str = "x") -> None:
    db.conn.execute(
        "INSERT INTO posts (id, platform, native_id, text, created_at, content_hash, first_seen_at, "
        "updated_at) VALUES (?, ?, ?, 'text', ?, 'h', ?, ?)",
        [post_id, platform, post_id, created_at, created_at, created_at],
    )


def add_intent(db, post_id, intent, from_brand, to_brand, annotator=INTENTS) -> None:
    db.conn.execute(
        "INSERT INTO post_intents (post_id, intent, from_brand, to_brand, cue, annotator) "
        "VALUES (?, ?, ?, ?, 'c', ?)",
        [post_id, intent, from_brand, to_brand, annotator],
    )


def add_mention(db, post_id, brand, start, annotator="mentions.phrase.v2") -> None:
    db.conn.execute(
        "INSERT INTO post_mentions (post_id, brand, surface, start_char, end_char, annotator) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [post_id, brand, brand, start, start + 3, annotator],
    )


@pytest.fixture
def intents_db(db):
    """Posts across two ISO weeks (Sunday 2026-08-09 ends the first, Monday 2026-08-10 opens the second)."""
    posts = {
        "p1": "2026-08-03T00:00:00Z",  # Monday
        "p2": "2026-08-09T23:59:59Z",  # Sunday, same week
        "p3": "2026-08-10T00:00:00Z",  # Monday, next week
        "p4": "2026-08-10T10:00:00Z",
        "p5": "2026-08-11T10:00:00Z",
        "p6": "2026-08-12T10:00:00Z",
        "p7": "2026-08-12T11:00:00Z",
        "p8": "2026-08-13T11:00:00Z",
    }
    for post_id, created in posts.items():
        add_post(db, post_id, created, platform="reddit" if post_id in ("p3", "p7") else "x")
    add_intent(db, "p1", "switching", A, B)
    add_intent(db, "p2", "switched", A, B)
    add_intent(db, "p2", "port_out", A, B)  # same pair twice in one post: counts once
    add_intent(db, "p3", "port_out", A, C)
    add_intent(db, "p3", "switching", A, B)  # two pairs in one post: counts for each
    add_intent(db, "p4", "leaving", A, None)  # one end only: unknown bucket
    add_intent(db, "p5", "leaving", C, None)
    add_intent(db, "p5", "switching", None, A)  # ends from two rows: C -> A
    add_intent(db, "p6", "considering", A, B)  # not a move by default
    add_intent(db, "p7", "cancel", A, None)  # not counted by default, not even as unknown
    add_intent(db, "p8", "switching", B, A, annotator="intents.rules.v0")
    db.conn.commit()
    return db


def test_weeks_pairs_and_distinct_posts(intents_db):
    assert switching_matrix(intents_db) == [
        SwitchRow("2026-08-03", A, B, 2),
        SwitchRow("2026-08-10", A, C, 1),  # ties: by brand name
        SwitchRow("2026-08-10", A, B, 1),
        SwitchRow("2026-08-10", C, A, 1),
        SwitchRow("2026-08-10", B, A, 1),
    ]


def test_unknown_bucket_and_intent_choice(intents_db):
    rows = switching_matrix(intents_db.conn, unknown=True, annotator=INTENTS)
    assert SwitchRow("2026-08-10", A, None, 1) in rows
    assert all(row.from_brand != B for row in rows)  # the other annotator's row is left out
    considering = switching_matrix(intents_db, intents=("considering",))
    assert considering == [SwitchRow("2026-08-10", A, B, 1)]
    cancels = switching_matrix(intents_db, intents=("cancel",), unknown=True)
    assert cancels == [SwitchRow("2026-08-10", A, None, 1)]


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-08-10", "2026-08-12"),
        (date(2026, 8, 10), date(2026, 8, 12)),
        (datetime(2026, 8, 10, tzinfo=UTC), datetime(2026, 8, 12)),
    ],
)
def test_window_since_inclusive_until_exclusive(intents_db, since, until):
    assert switching_matrix(intents_db, since=since, until=until) == [
        SwitchRow("2026-08-10", A, C, 1),
        SwitchRow("2026-08-10", A, B, 1),
        SwitchRow("2026-08-10", C, A, 1),
    ]


def test_window_without_the_time_index_still_filters(intents_db):
    intents_db.conn.execute("DROP INDEX idx_posts_platform_created_at")
    assert switching_matrix(intents_db, since="2026-08-13") == [SwitchRow("2026-08-10", B, A, 1)]
    assert switching_matrix(intents_db, until="2026-08-04") == [SwitchRow("2026-08-03", A, B, 1)]


def test_empty_database(db):
    assert switching_matrix(db) == [] and share_of_voice(db) == []
    with pytest.raises(TypeError):
        switching_matrix(db, since=20260801)


@pytest.fixture
def voice_db(db):
    add_post(db, "p1", "2026-08-10T01:00:00Z")
    add_post(db, "p2", "2026-08-10T02:00:00Z", platform="reddit")
    add_post(db, "p3", "2026-08-10T23:59:59Z")
    add_post(db, "p4", "2026-08-11T00:00:00Z")
    add_post(db, "p5", "2026-08-11T05:00:00Z")  # mentions no brand
    add_mention(db, "p1", A, 0)
    add_mention(db, "p1", A, 10)  # the same brand twice: one post
    add_mention(db, "p1", B, 20)
    add_mention(db, "p2", A, 0)
    add_mention(db, "p3", C, 0)
    add_mention(db, "p4", B, 0)
    add_mention(db, "p4", B, 5, annotator="mentions.phrase.v1")
    db.conn.commit()
    return db


def test_share_of_voice_counts_posts_once_per_brand(voice_db):
    assert share_of_voice(voice_db) == [
        VoiceRow("2026-08-10", A, 2, 2 / 3),
        VoiceRow("2026-08-10", C, 1, 1 / 3),
        VoiceRow("2026-08-10", B, 1, 1 / 3),
        VoiceRow("2026-08-11", B, 1, 1.0),
    ]


def test_share_of_voice_window_and_annotator(voice_db):
    assert share_of_voice(voice_db.conn, since="2026-08-10T02:00:00Z", until="2026-08-11") == [
        VoiceRow("2026-08-10", A, 1, 0.5),
        VoiceRow("2026-08-10", C, 1, 0.5),
    ]
    rows = share_of_voice(voice_db, annotator="mentions.phrase.v1")
    assert rows == [VoiceRow("2026-08-11", B, 1, 1.0)]
