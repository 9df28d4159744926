"""Agreement of the stored annotations with the demo world's planted truth (``truth.json``), per annotator.

Each check reads what ``run_annotators`` stored in the demo database and returns a Markdown block; the NLP
benchmark (``bench/nlp_bench.py``) prints them under its demo-world section. Truth labels per post: ``lang``,
``intent`` (``switch``, ``churn`` or ``none``) with ``from_brand`` / ``to_brand``, ``need`` / ``need_phrase``,
``sentiment`` and ``brand_sentiment``.
"""

from __future__ import annotations

from collections import defaultdict

from bench.run import markdown_table

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
