"""delete_posts: posts, FTS entries and derived rows go; the audit keeps ids only; no content lingers."""

from __future__ import annotations

import pytest

from store import (
    DerivedTableError,
    UpsertResult,
    delete_posts,
    derived_table_problems,
    get_post,
    open_db,
    upsert_posts,
)
from store.transactions import transaction

# The shape every later stage's table must have (store/erase.py): cascading post_id plus an index on it.
ANNOTATIONS = """
CREATE TABLE annotations (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    annotator TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (post_id, annotator)
)"""


def add_annotations(db, post_ids):
    with transaction(db) as conn:
        conn.execute(ANNOTATIONS)
        conn.executemany(
            "INSERT INTO annotations VALUES (?, 'sentiment.vader.v1', 'neg')", [[pid] for pid in post_ids]
        )


def test_the_migrated_schema_follows_the_derived_table_rule(db):
    assert derived_table_problems(db) == []
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_delete_removes_post_fts_entry_and_derived_rows_and_leaves_the_rest(db, make_post, fts_ids, count):
    posts = [make_post(text=f"roaming outage report {n} zebrafish") for n in range(5)]
    upsert_posts(db, posts)
    add_annotations(db, [post.id for post in posts])
    gone, kept = [posts[0].id, posts[3].id], [posts[1].id, posts[2].id, posts[4].id]

    assert delete_posts(db, [*gone, "x:999", gone[0]], reason="deleted on x", batch_size=2) == 2

    assert [get_post(db, pid) for pid in gone] == [None, None]
    assert all(get_post(db, pid) is not None for pid in kept)
    assert fts_ids(db, "zebrafish") == set(kept)
    annotated = {row[0] for row in db.conn.execute("SELECT post_id FROM annotations")}
    assert annotated == set(kept)
    assert count(db, "posts") == 3
    db.conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")  # index consistent


def test_audit_rows_hold_ids_and_reason_only(db, make_post):
    post = make_post(text="a secret complaint about billing", author_handle="someone")
    upsert_posts(db, [post])
    delete_posts(db, [post.id], reason="deleted on x")
    columns = [row[1] for row in db.conn.execute("PRAGMA table_info(deletions)")]
    assert columns == ["post_id", "platform", "reason", "deleted_at"]
    row = db.conn.execute("SELECT post_id, platform, reason FROM deletions").fetchone()
    assert row == (post.id, "x", "deleted on x")
    assert "billing" not in repr(db.conn.execute("SELECT * FROM deletions").fetchall())


def test_ids_not_stored_leave_no_audit_row(db, count):
    assert delete_posts(db, ["x:1", "reddit:t3_abc"], reason="deleted on x") == 0
    assert count(db, "deletions") == 0


def test_a_deleted_post_collected_again_is_not_stored(db, make_post, count):
    post, other = make_post(), make_post()
    upsert_posts(db, [post])
    delete_posts(db, [post.id], reason="deleted on x")
    result = upsert_posts(db, [post, other])
    assert result == UpsertResult(inserted=1, suppressed=1)
    assert get_post(db, post.id) is None and count(db, "quarantine") == 0
    db.conn.execute("DELETE FROM deletions WHERE post_id = ?", [post.id])  # the documented way back
    assert upsert_posts(db, [post]).inserted == 1


def test_an_edit_updates_in_place_and_keeps_derived_rows(db, make_post, fts_ids):
    post = make_post(text="first version mentions kangaroo")
    upsert_posts(db, [post])
    add_annotations(db, [post.id])
    post.text = "edited version mentions wombat"
    assert upsert_posts(db, [post]) == UpsertResult(updated=1)
    assert get_post(db, post.id).text == "edited version mentions wombat"
    assert fts_ids(db, "wombat") == {post.id} and fts_ids(db, "kangaroo") == set()
    assert db.conn.execute("SELECT count(*) FROM annotations").fetchone()[0] == 1  # no REPLACE, no cascade


@pytest.mark.parametrize(
    ("ddl", "problem"),
    [
        ("CREATE TABLE embeddings (post_id TEXT PRIMARY KEY, vector BLOB)", "no REFERENCES posts"),
        (
            "CREATE TABLE links (post_id TEXT REFERENCES posts (id), customer_id TEXT)",
            "ON DELETE NO ACTION, not CASCADE",
        ),
        (
            "CREATE TABLE post_labels (post_id TEXT REFERENCES posts (id) ON DELETE CASCADE, label INTEGER)",
            "no index starting with it",
        ),
        ("CREATE TABLE replies (reply TEXT REFERENCES posts (id) ON DELETE SET NULL)", "SET NULL"),
    ],
)
def test_a_table_that_breaks_the_rule_stops_deletion_before_anything_goes(db, make_post, count, ddl, problem):
    post = make_post()
    upsert_posts(db, [post])
    db.conn.execute(ddl)
    assert any(problem in text for text in derived_table_problems(db))
    with pytest.raises(DerivedTableError, match="refusing to delete"):
        delete_posts(db, [post.id], reason="deleted on x")
    assert get_post(db, post.id) is not None and count(db, "deletions") == 0


def test_foreign_keys_off_stops_deletion(db, make_post):
    post = make_post()
    upsert_posts(db, [post])
    db.conn.execute("PRAGMA foreign_keys = OFF")
    with pytest.raises(DerivedTableError, match="foreign_keys is off"):
        delete_posts(db, [post.id], reason="deleted on x")


def test_bad_arguments(db):
    with pytest.raises(ValueError, match="reason"):
        delete_posts(db, ["x:1"], reason=" ")
    with pytest.raises(ValueError, match="batch_size"):
        delete_posts(db, ["x:1"], reason="r", batch_size=0)
    with pytest.raises(TypeError):
        delete_posts(db, "x:1", reason="r")


def test_pruned_canary_text_is_gone_from_the_database_file(db_path, make_post):
    canary = "qzxcanary7f3e9b21unique"
    db = open_db(db_path)
    filler = [make_post(text=f"ordinary post {n} about nimbus roaming") for n in range(300)]
    target = make_post(text=f"please remove {canary} now", raw={"text": f"raw {canary}"})
    upsert_posts(db, [*filler[:150], target, *filler[150:]])
    add_annotations(db, [target.id])
    db.conn.execute("UPDATE annotations SET value = ?", [f"derived {canary}"])
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert canary.encode() in db_path.read_bytes()  # the test can see it when it is there

    assert delete_posts(db, [target.id], reason="deleted on x") == 1
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = db_path.read_bytes() + (
        db_path.with_name(db_path.name + "-wal").read_bytes()
        if db_path.with_name(db_path.name + "-wal").exists()
        else b""
    )
    assert canary.encode() not in data
    assert canary[3:15].encode() not in data  # not even the FTS index's prefix-compressed term
