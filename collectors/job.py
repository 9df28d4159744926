"""One collection run of one source: every query, page by page, each page committed with its checkpoint.

The run writes a ``collection_runs`` row per query (started, finished, fetched, new, duplicates,
quarantined, status, error). Status: ``ok``; ``partial`` when the source stopped early but kept what it
fetched (``RunPartial``); ``failed`` when it could not go on (``RunFailed`` or an unexpected error, whose
message is redacted before it is logged or stored).

:func:`prune_source` is the other job: it walks the stored posts of a source's platform, asks the source which
of them the platform reports deleted (the optional ``deleted`` method) and removes those with everything
derived from them (``store.delete_posts``), recorded as a run with query ``prune-deleted`` (``fetched``: posts
checked, ``deleted``: posts removed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from collectors.base import DELETED_BATCH, Page, RunFailed, RunPartial, Source
from store import (
    Post,
    Rejected,
    delete_posts,
    finish_run,
    get_checkpoint,
    set_checkpoint,
    start_run,
    upsert_posts,
)
from store.erase import check_derived_tables, purge_fts
from store.transactions import transaction

log = logging.getLogger("tasteradar.collectors")


@dataclass
class QueryRun:
    """What one query's run did (also stored in ``collection_runs``)."""

    source: str
    query: str
    run_id: int
    status: str = "ok"
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    error: str | None = None
    deleted: int = 0


def map_items(source: Source, items: Iterable[Any], query: str) -> Iterable[Post | Rejected]:
    """Map raw payloads to posts; a payload ``to_post`` refuses becomes a ``Rejected`` with the reason."""
    for raw in items:
        try:
            yield source.to_post(raw, query=query)
        except (ValueError, TypeError, KeyError) as error:
            yield Rejected(source=source.name, raw=raw, reason=f"{type(error).__name__}: {error}")


def store_page(db: sqlite_utils.Database, source: Source, query: str, page: Page, run: QueryRun) -> None:
    """Write one page's posts and its checkpoint in one transaction and add the counts to ``run``."""

    def save_checkpoint(db: sqlite_utils.Database, _posts: list[Post]) -> None:
        if page.checkpoint is not None:
            set_checkpoint(db, source.name, query, page.checkpoint)

    items = list(map_items(source, page.items, query))
    if items:
        result = upsert_posts(
            db, items, batch_size=len(items), source=source.name, on_batch=save_checkpoint, run_id=run.run_id
        )
        run.new += result.inserted
        run.duplicates += result.updated + result.unchanged + result.suppressed  # suppressed: deleted earlier
        run.quarantined += result.quarantined
    elif page.checkpoint is not None:
        with transaction(db):
            save_checkpoint(db, [])
    run.fetched += len(page.items)


def run_query(
    db: sqlite_utils.Database, source: Source, query: str, redact: Callable[[str], str] = str
) -> QueryRun:
    """Run one query from its stored checkpoint to the end (or to an early stop) and record the run."""
    run = QueryRun(source=source.name, query=query, run_id=start_run(db, source.name, query))
    try:
        for page in source.fetch(query, get_checkpoint(db, source.name, query)):
            store_page(db, source, query, page, run)
    except RunPartial as error:
        run.status, run.error = "partial", redact(str(error))
    except RunFailed as error:
        run.status, run.error = "failed", redact(str(error))
    except Exception as error:  # noqa: BLE001 - any failure of one query must not stop the others
        run.status, run.error = "failed", redact(f"{type(error).__name__}: {error}")
    finish_run(
        db, run.run_id, status=run.status, fetched=run.fetched, new=run.new,
        duplicates=run.duplicates, quarantined=run.quarantined, error=run.error,
    )  # fmt: skip
    level = logging.INFO if run.status == "ok" else logging.WARNING
    log.log(level, "%s %r: %s, %d fetched, %d new%s", source.name, query, run.status, run.fetched, run.new,
            f" ({run.error})" if run.error else "")  # fmt: skip
    return run


#: The ``collection_runs.query`` of a prune run.
PRUNE_QUERY = "prune-deleted"


def prune_source(
    db: sqlite_utils.Database,
    source: Any,
    redact: Callable[[str], str] = str,
    *,
    created_since: str | None = None,
    batch_size: int = DELETED_BATCH,
) -> QueryRun:
    """Remove the stored posts of ``source.platform`` that ``source.deleted`` reports gone; record the run.

    Posts are walked in id order, ``batch_size`` at a time (only those created at or after the ISO time
    ``created_since`` when given); each batch's deletions commit before the next batch is asked about, so a
    run stopped early (``RunPartial``, ``RunFailed``, an error) keeps what it removed. Removed posts get the
    reason ``deleted on <platform>``. The full-text index is merged once at the end when anything went.
    """
    run = QueryRun(source=source.name, query=PRUNE_QUERY, run_id=start_run(db, source.name, PRUNE_QUERY))
    sql = "SELECT id, native_id FROM posts WHERE platform = ? AND id > ?"
    sql += " AND created_at >= ?" if created_since else ""
    sql += " ORDER BY id LIMIT ?"
    reason = f"deleted on {source.platform}"
    after = ""
    try:
        check_derived_tables(db)  # before any request: a schema that breaks the rule fails the run at once
        while True:
            params = [source.platform, after, *([created_since] if created_since else []), batch_size]
            rows = db.conn.execute(sql, params).fetchall()
            if not rows:
                break
            after = rows[-1][0]
            by_native = {native_id: pid for pid, native_id in rows}
            gone = source.deleted(list(by_native))
            run.fetched += len(rows)
            ids = [by_native[native_id] for native_id in gone if native_id in by_native]
            if ids:
                run.deleted += delete_posts(db, ids, reason=reason, purge_index=False)
    except RunPartial as error:
        run.status, run.error = "partial", redact(str(error))
    except RunFailed as error:
        run.status, run.error = "failed", redact(str(error))
    except Exception as error:  # noqa: BLE001 - one source's failure must not stop the others
        run.status, run.error = "failed", redact(f"{type(error).__name__}: {error}")
    if run.deleted:
        purge_fts(db)
    finish_run(db, run.run_id, status=run.status, fetched=run.fetched, deleted=run.deleted, error=run.error)
    level = logging.INFO if run.status == "ok" else logging.WARNING
    log.log(level, "%s prune-deleted: %s, %d checked, %d deleted%s", source.name, run.status, run.fetched,
            run.deleted, f" ({run.error})" if run.error else "")  # fmt: skip
    return run


def run_source(
    db: sqlite_utils.Database, source: Source, redact: Callable[[str], str] = str
) -> list[QueryRun]:
    """Run every query of ``source``; one query's failure does not stop the next."""
    return [run_query(db, source, query, redact) for query in source.queries()]


def overall_status(runs: Iterable[QueryRun]) -> str:
    """``ok`` when every run was ok, ``failed`` when every run failed, else ``partial``."""
    runs = list(runs)
    if all(run.status == "ok" for run in runs):
        return "ok"
    if all(run.status == "failed" for run in runs):
        return "failed"
    return "partial"
