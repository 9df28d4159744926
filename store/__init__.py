"""tasteradar's store: one SQLite file, its migrated schema, the record types, the shared write and read API.

``store`` imports none of the other tasteradar packages. Typical use::

    from store import open_db, upsert_posts, start_run, finish_run

    db = open_db("tasteradar.db")
    result = upsert_posts(db, posts, source="x", on_batch=lambda db, batch: set_checkpoint(db, "x", q, {...}))
"""

from store.authors import upsert_authors
from store.customers import normalize_handle, upsert_customers, upsert_handles
from store.db import BUSY_TIMEOUT_MS, DatabaseNotFoundError, open_db
from store.migrations import LATEST_VERSION, MIGRATIONS, Migration, SchemaError, apply_migrations
from store.posts import UpsertResult, get_post, post_from_row, post_problem, upsert_posts
from store.records import Author, Customer, CustomerHandle, Post, Rejected, from_iso, post_id, to_iso, utc_now
from store.runs import (
    FINAL_STATUSES,
    RUN_STATUSES,
    finish_run,
    get_checkpoint,
    quarantine,
    set_checkpoint,
    start_run,
)
from store.text import repair_text, to_json
from store.transactions import transaction

__all__ = [
    "BUSY_TIMEOUT_MS",
    "FINAL_STATUSES",
    "LATEST_VERSION",
    "MIGRATIONS",
    "RUN_STATUSES",
    "Author",
    "Customer",
    "CustomerHandle",
    "DatabaseNotFoundError",
    "Migration",
    "Post",
    "Rejected",
    "SchemaError",
    "UpsertResult",
    "apply_migrations",
    "finish_run",
    "from_iso",
    "get_checkpoint",
    "get_post",
    "normalize_handle",
    "open_db",
    "post_from_row",
    "post_id",
    "post_problem",
    "quarantine",
    "repair_text",
    "set_checkpoint",
    "start_run",
    "to_iso",
    "to_json",
    "transaction",
    "upsert_authors",
    "upsert_customers",
    "upsert_handles",
    "upsert_posts",
    "utc_now",
]
