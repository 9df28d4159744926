"""The customers stage of the pipeline: link the stored CRM handles to authors through consent, count, and
score churn risk.

The CRM itself comes in through ``tasteradar customers import`` (or, in the demo world, is written with
the posts); this stage runs :func:`customers.linking.link_consented` after every analysis so new authors
whose handle a customer opted in get linked, and withdrawn consent takes effect; then, given the own brand,
:func:`customers.churn.run_churn` refits the churn model and scores the opted-in customers.
"""

from __future__ import annotations

from dataclasses import asdict

import sqlite_utils

from customers.linking import link_consented

_COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customer_handles), "
    "(SELECT count(*) FROM customer_handles WHERE consent = 1)"
)


def run_customers(db: sqlite_utils.Database, *, own_brand: str | None = None) -> dict:
    """Link consented handles (:func:`link_consented`) and return the counts of the run and of the CRM:
    ``customers``, ``handles``, ``opted_in_handles`` and every field of the
    :class:`~customers.linking.LinkReport` (``linked``, ``kept``, ``unlinked``, ``refused``, ...).

    With ``own_brand`` (the configured brand name) it then fits and applies the churn model; ``churn`` is the
    model's one-line summary, or why nothing was scored (no labelled customers, a single class).
    """
    report = link_consented(db)
    customers, handles, opted_in = db.conn.execute(_COUNTS_SQL).fetchone()
    result = {"customers": customers, "handles": handles, "opted_in_handles": opted_in, **asdict(report)}
    if own_brand and customers:
        result["churn"] = _churn(db, own_brand)
    return result


def _churn(db: sqlite_utils.Database, own_brand: str) -> str:
    """Fit and apply the churn model; its summary, or why it could not run."""
    from customers.churn import ChurnError, run_churn

    try:
        return run_churn(db, own_brand=own_brand).summary()
    except ChurnError as error:
        return f"churn risk not scored: {error}"


def summary(result: dict) -> str:
    """One line saying what :func:`run_customers` found and did."""
    if not result["customers"]:
        return "no CRM customers stored: import them with `tasteradar customers import FILE`"
    return (
        f"{result['customers_linked']:,} of {result['customers']:,} customers linked through "
        f"{result['authors_linked']:,} accounts ({result['opted_in_handles']:,} of {result['handles']:,} "
        f"recorded handles opted in); this run: {result['linked']:,} linked, {result['unlinked']:,} "
        f"unlinked, {result['refused']:,} refused ({result['ambiguous']:,} ambiguous) "
        f"in {result['seconds']:.2f}s" + (f"; {result['churn']}" if "churn" in result else "")
    )
