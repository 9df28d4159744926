"""The annotation runner: incremental, versioned, crash-safe, memory-bounded, and erased with its posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from nlp.annotate import Annotator, parse_name, pending_count, run_annotators
from store import Post, delete_posts, derived_table_problems, upsert_posts

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def posts(count: int, text: str = "post {i} about Nimbus") -> list[Post]:
    return [Post("x", str(1000 + i), text.format(i=i), WHEN, lang="en") for i in range(count)]


@dataclass
class Counting:
    """A fake annotator: one mention row per post, remembering every batch it was given."""

    name: str = "mentions.fake.v1"
    table: str = "post_mentions"
    columns: tuple[str, ...] = ("post_id", "brand", "surface", "start_char", "end_char")
    fingerprint: str = ""
    fail_on_batch: int | None = None
    batches: list[list[str]] = field(default_factory=list)

    def annotate(self, batch):
        self.batches.append([post_id for post_id, _, _ in batch])
        if self.fail_on_batch == len(self.batches):
            raise RuntimeError("boom")
        return [(post_id, "Nimbus", "Nimbus", 0, 6) for post_id, _, _ in batch]


def rows(db, name=None):
    sql = "SELECT post_id, annotator FROM post_mentions"
    return db.conn.execute(sql + (" WHERE annotator = ?" if name else ""), [name] if name else []).fetchall()


def test_fake_satisfies_the_protocol_and_names_parse():
    assert isinstance(Counting(), Annotator)
    assert parse_name("mentions.phrase.v12") == ("mentions.phrase", 12)
    for bad in ("mentions", "mentions.v1", "Mentions.phrase.v1", "mentions.phrase.v0", "mentions.phrase"):
        with pytest.raises(ValueError, match="concern.method.vN"):
            parse_name(bad)


def test_second_run_does_no_work(db):
    upsert_posts(db, posts(25))
    annotator = Counting()
    assert run_annotators(db, [annotator], batch_size=10) == {"mentions.fake.v1": 25}
    assert [len(batch) for batch in annotator.batches] == [10, 10, 5]  # bounded batches
    assert run_annotators(db, [annotator], batch_size=10) == {"mentions.fake.v1": 0}
    assert len(annotator.batches) == 3
    upsert_posts(db, posts(27))  # two new posts only
    assert run_annotators(db, [annotator], batch_size=10) == {"mentions.fake.v1": 2}
    assert len(rows(db)) == 27


def test_an_edited_post_is_annotated_again(db):
    upsert_posts(db, posts(3))
    run_annotators(db, [Counting()])
    upsert_posts(db, [Post("x", "1001", "edited text", WHEN, lang="en")])
    annotator = Counting()
    assert run_annotators(db, [annotator]) == {"mentions.fake.v1": 1}
    assert annotator.batches == [["x:1001"]]
    assert len(rows(db)) == 3


def test_version_bump_recomputes_only_that_annotator_and_replaces_its_rows(db):
    upsert_posts(db, posts(12))
    other = Counting(name="mentions.other.v1")
    run_annotators(db, [Counting(), other], batch_size=5)
    assert len(rows(db, "mentions.fake.v1")) == len(rows(db, "mentions.other.v1")) == 12
    bumped, other_again = Counting(name="mentions.fake.v2"), Counting(name="mentions.other.v1")
    assert pending_count(db, bumped) == 12 and pending_count(db, other_again) == 0
    counts = run_annotators(db, [bumped, other_again], batch_size=5)
    assert counts == {"mentions.fake.v2": 12, "mentions.other.v1": 0}
    assert rows(db, "mentions.fake.v1") == []
    assert len(rows(db, "mentions.fake.v2")) == 12
    assert len(rows(db, "mentions.other.v1")) == 12
    versions = db.conn.execute("SELECT annotator, version, count(*) FROM annotation_runs GROUP BY 1, 2")
    assert sorted(versions.fetchall()) == [("mentions.fake", 2, 12), ("mentions.other", 1, 12)]


def test_changed_settings_recompute_like_a_new_version(db):
    upsert_posts(db, posts(6))
    run_annotators(db, [Counting()])
    changed = Counting(fingerprint="new aliases")
    assert run_annotators(db, [changed]) == {"mentions.fake.v1": 6}
    assert run_annotators(db, [Counting(fingerprint="new aliases")]) == {"mentions.fake.v1": 0}
    assert len(rows(db)) == 6


def test_crash_keeps_committed_batches_and_the_rerun_does_the_rest(db):
    upsert_posts(db, posts(25))
    crashing = Counting(fail_on_batch=2)
    with pytest.raises(RuntimeError, match="boom"):
        run_annotators(db, [crashing], batch_size=10)
    assert len(rows(db)) == 10  # batch 1 committed, batch 2 rolled back
    assert db.conn.execute("SELECT count(*) FROM annotation_runs").fetchone()[0] == 10
    rerun = Counting()
    assert run_annotators(db, [rerun], batch_size=10) == {"mentions.fake.v1": 15}
    assert not set(crashing.batches[0]) & {pid for batch in rerun.batches for pid in batch}
    assert len(rows(db)) == 25


def test_two_annotators_of_one_family_are_refused(db):
    with pytest.raises(ValueError, match="one annotator per family"):
        run_annotators(db, [Counting(), Counting(name="mentions.fake.v2")])


def test_progress_is_reported_per_batch(db):
    upsert_posts(db, posts(7))
    calls = []
    run_annotators(db, [Counting()], batch_size=3, progress=lambda *args: calls.append(args))
    assert calls[0] == ("analyze", 0, 7)
    assert calls[-1] == ("analyze", 7, 7)


def test_annotators_advance_together_over_the_same_posts(db):
    """Each id range goes through every annotator before the next: a later one reads an earlier one's rows."""
    upsert_posts(db, posts(25))
    first, second = Counting(), Counting(name="mentions.second.v1")
    run_annotators(db, [first], batch_size=10)  # first is done; only new posts are pending for it
    upsert_posts(db, posts(31))
    order = []
    first.annotate = lambda batch, f=first.annotate: order.append("first") or f(batch)
    second.annotate = lambda batch, f=second.annotate: order.append("second") or f(batch)
    counts = run_annotators(db, [first, second], batch_size=10)
    assert counts == {"mentions.fake.v1": 6, "mentions.second.v1": 31}
    assert [len(batch) for batch in second.batches] == [10, 10, 10, 1]
    assert first.batches[-2:] == [[f"x:{1000 + i}" for i in range(25, 30)], ["x:1030"]]  # cut at range ends
    assert order == ["second", "second", "first", "second", "first", "second"]  # in order, range by range
    assert sorted(post for batch in second.batches for post in batch) == [f"x:{1000 + i}" for i in range(31)]


def test_delete_posts_cascades_to_annotations(db):
    assert derived_table_problems(db) == []
    upsert_posts(db, posts(4))
    run_annotators(db, [Counting()])
    assert delete_posts(db, ["x:1000", "x:1001"], reason="deleted on x") == 2
    assert sorted(pid for pid, _ in rows(db)) == ["x:1002", "x:1003"]
    remaining = db.conn.execute("SELECT post_id FROM annotation_runs ORDER BY 1").fetchall()
    assert remaining == [("x:1002",), ("x:1003",)]


def test_real_mentions_annotator_through_the_runner(db):
    from nlp import build_annotators
    from nlp.mentions import Brand

    upsert_posts(db, [Post("x", "1", "left @Titan for nimbus mobile", WHEN)])
    only = ["mentions.phrase"]
    annotators = build_annotators([Brand("Nimbus Mobile"), Brand("Titan", handles=("Titan",))], only)
    assert run_annotators(db, annotators) == {"mentions.phrase.v2": 1}
    same = build_annotators([Brand("Nimbus Mobile"), Brand("Titan", handles=("Titan",))], only)
    assert run_annotators(db, same) == {"mentions.phrase.v2": 0}
    with_alias = build_annotators(
        [Brand("Nimbus Mobile", ("Nimbus",)), Brand("Titan", handles=("Titan",))], only
    )
    assert with_alias[0].fingerprint != annotators[0].fingerprint
    assert run_annotators(db, with_alias) == {"mentions.phrase.v2": 1}
    stored = db.conn.execute(
        "SELECT brand, surface, start_char, end_char, annotator FROM post_mentions ORDER BY 3"
    )
    assert stored.fetchall() == [
        ("Titan", "@Titan", 5, 11, "mentions.phrase.v2"),
        ("Nimbus Mobile", "nimbus mobile", 16, 29, "mentions.phrase.v2"),
    ]


def test_a_later_phase_starts_after_every_post_went_through_the_first(db):
    """A corpus-wide model (sentiment over all stored embeddings) reads its inputs complete."""
    upsert_posts(db, posts(25))
    order = []
    first, second = Counting(), Counting(name="mentions.second.v1")
    second.phase = 1
    first.annotate = lambda batch, f=first.annotate: order.append("first") or f(batch)
    second.annotate = lambda batch, f=second.annotate: order.append("second") or f(batch)
    calls = []
    counts = run_annotators(db, [second, first], batch_size=10, progress=lambda *args: calls.append(args))
    assert list(counts) == ["mentions.second.v1", "mentions.fake.v1"] and set(counts.values()) == {25}
    assert order == ["first"] * 3 + ["second"] * 3
    assert {call[0] for call in calls} == {"analyze (pass 1 of 2)", "analyze (pass 2 of 2)"}
