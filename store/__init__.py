"""tasteradar's store: one SQLite file, its migrated schema, the record types, the shared write and read API.

``store`` imports none of the other tasteradar packages. Typical use::

    from store import open_db, upsert_posts, start_run, finish_run

    db = open_db("tasteradar.db")
    result = upsert_posts(db, posts, source="x", on_batch=lambda db, batch: set_checkpoint(db, "x", q, {...}))
    delete_posts(db, ["x:1852..."], reason="deleted on x")   # the posts, their FTS entries, derived rows

**Tables derived from posts** (annotations, embeddings, topic assignments, customer links, ...) declare
``post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE`` and an index starting with ``post_id``.
``open_db`` sets ``PRAGMA foreign_keys = ON`` on every connection (SQLite needs it per connection), so
deleting a post deletes them too; ``delete_posts`` checks the rule on the live schema and refuses to delete
anything when a table breaks it (see ``store/erase.py``). Never write posts with ``INSERT OR REPLACE``: a
replace is a delete, and the cascade would drop the post's derived rows. ``open_db`` also sets
``PRAGMA secure_delete = ON`` so removed content is zeroed instead of lingering in free pages; ids removed
are recorded in ``deletions`` (no content) and ``upsert_posts`` does not store them again.
"""

from store.authors import upsert_authors
from store.customers import normalize_handle, upsert_customers, upsert_handles
from store.db import BUSY_TIMEOUT_MS, DatabaseNotFoundError, open_db
from store.erase import (
    AUDIT_TABLES,
    DerivedTableError,
    check_derived_tables,
    delete_posts,
    derived_table_problems,
    purge_fts,
)
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
    "AUDIT_TABLES",
    "BUSY_TIMEOUT_MS",
    "FINAL_STATUSES",
    "LATEST_VERSION",
    "MIGRATIONS",
    "RUN_STATUSES",
    "Author",
    "Customer",
    "CustomerHandle",
    "DatabaseNotFoundError",
    "DerivedTableError",
    "Migration",
    "Post",
    "Rejected",
    "SchemaError",
    "UpsertResult",
    "apply_migrations",
    "check_derived_tables",
    "delete_posts",
    "derived_table_problems",
    "finish_run",
    "from_iso",
    "get_checkpoint",
    "get_post",
    "normalize_handle",
    "open_db",
    "post_from_row",
    "post_id",
    "post_problem",
    "purge_fts",
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
