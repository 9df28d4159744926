"""Micro-segments benchmark (issue 6): are the demo world's planted micro-segments recovered?

On an analysed demo world (its posts annotated, topics and need themes fitted), customers are linked through
consented handles (:func:`customers.linking.link_consented`), then one segmentation run
(:func:`segments.stage.run_segments`) segments every broad CRM segment and the audience. Scored against
``truth.json``:

- the adjusted Rand index (ARI) between the discovered segments and the planted micro-segments of the
  customers, over all customers (the broad segment is given, so pairs across broad segments always agree),
  per broad segment, and for customers with and without linked posts (those without are segmented from CRM
  fields alone); target ARI >= 0.8 over all customers;
- the segments found per broad segment (nobody types a ``k``) against the number planted;
- a reference: a supervised classifier on the CRM fields alone (5-fold, gradient boosting), which shows how
  far CRM fields can tell the planted segments apart for customers without posts;
- an ablation: billing amounts (``monthly_charge``, ``total_charges``) used as segmentation bases;
- the audience (authors not linked, at least 3 posts): ARI against their planted micro-segment (authors
  without one, generic posters and spam bots, each count as one more class);
- a second run on the same data: how many segments kept their ids; and the wall time of each run.

The demo world is built (seed 7; 20,000 posts, 3,000 with ``--quick``) and analysed, unless
``TASTERADAR_SEGMENTS_DB`` names an analysed demo database (its ``truth.json`` beside it), which is copied to
a temporary folder first (the original is never written). Run with ``python -m bench segments`` or, on a copy
of an existing world, ``python -m bench.segments_bench --db PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.run import Section, markdown_table

ENV_DB = "TASTERADAR_SEGMENTS_DB"


def prepare(folder: Path, posts: int, source: Path | None) -> Path:
    """An analysed demo database in ``folder`` (a copy of ``source`` with its truth, or a new world)."""
    if source is not None:
        for path in source.parent.glob(source.name + "*"):
            shutil.copy2(path, folder / path.name)
        shutil.copy2(source.parent / "truth.json", folder / "truth.json")
        return folder / source.name
    from tasteradar.analyze import analyze
    from tasteradar.config import load_config
    from tasteradar.demo import build_demo

    built = build_demo(folder / "tasteradar.db", seed=7, posts=posts)
    analyze(load_config(built.db_path.parent / "tasteradar.toml").with_db(built.db_path))
    return built.db_path


def segment_labels(db, table: str, column: str) -> dict[str, int]:
    """The stored segment of every member of ``table`` (``segment_members`` or ``audience_members``)."""
    return dict(db.conn.execute(f"SELECT {column}, segment_id FROM {table}"))


def ari(pairs: list[tuple[str, object]]) -> float:
    """Adjusted Rand index of ``(truth, found)`` pairs (1.0 for fewer than two pairs)."""
    from sklearn.metrics import adjusted_rand_score

    if len(pairs) < 2:
        return 1.0
    return float(adjusted_rand_score([t for t, _ in pairs], [str(f) for _, f in pairs]))


def customer_rows(db, truth: dict) -> list[tuple[str, str, str, object, bool]]:
    """``(customer, broad segment, planted micro-segment, found segment, has linked posts)`` per customer."""
    found = segment_labels(db, "segment_members", "customer_id")
    linked = {
        customer
        for (customer,) in db.conn.execute(
            "SELECT DISTINCT l.customer_id FROM customer_links AS l JOIN authors AS a ON a.id = l.author_id"
            " JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id"
        )
    }
    return [
        (cid, row["broad_segment"], row["micro_segment"], found.get(cid), cid in linked)
        for cid, row in sorted(truth["customers"].items())
    ]


def crm_reference(db, truth: dict) -> dict[str, float]:
    """ARI of a supervised 5-fold classifier on the CRM fields alone, per broad segment and over all."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    from segments.features import load_customers

    table = load_customers(db)
    matrix = np.column_stack(
        [values for values in table.numeric.values()]
        + [np.unique(values.astype(str), return_inverse=True)[1] for values in table.categorical.values()]
    )
    planted = np.array([truth["customers"][cid]["micro_segment"] for cid in table.ids])
    predicted = np.empty(len(table), dtype=object)
    scores = {}
    for broad in sorted(set(table.groups)):
        rows = table.groups == broad
        model = HistGradientBoostingClassifier(random_state=0)
        predicted[rows] = cross_val_predict(model, matrix[rows], planted[rows], cv=5)
        scores[broad] = ari(list(zip(planted[rows], predicted[rows], strict=True)))
    scores["all customers"] = ari(list(zip(planted, predicted, strict=True)))
    return scores


def run_case(db_path: Path) -> dict:
    """Link, segment twice and once with billing amounts as bases; return the figures."""
    from customers.linking import link_consented
    from segments.encode import EncodeSettings
    from segments.stage import SegmentSettings, run_segments
    from store import open_db

    truth = json.loads((db_path.parent / "truth.json").read_text())
    db = open_db(db_path)
    try:
        link = link_consented(db)
        started = time.perf_counter()
        first = run_segments(db)
        first_seconds = time.perf_counter() - started
        rows = customer_rows(db, truth)
        audience = segment_labels(db, "audience_members", "author_id")
        started = time.perf_counter()
        second = run_segments(db)
        second_seconds = time.perf_counter() - started
        reference = crm_reference(db, truth)
    finally:
        db.close()
    ablation_db = db_path.parent / "ablation.db"
    shutil.copy2(db_path, ablation_db)
    db = open_db(ablation_db)
    try:
        run_segments(db, replace(SegmentSettings(), encode=EncodeSettings(descriptors=()), audience=False))
        ablation = customer_rows(db, truth)
    finally:
        db.close()
    return {
        "truth": truth, "link": link, "first": first, "second": second, "rows": rows, "audience": audience,
        "ablation": ablation, "reference": reference, "seconds": (first_seconds, second_seconds),
    }  # fmt: skip


def customer_table(figures: dict) -> str:
    """The per broad segment table of customer ARI."""
    rows, truth, first = figures["rows"], figures["truth"], figures["first"]
    planted = {}
    for segment in truth["definitions"]["micro_segments"]:
        planted[segment["broad_segment"]] = planted.get(segment["broad_segment"], 0) + 1
    ablation = {cid: found for cid, _, _, found, _ in figures["ablation"]}
    out = []
    for broad in [*sorted(planted), "all customers"]:
        mine = [row for row in rows if broad in ("all customers", row[1])]
        groups = [g for name, g in first["customers"].items() if broad in ("all customers", name)]
        out.append((
            broad, len(mine), sum(row[4] for row in mine),
            sum(planted.values()) if broad == "all customers" else planted[broad],
            sum(len(group["segments"]) for group in groups),
            round(ari([(t, f) for _, _, t, f, _ in mine]), 3),
            round(ari([(t, f) for _, _, t, f, s in mine if s]), 3),
            round(ari([(t, f) for _, _, t, f, s in mine if not s]), 3),
            round(figures["reference"][broad], 3),
            round(ari([(t, ablation[c]) for c, _, t, _, _ in mine]), 3),
        ))  # fmt: skip
    return markdown_table(
        ["broad segment", "customers", "with linked posts", "planted", "found", "ARI", "ARI (linked)",
         "ARI (CRM only)", "reference: supervised on CRM", "ablation: billing as bases"],
        out,
    )  # fmt: skip


def report(figures: dict) -> list[Section]:
    """The benchmark's sections."""
    truth, first, second = figures["truth"], figures["first"], figures["second"]
    authors = truth["authors"]
    audience = [
        (authors[a]["micro_segment"] or authors[a]["role"], s)
        for a, s in figures["audience"].items()
        if a in authors
    ]
    kept = sum(
        group["events"].get("kept", 0) for group in [*second["customers"].values(), second["audience"]]
    )
    total = sum(len(group["segments"]) for group in [*first["customers"].values(), first["audience"]])
    overall = ari([(t, f) for _, _, t, f, _ in figures["rows"]])
    body = (
        customer_table(figures)
        + f"\n\n{figures['link'].customers_linked:,} customers linked through consented handles "
        f"({figures['link'].refused} refused: no consent). ARI over all customers **{overall:.3f}** "
        "(target >= 0.8). Customers without linked posts are placed by their CRM fields alone; the "
        "reference (a supervised classifier trained on the planted labels, CRM fields only) shows how far "
        "those fields separate the planted segments. Audience (authors not linked, >= 3 posts): "
        f"{len(audience):,} authors in {len(first['audience']['segments'])} segments (planted: 11 "
        f"micro-segments plus generic posters and bots), ARI {ari(audience):.3f}. Run time (customers and "
        f"audience): {figures['seconds'][0]:.1f} s. Second run on the same data: {kept} of {total} segments "
        f"kept their ids ({figures['seconds'][1]:.1f} s)."
    )
    names = "\n".join(
        f"- {broad}: " + "; ".join(f"`{s['name']}` ({s['size']})" for s in group["segments"])
        for broad, group in [*first["customers"].items(), ("audience", first["audience"])]
    )
    return [Section("Demo world: planted micro-segments recovered", body), Section("Segments found", names)]


def run(quick: bool = False) -> list[Section]:
    """Run the benchmark on a new demo world, or on a copy of ``$TASTERADAR_SEGMENTS_DB``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source = Path(os.environ[ENV_DB]) if os.environ.get(ENV_DB) else None
    with tempfile.TemporaryDirectory(prefix="tasteradar-segments-bench-") as tmp:
        db_path = prepare(Path(tmp), 3_000 if quick else 20_000, source)
        return report(run_case(db_path))


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.segments_bench [--db PATH] [--quick]``: print the report (writes no file)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an analysed demo database to copy (truth.json beside it)")
    parser.add_argument("--quick", action="store_true", help="a 3,000-post world when no --db is given")
    args = parser.parse_args(argv)
    if args.db is not None:
        os.environ[ENV_DB] = str(args.db.resolve())
    for section in run(quick=args.quick):
        print(f"### {section.title}\n\n{section.body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
