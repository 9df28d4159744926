"""Agreement of the stored annotations with the demo world's planted truth (``truth.json``), per annotator.

Each check reads what ``run_annotators`` stored in the demo database and returns a Markdown block; the NLP
benchmark (``bench/nlp_bench.py``) prints them under its demo-world section. Truth labels per post: ``lang``,
``intent`` (``switch``, ``churn`` or ``none``) with ``from_brand`` / ``to_brand``, ``need`` / ``need_phrase``,
``sentiment`` and ``brand_sentiment``.
"""

from __future__ import annotations

from collections import defaultdict

from bench.run import markdown_table
from nlp.annotate import EFFECTIVE_LANG_SQL

_SWITCH_KINDS = {"switching", "switched", "considering"}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 (0 where undefined), rounded to 3 places."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(precision, 3), round(recall, 3), round(f1, 3)


def _rows_by_post(conn, sql: str) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in conn.execute(sql):
        grouped[row[0]].append(row[1:])
    return grouped


def _coarse_intent(rows: list[tuple]) -> str:
    """The demo's coarse intent of a post's intent rows: switch (a move or a to-brand), churn, or none."""
    kinds = {row[0] for row in rows}
    if kinds & _SWITCH_KINDS or any(row[2] for row in rows):
        return "switch"
    return "churn" if kinds else "none"


def intents_check(conn, truth: dict) -> str:
    """Switch and churn detection (English posts: the annotator skips the others) and brand ends."""
    found = _rows_by_post(conn, "SELECT post_id, intent, from_brand, to_brand FROM post_intents")
    posts = {pid: label for pid, label in truth["posts"].items() if label["lang"] == "en"}
    rows, ends = [], {"from": [0, 0], "to": [0, 0]}
    for kind in ("switch", "churn"):
        tp = fp = fn = 0
        for pid, label in posts.items():
            predicted = _coarse_intent(found.get(pid, []))
            tp += predicted == kind and label["intent"] == kind
            fp += predicted == kind and label["intent"] != kind
            fn += predicted != kind and label["intent"] == kind
        rows.append((kind, tp, fp, fn, *prf(tp, fp, fn)))
    for pid, label in posts.items():
        if label["intent"] == "none" or pid not in found:
            continue
        stated_from = next((row[1] for row in found[pid] if row[1]), None)
        stated_to = next((row[2] for row in found[pid] if row[2]), None)
        ends["from"][0] += stated_from == label["from_brand"]
        ends["from"][1] += 1
        if label["to_brand"]:
            ends["to"][0] += stated_to == label["to_brand"]
            ends["to"][1] += 1
    table = markdown_table(["intent", "tp", "fp", "fn", "precision", "recall", "F1"], rows)
    from_ok, from_n = ends["from"]
    to_ok, to_n = ends["to"]
    return (
        f"**Intents** (`intents.rules`, {len(posts):,} English posts; `switching`, `switched`, `considering` "
        "or a to-brand count as the demo's switch):\n\n"
        + table
        + f"\n\nFrom-brand right on {from_ok:,} of {from_n:,} detected planted intents "
        f"({from_ok / max(from_n, 1):.3f}); to-brand on {to_ok:,} of {to_n:,} ({to_ok / max(to_n, 1):.3f})."
    )


def _tokens(text: str) -> list[str]:
    return [token for token in "".join(c.lower() if c.isalnum() else " " for c in text).split() if token]


def token_f1(found: str, planted: str) -> float:
    """Token-overlap F1 of two phrases (bag of lowercase words)."""
    a, b = _tokens(found), _tokens(planted)
    if not a or not b:
        return 0.0
    common = sum(min(a.count(t), b.count(t)) for t in set(a))
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def needs_check(conn, truth: dict) -> str:
    """Per-post need detection on English posts and how well the stored phrase matches the planted one."""
    found = _rows_by_post(conn, "SELECT post_id, phrase FROM post_needs")
    posts = {pid: label for pid, label in truth["posts"].items() if label["lang"] == "en"}
    tp = fp = fn = 0
    overlaps = []
    for pid, label in posts.items():
        planted, phrases = label["need"] is not None, [row[0] for row in found.get(pid, [])]
        tp += planted and bool(phrases)
        fp += not planted and bool(phrases)
        fn += planted and not phrases
        if planted and phrases and label["need_phrase"]:
            overlaps.append(max(token_f1(phrase, label["need_phrase"]) for phrase in phrases))
    mean_overlap = sum(overlaps) / len(overlaps) if overlaps else 0.0
    table = markdown_table(
        ["posts with a need", "tp", "fp", "fn", "precision", "recall", "F1", "phrase token F1 (mean)"],
        [(sum(label["need"] is not None for label in posts.values()), tp, fp, fn, *prf(tp, fp, fn),
          round(mean_overlap, 3))],
    )  # fmt: skip
    return (
        f"**Needs** (`needs.cues`, {len(posts):,} English posts; a post counts as found when it has a need "
        "row; phrase overlap = best token F1 of a stored phrase against the planted one, over found "
        "posts):\n\n" + table
    )


def language_check(conn, truth: dict) -> str:
    """Stored language labels against the planted ones."""
    stored = dict(conn.execute(f"SELECT p.id, {EFFECTIVE_LANG_SQL} FROM posts AS p"))
    english = [pid for pid, label in truth["posts"].items() if label["lang"] == "en"]
    other = [pid for pid, label in truth["posts"].items() if label["lang"] != "en"]
    en_skipped = sum(stored.get(pid) not in (None, "en", "und") for pid in english)
    other_right = sum(stored.get(pid) == truth["posts"][pid]["lang"] for pid in other)
    other_as_english = sum(stored.get(pid) in (None, "en", "und") for pid in other)
    table = markdown_table(
        ["planted", "posts", "labelled right", "labelled en/und/none", "labelled another language"],
        [
            ("en", len(english), sum(stored.get(pid) == "en" for pid in english), len(english) - en_skipped,
             en_skipped),
            ("other", len(other), other_right, other_as_english, len(other) - other_right - other_as_english),
        ],
    )  # fmt: skip
    return (
        "**Language** (`language.langid`; an English post labelled another language is skipped by the "
        "English-only annotators, a non-English one labelled en/und is read as English):\n\n" + table
    )
