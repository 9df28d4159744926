"""Churn benchmark (issue 6): out-of-fold AUC of the churn model against the demo world's planted churners,
the full model beside the CRM-only one in the same run, and the cost of a run at 100,000 customers.

Cases (each in a fresh folder under a temporary directory):

- **demo**: a demo world (20,000 posts; 3,000 with ``--quick``) built and run through ``tasteradar.analyze``;
  or, when ``TASTERADAR_CHURN_DEMO`` names the ``tasteradar.db`` of a demo world already analysed (with its
  ``truth.json`` and ``tasteradar.toml`` beside it), a copy of that one (the original is never written).
  Consented linking (:func:`customers.linking.link_consented`), the churn features once, then three fits on
  them: the full model, the CRM-only model and, as a check on leakage, the full model without the
  "I switched" announcements (posted after a churn). Each model's out-of-fold risk of the opted-in customers
  is scored against ``truth.json`` (``customers[id]['churn']``, which the CRM's ``churned`` must match):
  AUC and Brier score, and a calibration table by risk band. Target: AUC >= 0.8 for the full model.
- **telco**: the IBM telco churn table (``../shared/data/telco-customer-churn``, skipped when absent)
  imported as it is (:func:`customers.importer.import_customers`): no handles, so the CRM-only model; its
  out-of-fold AUC and Brier score against the table's own ``Churn`` column.
- **scale**: a synthetic CRM of 100,000 customers (10,000 with ``--quick``), 40% opted in, each opted-in one
  posting 6 times with sentiment, intents and brand sentiment rows: linking, features, fit and scoring
  timed one by one (``run_churn`` end to end).

Run with ``python -m bench churn`` (``--quick``).
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.run import Section, markdown_table

REPO = Path(__file__).resolve().parents[1]
TELCO = REPO.parent / "shared" / "data" / "telco-customer-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
REUSE_ENV = "TASTERADAR_CHURN_DEMO"
TARGET_AUC = 0.8
#: Risk bands of the calibration table.
BANDS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


# --- demo ------------------------------------------------------------------------------------------------


def demo_world(folder: Path, posts: int) -> tuple[Path, str]:
    """An analysed demo world in ``folder``: a copy of ``$TASTERADAR_CHURN_DEMO`` or a fresh build.

    Returns the database path and how it was made (for the report).
    """
    target = folder / "demo" / "tasteradar.db"
    target.parent.mkdir(parents=True)
    source = os.environ.get(REUSE_ENV)
    if source:
        source_path = Path(source)
        src, dst = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True), sqlite3.connect(target)
        try:
            src.backup(dst)
            (count,) = dst.execute("SELECT COUNT(*) FROM posts").fetchone()
        finally:
            src.close()
            dst.close()
        for name in ("truth.json", "tasteradar.toml"):
            (target.parent / name).write_bytes((source_path.parent / name).read_bytes())
        return target, f"a copy of the analysed demo world at `{source_path}` ({count:,} posts)"
    from tasteradar.analyze import analyze
    from tasteradar.config import load_config
    from tasteradar.demo import build_demo

    built = build_demo(target, seed=7, posts=posts)
    analyze(load_config(built.db_path.parent / "tasteradar.toml").with_db(built.db_path))
    return target, f"a demo world built for this run (seed 7, {posts:,} posts) and analysed"


def planted_churn(db, truth: dict) -> dict[str, bool]:
    """``{customer_id: churned}`` from ``truth.json``; raises when the CRM's ``churned`` disagrees."""
    planted = {cid: bool(row["churn"]) for cid, row in truth["customers"].items()}
    crm = {
        cid: bool(churned) for cid, churned in db.conn.execute("SELECT customer_id, churned FROM customers")
    }
    disagree = [cid for cid in planted if crm.get(cid) != planted[cid]]
    if disagree:
        raise RuntimeError(f"truth.json and customers.churned disagree for {len(disagree)} customers")
    return planted


def model_row(name: str, fit, planted: dict[str, bool], opted: list[str], seconds: float) -> tuple:
    """AUC and Brier of a fit's out-of-fold risk over the opted-in customers, against the planted churn."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    risk = fit.oof_risk.loc[opted].to_numpy()
    truth = np.array([planted[cid] for cid in opted], dtype=int)
    rate = truth.mean()
    return (
        name,
        len(fit.model.features),
        round(float(roc_auc_score(truth, risk)), 3),
        round(fit.metrics["auc"], 3),
        round(float(brier_score_loss(truth, risk)), 3),
        round(float(rate * (1 - rate)), 3),
        round(seconds, 1),
    )


def calibration_table(fit, planted: dict[str, bool], opted: list[str]) -> str:
    """Mean out-of-fold risk against the planted churn rate, by risk band (opted-in customers)."""
    risk = fit.oof_risk.loc[opted].to_numpy()
    truth = np.array([planted[cid] for cid in opted], dtype=float)
    rows = []
    for low, high in zip(BANDS[:-1], BANDS[1:], strict=True):
        inside = (risk >= low) & ((risk < high) if high < 1 else (risk <= high))
        if inside.any():
            rows.append(
                (f"{low:.2f}-{high:.2f}", int(inside.sum()), round(float(risk[inside].mean()), 3),
                 round(float(truth[inside].mean()), 3))
            )  # fmt: skip
    return markdown_table(["risk band", "customers", "mean risk", "planted churn rate"], rows)


FULL = "full (CRM + consented social)"


def fit_variants(features, planted: dict[str, bool], opted: list[str]) -> tuple[list[tuple], dict]:
    """Fit the full, CRM-only and no-announcements models on ``features``; their rows and fits."""
    import dataclasses
    import importlib

    from customers.churn import fit_churn

    importlib.import_module("sklearn.linear_model")  # imported before timing: the first fit would pay it
    keep = [c for c in features.matrix.columns if c != "intent_switched"]
    no_switched = dataclasses.replace(
        features, matrix=features.matrix[keep], groups={c: features.groups[c] for c in keep}
    )
    rows, fits = [], {}
    for name, variant in (
        (FULL, features),
        ("CRM only", features.crm_only()),
        ("full without 'I switched' announcements", no_switched),
    ):
        started = time.perf_counter()
        fits[name] = fit_churn(variant)
        rows.append(model_row(name, fits[name], planted, opted, time.perf_counter() - started))
    return rows, fits


def measure_demo(db, own_brand: str, planted: dict[str, bool]) -> dict:
    """Link, build the features once, fit the variants, then one ``run_churn``; what the report needs."""
    from customers.churn import customer_risk, run_churn
    from customers.churn_features import build_features
    from customers.linking import link_consented

    (posts,) = db.conn.execute("SELECT COUNT(*) FROM posts").fetchone()
    links = link_consented(db)
    started = time.perf_counter()
    features = build_features(db, own_brand=own_brand)
    feature_seconds = time.perf_counter() - started
    opted = [cid for cid in features.matrix.index if features.opted_in[cid] and cid in planted]
    rows, fits = fit_variants(features, planted, opted)
    report = run_churn(db, own_brand=own_brand)
    (top,) = db.conn.execute("SELECT customer_id FROM churn_scores ORDER BY risk DESC LIMIT 1").fetchone()
    return {
        "posts": posts, "links": links, "columns": len(features.matrix.columns), "opted": opted,
        "feature_seconds": feature_seconds, "rows": rows, "fits": fits, "report": report,
        "example": customer_risk(db, top),
    }  # fmt: skip


def demo_case(folder: Path, posts: int) -> list[Section]:
    """The demo world's planted churners against the full, CRM-only and no-announcements models."""
    from store import open_db
    from tasteradar.config import load_config

    db_path, origin = demo_world(folder, posts)
    own_brand = load_config(db_path.parent / "tasteradar.toml").brand.name
    truth = json.loads((db_path.parent / "truth.json").read_text(encoding="utf-8"))
    db = open_db(db_path)
    try:
        planted = planted_churn(db, truth)
        m = measure_demo(db, own_brand, planted)
    finally:
        db.close()
    rows, opted, report, example = m["rows"], m["opted"], m["report"], m["example"]
    verdict = "met" if rows[0][2] >= TARGET_AUC else "NOT met"
    headers = ["model", "features", "AUC opted-in (planted)", "AUC all labelled", "Brier opted-in",
               "Brier of the base rate", "fit seconds"]  # fmt: skip
    body = (
        f"World: {origin}. Linking: {m['links'].customers_linked:,} customers linked through consented "
        f"handles, {m['links'].refused:,} matches refused (no consent). {len(planted):,} customers, "
        f"{sum(planted.values()):,} planted churners (truth.json and `customers.churned` agree for all); "
        f"{len(opted):,} opted in, {sum(planted[c] for c in opted):,} of them churners. Features "
        f"({m['columns']} columns) built once in {m['feature_seconds']:.1f} s; each model fitted on all "
        "labelled customers with 5-fold stratified cross-validation, and every figure below is out of fold "
        "(the Platt calibration cross-fitted too).\n\n"
        + markdown_table(headers, rows)
        + f"\n\nTarget: AUC >= {TARGET_AUC} for the full model on opted-in customers: **{verdict}** "
        f"({rows[0][2]:.3f}, CRM-only {rows[1][2]:.3f}). The third row drops the posts in which churners "
        "announce they already switched (the demo has churners post them after their churn day), to show the "
        "model does not rest on after-the-fact announcements alone.\n\n"
        "Calibration of the full model (out-of-fold risk, opted-in customers):\n\n"
        + calibration_table(m["fits"][FULL], planted, opted)
        + f"\n\n`run_churn` end to end (features, fit, store, score): {report.seconds:.1f} s, model "
        f"v{report.version}, {report.scored:,} opted-in customers scored. Factors of the highest-risk "
        f"customer (risk {example['risk']:.2f}): "
        + "; ".join(f"{f['phrase']} ({f['contribution']:+.2f})" for f in example["factors"])
        + "."
    )
    return [Section(f"Demo world: churn risk of opted-in customers ({m['posts']:,} posts)", body)]


# --- telco ---------------------------------------------------------------------------------------------


def telco_case(folder: Path) -> list[Section]:
    """Import the IBM telco table as it is and fit the CRM-only model on it."""
    from customers.churn import fit_churn
    from customers.churn_features import build_features
    from customers.importer import import_customers
    from store import open_db

    db = open_db(folder / "telco.db")
    try:
        imported = import_customers(db, TELCO)
        started = time.perf_counter()
        features = build_features(db, own_brand="Nimbus Mobile").crm_only()
        fit = fit_churn(features)
        seconds = time.perf_counter() - started
    finally:
        db.close()
    metrics = fit.metrics
    missing = (
        int(features.matrix["total_charges_missing"].sum())
        if "total_charges_missing" in features.matrix
        else 0
    )
    rows = [(f"{metrics['labelled']:,}", f"{metrics['churn_rate']:.1%}", len(features.matrix.columns),
             round(metrics["auc"], 3), round(metrics["brier"], 3), round(metrics["brier_baseline"], 3),
             round(seconds, 1))]  # fmt: skip
    body = (
        markdown_table(
            ["customers", "churn rate", "features", "AUC", "Brier", "Brier of the base rate", "seconds"], rows
        )
        + f"\n\n`{TELCO.name}` imported as it is ({imported.imported:,} rows, {imported.quarantined} "
        f"quarantined; {missing} blank `TotalCharges` imputed and flagged). Out-of-fold figures, 5-fold "
        "stratified; features and fit timed together. No handles, so no social columns: this row checks the "
        "CRM side of the model on real data."
    )
    return [Section("IBM telco churn table: the CRM-only model", body)]


# --- scale -----------------------------------------------------------------------------------------------


def synthetic_crm(db, customers: int, seed: int = 5) -> list[int]:
    """``customers`` CRM rows, 40% with a consented X handle and an author of that handle; return those."""
    from store import Author, Customer, CustomerHandle, upsert_authors, upsert_customers, upsert_handles

    rng = random.Random(seed)
    contracts = ("month-to-month", "12-month", "24-month")
    records = [
        Customer(f"S{i:07d}", plan=rng.choice(("A", "B", "C")), contract=rng.choice(contracts),
                 tenure_months=rng.randint(0, 72), monthly_charge=round(rng.uniform(10, 90), 2),
                 total_charges=None if rng.random() < 0.01 else round(rng.uniform(10, 5000), 2),
                 churned=rng.random() < 0.25 if rng.random() < 0.9 else None,
                 attributes={"lines": rng.randint(1, 5), "autopay": rng.random() < 0.6,
                             "support_calls_90d": rng.randint(0, 4), "region": rng.choice("NSEW")})
        for i in range(customers)
    ]  # fmt: skip
    upsert_customers(db, records)
    opted = [i for i in range(customers) if i % 5 < 2]
    upsert_handles(db, [CustomerHandle(f"S{i:07d}", "x", f"user{i}", consent=True) for i in opted])
    upsert_authors(db, [Author("x", f"u{i}", handle=f"user{i}") for i in opted])
    return opted


def synthetic_posts(db, authors: list[int], per_author: int = 6, seed: int = 6) -> int:
    """``per_author`` posts of each opted-in author, with sentiment, intents and brand sentiment rows."""
    from store import Post, transaction, upsert_posts

    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    posts = [
        Post("x", f"{i}-{k}", f"post {k} of user {i}", start + timedelta(minutes=rng.randrange(200_000)),
             author_id=f"u{i}", author_handle=f"user{i}")
        for i in authors for k in range(per_author)
    ]  # fmt: skip
    upsert_posts(db, posts, batch_size=20_000)
    brands = ("Nimbus Mobile", "Volt Mobile", "Titan Telecom")
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO post_sentiment VALUES (?, 'neutral', ?, 'sentiment.bench.v1')",
            [(post.id, rng.uniform(-1, 1)) for post in posts],
        )
        conn.executemany(
            "INSERT INTO post_intents VALUES "
            "(?, 'switching', 'Nimbus Mobile', ?, 'switch', 'intents.bench.v1')",
            [(post.id, rng.choice(brands[1:])) for post in posts if rng.random() < 0.05],
        )
        conn.executemany(
            "INSERT INTO brand_sentiment VALUES (?, ?, ?, 0.5, 'brand_sentiment.bench.v1')",
            [(post.id, rng.choice(brands), rng.choice(("positive", "negative"))) for post in posts
             if rng.random() < 0.3],
        )  # fmt: skip
    return len(posts)


def scale_case(folder: Path, customers: int) -> list[Section]:
    """Time linking, features, fit and scoring on a synthetic CRM of ``customers``."""
    from customers.churn import fit_churn, save_model, write_scores
    from customers.churn_features import build_features
    from customers.linking import link_consented
    from store import open_db

    (folder / "scale").mkdir()
    db = open_db(folder / "scale" / "tasteradar.db")
    try:
        started = time.perf_counter()
        opted = synthetic_crm(db, customers)
        posts = synthetic_posts(db, opted)
        build_seconds = time.perf_counter() - started
        steps: list[tuple[str, float]] = []
        for step, call in (
            ("link_consented", lambda: link_consented(db)),
            ("build_features", lambda: build_features(db, own_brand="Nimbus Mobile")),
        ):
            started = time.perf_counter()
            result = call()
            steps.append((step, time.perf_counter() - started))
        features = result
        started = time.perf_counter()
        fit = fit_churn(features)
        steps.append(("fit_churn (5-fold CV + final fit)", time.perf_counter() - started))
        started = time.perf_counter()
        scored = write_scores(db, save_model(db, fit), fit.model, features)
        steps.append(("save_model + write_scores (risk and factors)", time.perf_counter() - started))
    finally:
        db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [(step, round(seconds, 1)) for step, seconds in steps]
    rows.append(("total", round(sum(seconds for _, seconds in steps), 1)))
    body = (
        markdown_table(["step", "seconds"], rows)
        + f"\n\n{customers:,} customers ({len(opted):,} opted in, {posts:,} linked posts with sentiment, "
        f"intent and brand-sentiment rows; written in {build_seconds:.0f} s, not counted), "
        f"{len(features.matrix.columns)} feature columns, {scored:,} customers scored. Peak RSS of the bench "
        f"process so far: {peak:,.0f} MiB."
    )
    return [Section(f"Scale: churn run on {customers:,} synthetic customers", body)]


def run(quick: bool = False) -> list[Section]:
    """Run the cases (the telco one only where ``../shared/data`` is present)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="tasteradar-churn-bench-") as tmp:
        folder = Path(tmp)
        sections = demo_case(folder, 3_000 if quick else 20_000)
        if TELCO.exists():
            sections += telco_case(folder)
        return sections + scale_case(folder, 10_000 if quick else 100_000)
