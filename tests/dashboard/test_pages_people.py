"""The people pages (Segments, Customers, Search, Review) over a hand-made world: they render, their widgets
work, consent holds (C-003, who never opted in, appears nowhere) and the review page stores corrections."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dashboard
from dashboard import writes
from dashboard.auth import HASH_ENV
from dashboard.queries import people
from tests.dashboard.people_seed import XSS_TEXTS, seed_people_world

APP = str(Path(dashboard.__file__).with_name("app.py"))
PAGES = Path(APP).with_name("views")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_people_world(tmp_path_factory.mktemp("people") / "tasteradar.db")


def _use(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the dashboard at ``db_path`` with no login, and forget what other tests cached."""
    monkeypatch.setenv("TASTERADAR_DB", str(db_path))
    monkeypatch.delenv(HASH_ENV, raising=False)
    monkeypatch.delenv(people.SUPPRESS_ENV, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def use_world(world: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _use(world, monkeypatch)
    return world


def open_page(name: str) -> AppTest:
    """The app, switched to page ``name``, run once without an exception."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.switch_page(f"{PAGES.name}/{name}.py").run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def chart_rows(app: AppTest) -> list[dict]:
    """Every row of data behind the page's charts (Altair sends them as Arrow datasets)."""
    return [
        row
        for chart in app.get("vega_lite_chart")
        for dataset in chart.proto.datasets
        for row in pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    ]


def table_values(app: AppTest) -> str:
    """Every dataframe cell on the page, as one text (for 'shown anywhere' checks)."""
    return "\n".join(frame.value.to_csv() for frame in app.dataframe)


# --- segments ------------------------------------------------------------------------------------------


def test_segments_shows_micro_segments_lift_and_only_opted_in_members(use_world):
    app = open_page("segments")
    assert app.title[0].value == "Segments"
    assert app.selectbox(key="segments_broad").value == "prepaid youth"
    assert app.selectbox(key="segment_customers").options == ["Streaming gamers", "Loyal savers"]
    members = next(frame.value for frame in app.dataframe if "membership" in frame.value.columns)
    assert sorted(members["customer_id"]) == ["C-001", "C-002"]
    assert "C-003" not in table_values(app)
    assert len(app.get("vega_lite_chart")) == 2  # the customer segment's and the audience segment's lift
    assert [button.label for button in app.download_button] == [
        "Download CSV",
        "Download PARQUET",
        "Download JSON",
    ]


def test_segments_switching_micro_segment_and_audience_is_aggregate_only(use_world):
    app = open_page("segments")
    app.selectbox(key="segment_customers").set_value(2).run()
    assert not app.exception
    assert next(m for m in app.metric if m.label == "Opted-in members").value == "0"
    audience_figures = [m.label for m in app.metric][-2:]  # no churn: audience people have no CRM record
    assert audience_figures == ["People", "Mean sentiment (-1 to 1)"]
    assert not any("x:20" in cell for cell in table_values(app).split(","))  # no audience author ids


def test_segment_export_files_hold_opted_in_members_minus_suppressed(use_world):
    export = people.segment_export(1)
    assert (export.rows, export.no_consent, export.suppressed) == (2, 1, 0)
    csv_text = export.files["csv"].decode("utf-8")
    assert "C-001" in csv_text and "C-002" in csv_text and "C-003" not in csv_text
    assert sorted(pq.read_table(io.BytesIO(export.files["parquet"]))["customer_id"].to_pylist()) == [
        "C-001",
        "C-002",
    ]
    assert [record["customer_id"] for record in json.loads(export.files["json"])] == ["C-001", "C-002"]
    suppressed = people.segment_export(1, "customer_id\nC-002\n")
    assert (suppressed.rows, suppressed.suppressed) == (1, 1)
    with pytest.raises(ValueError, match="has 2 values"):
        people.segment_export(1, "C-001,C-002\n")  # a plain list holds one entry a line


def test_standing_suppression_files_apply_to_every_export(use_world, tmp_path, monkeypatch):
    dnc = tmp_path / "dnc.txt"
    dnc.write_text("x:alice\n", encoding="utf-8")
    monkeypatch.setenv(people.SUPPRESS_ENV, str(dnc))
    export = people.segment_export(1)
    assert (export.rows, export.suppressed) == (1, 1)
    assert "C-001" not in export.files["csv"].decode("utf-8")


# --- customers -----------------------------------------------------------------------------------------


def test_customers_finds_opted_in_customers_with_timeline_and_reasons(use_world):
    app = open_page("customers")
    picker = app.selectbox(key="customers_pick")
    assert picker.value == "C-001"  # highest churn risk first
    assert [option.split(" · ")[0] for option in picker.options] == ["C-001", "C-002"]
    assert next(m for m in app.metric if m.label == "Churn risk").value == "72%"
    reasons = [row["reason"] for row in chart_rows(app) if "reason" in row]
    assert reasons == [
        "talks about switching to Volt Mobile",
        "negative posts about Nimbus Mobile",
        "14 months with us",
    ]
    values = table_values(app)
    assert "ok the 5g is fast today" in values
    assert "C-003" not in values and "never show me" not in values
    assert len(app.get("vega_lite_chart")) == 2  # churn factors and sentiment over time


def test_customers_search_box_never_finds_a_customer_without_consent(use_world):
    app = open_page("customers")
    app.text_input(key="customers_query").input("C-003").run()
    assert not app.exception
    assert [info.value for info in app.info] == ["No opted-in customer matches."]
    app.text_input(key="customers_query").input("c-002").run()
    assert app.selectbox(key="customers_pick").value == "C-002"
    assert any("No churn factors stored" in caption.value for caption in app.caption)


# --- search --------------------------------------------------------------------------------------------


def test_search_finds_posts_and_shows_hostile_text_as_text(use_world):
    app = open_page("search")
    app.text_input(key="search_text").input("esim").run()
    assert not app.exception
    assert any(caption.value.startswith("14 posts match") for caption in app.caption)
    texts = set(app.dataframe[0].value["text"])
    assert set(XSS_TEXTS) <= texts
    app.multiselect(key="search_sentiment").select("negative").run()
    assert set(app.dataframe[0].value["post_id"]) == {"x:p24", "x:p25"}


def test_search_syntax_never_breaks_the_page(use_world):
    app = open_page("search")
    for typed in ("esim OR (", '"unbalanced', "NEAR(esim roaming)", "-esim", "esim*", "col:esim"):
        app.text_input(key="search_text").input(typed).run()
        assert not app.exception, typed
        assert not app.error, typed
    app.text_input(key="search_text").input("*** !!").run()
    assert "Nothing to search for" in app.warning[0].value


def test_search_pages_and_filters(use_world):
    total, first = people.search_posts("esim", people.SearchFilters(), page=1, page_size=5, order="newest")
    _, last = people.search_posts("esim", people.SearchFilters(), page=3, page_size=5, order="newest")
    assert (total, len(first), len(last)) == (14, 5, 4)
    assert list(first["created_at"]) == sorted(first["created_at"], reverse=True)
    reddit = people.SearchFilters(platforms=("reddit",))
    assert people.search_posts("esim", reddit)[0] == 1
    brand = people.SearchFilters(brands=("Volt Mobile",))
    assert set(people.search_posts("esim", brand)[1]["post_id"]) == {"x:p1"}


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("esim roaming", '"esim" "roaming"'),
        ('"no signal" 5g', '"no signal" "5g"'),
        ("stream*", '"stream"*'),
        ('say "hi', '"say" """hi"'),
        ("OR AND NOT ( -", '"OR" "AND" "NOT"'),
        ("***   ", ""),
    ],
)
def test_fts_query_quotes_every_term(typed, query):
    assert people.fts_query(typed) == query


# --- review --------------------------------------------------------------------------------------------


@pytest.fixture
def review_db(world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the world the review page may write to."""
    copy = tmp_path / "tasteradar.db"
    shutil.copy(world, copy)
    _use(copy, monkeypatch)
    return copy


def stored_corrections(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT post_id, kind, value, analyst FROM corrections ORDER BY id").fetchall()


def test_review_stores_a_sentiment_correction_and_moves_on(review_db):
    app = open_page("review")
    app.text_input(key="review_analyst").input("Ana").run()
    post_id = app.selectbox(key="review_post").value
    app.radio[0].set_value("negative")
    next(button for button in app.button if button.label == "Save sentiment").click().run()
    assert not app.exception
    assert stored_corrections(review_db) == [(post_id, "sentiment", "negative", "Ana")]
    assert post_id in set(app.dataframe[-1].value["post_id"])  # latest corrections
    app.run()
    assert post_id not in app.selectbox(key="review_post").options  # the queue holds unreviewed posts only


def test_review_stores_not_a_need_and_asks_for_a_need_first(review_db):
    app = open_page("review")
    post_id = app.selectbox(key="review_post").value
    save_need = next(button for button in app.button if button.label == "Save need")
    save_need.click().run()
    assert "Type the need" in app.warning[0].value
    assert stored_corrections(review_db) == []
    app.checkbox[0].check()
    next(button for button in app.button if button.label == "Save need").click().run()
    assert not app.exception
    assert stored_corrections(review_db) == [(post_id, "need", "", None)]


# --- writes --------------------------------------------------------------------------------------------


def test_add_correction_refuses_bad_input_and_unknown_posts(world, tmp_path):
    copy = tmp_path / "tasteradar.db"
    shutil.copy(world, copy)
    with pytest.raises(ValueError, match="not one of positive, neutral, negative"):
        writes.add_correction(copy, "x:p1", "sentiment", "great")
    with pytest.raises(ValueError, match="kind 'topic'"):
        writes.add_correction(copy, "x:p1", "topic", "x")
    with pytest.raises(ValueError, match="not in the database"):
        writes.add_correction(copy, "x:nope", "sentiment", "neutral")
    with pytest.raises(FileNotFoundError):
        writes.add_correction(tmp_path / "missing.db", "x:p1", "sentiment", "neutral")
    assert not (tmp_path / "missing.db").exists()
    assert stored_corrections(copy) == []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_corrections_become_a_label_file_sentiment_train_reads(world, tmp_path, suffix):
    from nlp.sentiment_train import read_labels

    copy = tmp_path / "tasteradar.db"
    shutil.copy(world, copy)
    writes.add_correction(copy, "x:p1", "sentiment", "neutral", "Ana")
    writes.add_correction(copy, "x:p1", "sentiment", "negative", "Ben")  # the latest wins
    writes.add_correction(copy, "x:p2", "sentiment", "  positive ", None)
    writes.add_correction(copy, "x:p3", "need", "esim for watches", "Ana")  # not a sentiment label
    for number in range(12, 20):
        writes.add_correction(copy, f"x:p{number}", "sentiment", "neutral", "Ana")
    out = tmp_path / f"labels{suffix}"
    assert writes.corrections_as_labels(copy, out) == 10  # the trainer's minimum
    labels = [(row.post_id, row.label) for row in read_labels(out)]
    assert labels[:2] == [("x:p1", "negative"), ("x:p2", "positive")]
    assert len(labels) == 10
