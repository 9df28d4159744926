"""Erasure: a person's posts, accounts, CRM rows and derived rows go; no byte of them stays in the file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from customers.forget import NothingToForget, forget_customer, forget_handle
from customers.linking import link_consented
from store import (
    Customer,
    CustomerHandle,
    Post,
    open_db,
    quarantine,
    transaction,
    upsert_customers,
    upsert_handles,
    upsert_posts,
)

CANARY = "qzxcanary7f3e9b21unique"
PERSON = f"NM-{CANARY}"


def file_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def post(native_id: str, author_id: str, handle: str, text: str) -> Post:
    return Post(platform="x", native_id=native_id, text=text, created_at=datetime(2026, 10, 1, tzinfo=UTC),
                author_id=author_id, author_handle=handle, raw={"text": text, "user": handle})  # fmt: skip


@pytest.fixture
def world(tmp_path):
    """PERSON opted in the handle CANARY (x, author 777); C2 opted in 'other' (author 2); C3 recorded
    'shy' without consent (author 3); 300 filler posts; derived rows of every kind for PERSON."""
    path = tmp_path / "tasteradar.db"
    db = open_db(path)
    upsert_customers(db, [Customer(PERSON, plan="Max"), Customer("C2"), Customer("C3")])
    upsert_handles(db, [CustomerHandle(PERSON, "x", f"@{CANARY}", consent=True),
                        CustomerHandle("C2", "x", "other", consent=True),
                        CustomerHandle("C3", "x", "shy", consent=False)])  # fmt: skip
    filler = [
        post(str(n), str(1000 + n % 9), f"user{n % 9}", f"ordinary post {n} about roaming")
        for n in range(300)
    ]
    upsert_posts(db, [*filler[:150], post("9001", "777", CANARY, f"please remove {CANARY} now"),
                      post("9002", "2", "other", "a post by C2"),
                      post("9003", "3", "shy", "a post by C3"),
                      post("9004", "1001", "user1", f"RT @{CANARY.upper()}: please remove {CANARY} now"),
                      *filler[150:]])  # fmt: skip
    quarantine(
        db, source="customers:handles.csv", raw={"customer_id": PERSON, "handle": CANARY}, reason="bad"
    )
    link_consented(db)
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO post_needs VALUES ('x:9001', 'wish', ?, 0, 9, NULL, 'n.v1')", [f"{CANARY} need"]
        )
        conn.execute("INSERT INTO post_sentiment VALUES ('x:9001', 'negative', -0.5, 's.v1')")
        conn.execute("INSERT INTO churn_scores VALUES (?, 1, 0.9, ?, 'now')", [PERSON, f'["{CANARY}"]'])
        conn.execute("INSERT INTO segments (id, population, broad_segment, name, born_run, last_run, "
                     "updated_at) VALUES (1, 'customers', 'seniors', 'Seniors', 1, 1, 'now')")  # fmt: skip
        conn.execute("INSERT INTO segment_members VALUES (?, 1, 1, 0.5), ('C2', 1, 1, 0.5)", [PERSON])
        conn.execute("INSERT INTO export_records (kind, target, format, rows, content_hash, created_at) "
                     "VALUES ('segment', '1', 'csv', 2, 'h', 'now')")  # fmt: skip
        conn.execute("INSERT INTO export_members VALUES (1, ?), (1, 'C2')", [PERSON])
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert CANARY.encode() in file_bytes(path)  # the test can see it while it is there
    yield db, path
    db.close()


def count(db, sql: str, *params) -> int:
    return db.conn.execute(f"SELECT count(*) FROM {sql}", params).fetchone()[0]


def test_forgetting_a_customer_leaves_no_byte_of_them_in_the_file(world):
    db, path = world
    report = forget_customer(db, PERSON)
    assert (report.customers, report.authors, report.posts, report.handles, report.quarantined) == (
        1,
        1,
        1,
        1,
        1,
    )
    db.close()
    data = file_bytes(path)
    assert CANARY.encode() not in data
    assert CANARY[3:15].encode() not in data  # not even the FTS index's prefix-compressed term

    db = open_db(path)
    try:
        assert count(db, "customers") == 2 and count(db, "posts") == 302 and count(db, "customer_links") == 1
        assert count(db, "segment_members") == 1 and count(db, "export_members") == 1
        assert (
            count(db, "churn_scores") == 0 and count(db, "post_needs") == 0 and count(db, "quarantine") == 0
        )
        assert (
            count(db, "deletions WHERE post_id IN ('x:9001', 'x:9004') AND reason = 'erased on request'") == 2
        )
        audit = db.conn.execute(
            "SELECT action, customer_id, platform, reason FROM link_audit ORDER BY id"
        ).fetchall()
        assert ("linked", None, "x", "handle opted in by the customer matches this account") in audit
        assert audit[-1] == (
            "forgotten",
            None,
            None,
            "erased on request: 1 customer(s), 1 account(s), 1 post(s), 1 repost(s), 1 handle(s)",
        )
        assert count(db, "link_audit WHERE customer_id IS NOT NULL AND customer_id NOT IN ('C2', 'C3')") == 0
    finally:
        db.close()


def test_forgetting_an_unlinked_handle_keeps_the_customer_who_recorded_it(world):
    db, path = world
    report = forget_handle(db, "X", "@SHY")
    assert (report.customers, report.authors, report.posts, report.handles) == (0, 1, 1, 1)
    assert count(db, "customers WHERE customer_id = 'C3'") == 1
    assert count(db, "customer_handles WHERE customer_id = 'C3'") == 0
    assert count(db, "authors WHERE handle = 'shy'") == 0 and count(db, "posts WHERE author_id = '3'") == 0
    db.close()
    assert b"a post by C3" not in file_bytes(path)


def test_forgetting_a_linked_handle_forgets_the_customer_it_is_linked_to(world):
    db, path = world
    report = forget_handle(db, "twitter", CANARY.upper())
    assert (report.customers, report.authors, report.posts, report.reposts) == (1, 1, 1, 1)
    assert count(db, f"customers WHERE customer_id = '{PERSON}'") == 0
    db.close()
    assert CANARY.encode() not in file_bytes(path)


def test_nothing_to_forget_changes_nothing(world):
    db, _path = world
    with pytest.raises(NothingToForget, match="no customer 'C404' is stored"):
        forget_customer(db, "C404")
    with pytest.raises(NothingToForget, match="no account and no customer handle match x:nobody"):
        forget_handle(db, "x", "@nobody")
    with pytest.raises(ValueError, match="PLATFORM:HANDLE"):
        forget_handle(db, "x", " @ ")
    assert count(db, "link_audit WHERE action = 'forgotten'") == 0 and count(db, "customers") == 3
