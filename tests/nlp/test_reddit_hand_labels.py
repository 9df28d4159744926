"""The hand-labelled Reddit draws the sentiment benchmark scores against (bench/labels/)."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from bench.sentiment_bench import LABELS, REDDIT, REDDIT_FILES, reddit_labels


def test_draws_are_disjoint_and_labelled_with_the_three_classes() -> None:
    draws = reddit_labels()
    assert [len(labels) for _, labels in draws] == [80, 120, 80]
    every = Counter(pid for _, labels in draws for pid in labels)
    assert max(every.values()) == 1  # no post is labelled in two draws
    assert {label for _, labels in draws for label in labels.values()} == set(LABELS)


def test_every_labelled_id_is_a_post_or_comment_of_the_shared_data() -> None:
    if not (REDDIT / REDDIT_FILES[0]).exists():
        pytest.skip(f"{REDDIT} is absent")
    known: dict[str, str] = {}
    for file in REDDIT_FILES:
        with (REDDIT / file).open(encoding="utf-8", newline="") as handle:
            known.update({row["id"]: row["type"] for row in csv.DictReader(handle)})
    draws = reddit_labels()
    assert all(pid in known for _, labels in draws for pid in labels)
    assert {known[pid] for pid in draws[0][1]} == {"comment"}
    assert Counter(known[pid] for pid in draws[1][1]) == {"comment": 80, "post": 40}
    assert Counter(known[pid] for pid in draws[2][1]) == {"comment": 50, "post": 30}
