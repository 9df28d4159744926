"""Whose voice: posts by configured brand accounts (own or competitor) give no needs and no intents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from nlp.annotate import pending_count, run_annotators
from nlp.intents import IntentAnnotator
from nlp.mentions import Brand
from nlp.needs import NeedAnnotator
from nlp.registry import build_annotators
from nlp.voice import (
    BrandAccounts,
    brand_account_posts,
    brand_account_sql,
    brand_handles,
    handle_key,
    handles_json,
)
from store import Post, upsert_posts

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
BRANDS = (
    Brand("T-Mobile", ("TMobile", "Magenta"), ("@TMobileHelp", "TMobile"), ("TMobile",)),
    Brand("Sprint", ("Sprint Wireless",), ("sprintcare",)),
    Brand("", (), ("NamelessHelp",)),  # no name: not a configured brand, its handle does not count
)
#: A care agent's reply that v1 read as the customer's ``cancel``, and one it read as a ``request`` need.
CANCEL = "@123 Please use this link to cancel the Prime Membership"
CONTACT = "@123 Please get in touch with our support team here: https://t.co/x"


def store(db, authors: dict[str, str | None], text: str) -> list[str]:
    """One post of ``text`` per native id -> author handle; their store ids, in the order given."""
    posts = [
        Post("x", native, text, WHEN, author_handle=author, lang="en") for native, author in authors.items()
    ]
    upsert_posts(db, posts)
    return [post.id for post in posts]


def batch(ids: list[str], text: str) -> list[tuple[str, str, str]]:
    return [(post_id, text, "en") for post_id in ids]


def test_handles_compare_without_at_and_case():
    assert brand_handles(BRANDS) == {"tmobilehelp", "tmobile", "sprintcare"}
    assert handle_key(" @TMobileHelp ") == handle_key("tmobilehelp") == "tmobilehelp"
    handles = BrandAccounts(BRANDS).handles
    for handle in ("TMobileHelp", "@tmobilehelp", "TMOBILEHELP", "SprintCare", "@sprintcare"):
        assert handle_key(handle) in handles, handle
    for handle in ("", "@", "TMobileHelpFan", "NamelessHelp", "AmazonHelp", "123"):
        assert handle_key(handle) not in handles, handle


AUTHORS = {
    "1": "TMobileHelp",  # own brand's care account, configured as "@TMobileHelp"
    "2": "@tmobilehelp",  # stored with an @ and in another case
    "3": "TMOBILEHELP",
    "4": "sprintcare",  # a competitor's account
    "5": "c_123",  # a customer
    "6": None,  # no handle known
    "7": "TMobileHelpFan",  # a customer whose handle contains a brand handle
    "8": "AmazonHelp",  # another company's care desk: not configured, so not excluded
}
BRAND_IDS = {"x:1", "x:2", "x:3", "x:4"}


def test_brand_account_posts_one_query_by_primary_key(db):
    ids = store(db, AUTHORS, CANCEL)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        found = brand_account_posts(db, [*ids, "x:missing"], brand_handles(BRANDS))
    finally:
        db.conn.set_trace_callback(None)
    assert found == BRAND_IDS
    assert len(statements) == 1
    assert brand_account_posts(db.conn, ids, brand_handles(BRANDS)) == BRAND_IDS  # a bare connection too
    from nlp.voice import _BRAND_POSTS_SQL, handles_json

    plan = " | ".join(
        row[3]
        for row in db.conn.execute(
            "EXPLAIN QUERY PLAN " + _BRAND_POSTS_SQL, [json.dumps(ids), handles_json(brand_handles(BRANDS))]
        )
    )
    assert "SEARCH p USING INDEX sqlite_autoindex_posts_1 (id=?)" in plan, plan
    assert "SCAN p" not in plan and "SCAN posts" not in plan, plan


#: More spellings of the same accounts as stored authors: spaces, several @, upper case, and near misses.
VARIANTS = {
    **AUTHORS,
    "9": " @TMobileHelp\t",
    "10": "@@SprintCare",
    "11": "\nsprintCARE ",
    "12": "",
    "13": "@",
    "14": "tmobilehelp_",
    "15": "T Mobile Help",
    "16": "NamelessHelp",  # the handle of a brand without a name: not configured
}


def test_the_sql_predicate_agrees_with_brand_account_posts(db):
    ids = store(db, VARIANTS, CANCEL)
    handles = brand_handles(BRANDS)
    sql = f"SELECT p.id, {brand_account_sql('p.author_handle', ':handles')} FROM posts AS p"
    flags = dict(db.conn.execute(sql, {"handles": handles_json(handles)}))
    assert set(flags.values()) == {0, 1}  # 0 or 1, never NULL (a missing author included)
    by_sql = {post_id for post_id, flag in flags.items() if flag}
    assert by_sql == brand_account_posts(db, ids, handles) == BRAND_IDS | {"x:9", "x:10", "x:11"}
    # no handles: nothing is a brand account post
    nothing = db.conn.execute(f"SELECT sum({brand_account_sql()}) FROM posts AS p", [handles_json(())])
    assert nothing.fetchone() == (0,)
    assert handles_json({"b", "a"}) == '["a", "b"]'


def test_nothing_is_a_brand_post_without_db_handles_or_ids(db):
    ids = store(db, AUTHORS, CANCEL)
    assert brand_account_posts(None, ids, brand_handles(BRANDS)) == set()
    assert brand_account_posts(db, ids, ()) == set()
    assert brand_account_posts(db, [], brand_handles(BRANDS)) == set()
    assert BrandAccounts(BRANDS).among(ids) == set()
    assert BrandAccounts([Brand("Nimbus")], db).among(ids) == set()


@pytest.mark.parametrize(
    ("annotator_class", "text", "expected"),
    [
        (IntentAnnotator, CANCEL, ("cancel", None, None, "cancel the Prime Membership")),
        (NeedAnnotator, CONTACT, ("request", "in touch with our support team here", 16, 51, None)),
    ],
)
def test_brand_accounts_give_no_rows_customers_do(db, annotator_class, text, expected):
    ids = store(db, AUTHORS, text)
    annotator = annotator_class(BRANDS, db=db)
    rows = annotator.annotate(batch(ids, text))
    assert {row[0] for row in rows} == {"x:5", "x:6", "x:7", "x:8"}
    assert all(row[1:] == expected for row in rows)
    # without a database (unit use) nothing is a brand account: every post gives the row
    unit = annotator_class(BRANDS).annotate(batch(ids, text))
    assert {row[0] for row in unit} == set(ids) and all(row[1:] == expected for row in unit)


def test_the_other_annotator_gives_nothing_for_these_texts_either(db):
    """Each text is a need or an intent, not both: the excluded posts lose exactly one kind of row."""
    assert NeedAnnotator(BRANDS).annotate([("x:1", CANCEL, "en")]) == []
    assert IntentAnnotator(BRANDS).annotate([("x:1", CONTACT, "en")]) == []


def test_construction_queries_nothing(db):
    store(db, AUTHORS, CANCEL)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        NeedAnnotator(BRANDS, db=db), IntentAnnotator(BRANDS, db=db)
        build_annotators(BRANDS, ["needs.cues", "intents.rules"], db=db)
    finally:
        db.conn.set_trace_callback(None)
    assert statements == []


def test_runner_marks_brand_posts_done_and_does_not_read_them_again(db):
    store(db, AUTHORS, CANCEL)
    upsert_posts(
        db, [Post("x", "1" + key, CONTACT, WHEN, author_handle=a, lang="en") for key, a in AUTHORS.items()]
    )
    names = ["needs.cues", "intents.rules"]
    annotators = build_annotators(BRANDS, names, db=db)
    assert run_annotators(db, annotators, batch_size=5) == {"needs.cues.v2": 16, "intents.rules.v2": 16}

    needs = db.conn.execute("SELECT post_id, kind, annotator FROM post_needs ORDER BY post_id").fetchall()
    assert needs == [(f"x:1{n}", "request", "needs.cues.v2") for n in "5678"]
    intents = db.conn.execute(
        "SELECT post_id, intent, annotator FROM post_intents ORDER BY post_id"
    ).fetchall()
    assert intents == [(f"x:{n}", "cancel", "intents.rules.v2") for n in "5678"]
    done = db.conn.execute(
        "SELECT annotator, version, count(*) FROM annotation_runs GROUP BY 1, 2 ORDER BY 1"
    ).fetchall()
    assert done == [("intents.rules", 2, 16), ("needs.cues", 2, 16)]  # the brand posts are recorded as done

    again = build_annotators(BRANDS, names, db=db)
    assert [pending_count(db, annotator) for annotator in again] == [0, 0]
    assert run_annotators(db, again) == {"needs.cues.v2": 0, "intents.rules.v2": 0}


def test_v1_rows_of_brand_posts_are_replaced_by_nothing(db):
    """A database analysed by v1 holds the care agents' rows; the v2 run removes them with the version."""
    ids = store(db, {"1": "TMobileHelp", "5": "c_123"}, CANCEL)
    old = IntentAnnotator(BRANDS)  # no db: reads like v1 did, under the v1 name
    old.name = "intents.rules.v1"
    run_annotators(db, [old])
    assert [row[0] for row in db.conn.execute("SELECT post_id FROM post_intents ORDER BY 1")] == ids
    assert run_annotators(db, build_annotators(BRANDS, ["intents.rules"], db=db)) == {"intents.rules.v2": 2}
    rows = db.conn.execute("SELECT post_id, annotator FROM post_intents").fetchall()
    assert rows == [("x:5", "intents.rules.v2")]
