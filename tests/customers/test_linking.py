"""Consent-gated linking: only opted-in handles link, per platform, after normalisation; all audited."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest

from customers.linking import LinkRefused, link_author, link_consented, platform_handle
from store import Author, Customer, CustomerHandle, open_db, upsert_authors, upsert_customers, upsert_handles

NOW = datetime(2026, 10, 1, tzinfo=UTC)


def setup(db, handles, authors, customers=("C1", "C2", "C3")):
    """Store customers, their recorded handles ``(customer, platform, handle, consent)`` and authors
    ``(platform, native_id, handle, display_name)``."""
    upsert_customers(db, [Customer(customer_id=c) for c in customers])
    upsert_handles(db, [CustomerHandle(c, p, h, consent=k, consent_source="web") for c, p, h, k in handles])
    upsert_authors(db, [Author(platform=p, native_id=n, handle=h, display_name=d) for p, n, h, d in authors])


def links(db) -> dict[str, str]:
    return dict(db.conn.execute("SELECT author_id, customer_id FROM customer_links"))


def audit(db) -> list[tuple[str, str | None, str | None, str]]:
    return db.conn.execute(
        "SELECT action, customer_id, platform, reason FROM link_audit ORDER BY id"
    ).fetchall()


def test_a_handle_without_consent_never_links_even_when_it_matches(db):
    setup(db, [("C1", "x", "mia", False), ("C2", "x", "jack", True)],
          [("x", "1", "mia", "Mia"), ("x", "2", "jack", "Jack")])  # fmt: skip
    report = link_consented(db, now=NOW)
    assert links(db) == {"x:2": "C2"}
    assert (report.linked, report.refused, report.ambiguous) == (1, 1, 0)
    assert audit(db) == [
        ("linked", "C2", "x", "handle opted in by the customer matches this account"),
        ("refused", "C1", "x", "handle matches an author but the customer did not opt in (consent = 0)"),
    ]
    with pytest.raises(LinkRefused, match="did not opt in"):
        link_author(db, "x:1", "C1")
    assert links(db) == {"x:2": "C2"}
    assert audit(db)[-1][:3] == ("refused", "C1", "x")  # the manual attempt is audited too
    assert not any(handle in reason for *_rest, reason in audit(db) for handle in ("mia", "jack"))


def test_handles_match_after_normalisation_and_only_on_their_own_platform(db):
    recorded = [
        ("C1", "x", "@MiaWalsh", True),
        ("C2", "reddit", "u/Omar-Night39", True),
        ("C3", "x", "omar", True),
    ]
    accounts = [("x", "1", "miawalsh", None), ("reddit", "2", "Omar-Night39", None),
                ("reddit", "3", "omar", None), ("bluesky", "4", "MiaWalsh", None)]  # fmt: skip
    setup(db, recorded, accounts)
    link_consented(db, now=NOW)
    assert links(db) == {"x:1": "C1", "reddit:2": "C2"}
    assert platform_handle("reddit", "/u/Name") == "name" and platform_handle("x", "u/name") == "u/name"


def test_never_by_display_name_or_a_similar_handle(db):
    setup(db, [("C1", "x", "miawalsh", True)],
          [("x", "1", "mia_walsh", "miawalsh"), ("x", "2", "miawalsh1", "Mia Walsh")])  # fmt: skip
    report = link_consented(db, now=NOW)
    assert links(db) == {} and report.refused == 0 and audit(db) == []


def test_a_handle_claimed_by_two_opted_in_customers_links_neither(db):
    setup(db, [("C1", "x", "shared", True), ("C2", "x", "@Shared", True)], [("x", "1", "shared", None)])
    report = link_consented(db, now=NOW)
    assert links(db) == {} and (report.refused, report.ambiguous) == (2, 2)
    assert sorted(row[:2] for row in audit(db)) == [("refused", "C1"), ("refused", "C2")]
    assert all("claimed by 2 customers" in row[3] for row in audit(db))


def test_two_accounts_sharing_a_handle_are_ambiguous(db):
    setup(db, [("C1", "x", "bob", True)], [("x", "1", "Bob", None), ("x", "2", "bob", None)])
    report = link_consented(db, now=NOW)
    assert links(db) == {} and report.ambiguous == 1
    assert audit(db) == [
        ("refused", "C1", "x", "ambiguous: 2 accounts on x share the handle; none is linked")
    ]


def test_a_second_run_writes_nothing_new(db):
    recorded = [
        ("C1", "x", "mia", True),
        ("C2", "x", "jack", False),
        ("C3", "x", "a", True),
        ("C1", "x", "a", True),
    ]
    setup(db, recorded, [("x", "1", "mia", None), ("x", "2", "jack", None), ("x", "3", "a", None)])
    first = link_consented(db, now=NOW)
    rows = audit(db)
    second = link_consented(db, now=NOW)
    assert audit(db) == rows
    assert (first.linked, first.audit_rows, first.refused) == (1, 4, 3)
    assert (second.linked, second.kept, second.unlinked, second.audit_rows, second.refused) == (0, 1, 0, 0, 3)


def test_withdrawn_consent_unlinks_once(db):
    setup(
        db,
        [("C1", "x", "mia", True), ("C2", "x", "jack", True)],
        [("x", "1", "mia", None), ("x", "2", "jack", None)],
    )
    link_consented(db, now=NOW)
    upsert_handles(db, [CustomerHandle("C1", "x", "mia", consent=False)])
    db.conn.execute("DELETE FROM customer_handles WHERE customer_id = 'C2'")
    report = link_consented(db, now=NOW)
    assert links(db) == {} and report.unlinked == 2
    assert audit(db)[2:] == [
        ("unlinked", "C1", "x", "consent withdrawn: the handle is no longer opted in"),
        (
            "unlinked",
            "C2",
            "x",
            "the opted-in handle no longer matches this account (removed from the CRM or changed)",
        ),
        ("refused", "C1", "x", "handle matches an author but the customer did not opt in (consent = 0)"),
    ]
    link_consented(db, now=NOW)
    assert len(audit(db)) == 5
    upsert_handles(db, [CustomerHandle("C1", "x", "mia", consent=True)])  # opted in again
    assert link_consented(db, now=NOW).linked == 1 and links(db) == {"x:1": "C1"}


def test_manual_link_passes_only_through_the_gate(db):
    setup(db, [("C1", "x", "mia", True)], [("x", "1", "mia", None), ("x", "2", "jack", None)])
    assert link_author(db, "x:1", "C1", now=NOW) is True
    assert link_author(db, "x:1", "C1", now=NOW) is False
    with pytest.raises(LinkRefused, match="no matching handle"):
        link_author(db, "x:2", "C1", now=NOW)
    with pytest.raises(LinkRefused, match="no such author"):
        link_author(db, "x:404", "C1", now=NOW)
    with pytest.raises(LookupError, match="no customer 'C404'"):
        link_author(db, "x:1", "C404", now=NOW)
    assert links(db) == {"x:1": "C1"}
    assert [row[0] for row in audit(db)] == ["linked", "refused", "refused"]
    stored = db.conn.execute("SELECT consent_source, linked_at FROM customer_links").fetchone()
    assert stored == ("web", "2026-10-01T00:00:00Z")


def test_the_demo_world_links_exactly_the_planted_opted_in_customers(small_demo, tmp_path):
    for path in small_demo.db_path.parent.glob(small_demo.db_path.name + "*"):
        shutil.copy(path, tmp_path / path.name)
    truth = json.loads(small_demo.truth_path.read_text(encoding="utf-8"))["customers"]
    db = open_db(tmp_path / small_demo.db_path.name)
    try:
        report = link_consented(db, now=NOW)
        expected = {c["author"]: cid for cid, c in truth.items() if c["consent"] and c["author"]}
        refused = {cid for cid, c in truth.items() if c["has_handle"] and not c["consent"] and c["author"]}
        assert links(db) == expected
        assert report.refused == len(refused) and report.ambiguous == 0
        assert {row[1] for row in audit(db) if row[0] == "refused"} == refused
        assert link_consented(db, now=NOW).audit_rows == 0
    finally:
        db.close()
