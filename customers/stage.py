"""The customers stage of the pipeline: link the stored CRM handles to authors through consent, and count.

The CRM itself comes in through ``tasteradar customers import`` (or, in the demo world, is written with
the posts); this stage runs :func:`customers.linking.link_consented` after every analysis so new authors
whose handle a customer opted in get linked, and withdrawn consent takes effect.
"""

from __future__ import annotations

from dataclasses import asdict

import sqlite_utils

from customers.linking import link_consented

_COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customer_handles), "
    "(SELECT count(*) FROM customer_handles WHERE consent = 1)"
)


def run_customers(db: sqlite_utils.Database) -> dict:
    """Link consented handles (:func:`link_consented`) and return the counts of the run and of the CRM:
    ``customers``, ``handles``, ``opted_in_handles`` and every field of the
    :class:`~customers.linking.LinkReport` (``linked``, ``kept``, ``unlinked``, ``refused``, ...).
    """
    report = link_consented(db)
    customers, handles, opted_in = db.conn.execute(_COUNTS_SQL).fetchone()
    return {"customers": customers, "handles": handles, "opted_in_handles": opted_in, **asdict(report)}


def summary(result: dict) -> str:
    """One line saying what :func:`run_customers` found and did."""
    if not result["customers"]:
        return "no CRM customers stored: import them with `tasteradar customers import FILE`"
    return (
        f"{result['customers_linked']:,} of {result['customers']:,} customers linked through "
        f"{result['authors_linked']:,} accounts ({result['opted_in_handles']:,} of {result['handles']:,} "
        f"recorded handles opted in); this run: {result['linked']:,} linked, {result['unlinked']:,} "
        f"unlinked, {result['refused']:,} refused ({result['ambiguous']:,} ambiguous) "
        f"in {result['seconds']:.2f}s"
    )
