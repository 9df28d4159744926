"""What keeps the daily rollups and the trend step current (migrations 9 and 10): ``rollup_dirty``, the
triggers that fill it and the statement the annotation runner uses for the rows it inserts.

``rollup_dirty`` names the (UTC day, platform) keys whose derived rows may no longer agree with the tables
they summarise; ``rollups`` is a bit mask of what is stale there (:data:`ROLLUP_BITS`): the daily rollups
``brand_daily``, ``topic_daily`` and ``theme_daily``, and (since migration 10) ``emerging``, the trend step's
flags, which read the posts' text and language, topic and theme assignments, need rows and mentions. It holds
days and platform names, no post ids or content. Triggers mark keys on posts (insert, delete, a change of day
or platform; for ``emerging`` also of text or language, as an edited post's upsert makes), on the topic and
theme assignments, and on updates and deletes of the annotation tables (prune, erase and forget mark through
the posts trigger, their cascades find no post); the annotation runner marks each batch it inserts into the
tables of :data:`RUNNER_MARKED` with :func:`stale_posts_marker`. ``nlp.brand_daily``, ``nlp.topics.daily``
and ``nlp.topics.trend_stage`` recompute what their bit marks and clear that bit only; a key's row goes when
its mask is 0.

The SQL here is part of migrations 9 and 10, and is frozen: each migration builds its statements from its own
table of feeds (:data:`FEEDS_V9`, :data:`FEEDS_V10`), and ``tests/store/test_store_migration_v9.py`` and
``..._v10.py`` check what each emits against a hash taken when it was written. Change what is marked only
through a new migration, with a new table of feeds.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "FEEDS", "FEEDS_V9", "FEEDS_V10", "ROLLUP_BITS", "ROLLUP_DIRTY", "RUNNER_MARKED", "TREND_BIT",
    "migration_9_statements", "migration_10_statements", "rollup_triggers", "stale_posts_marker",
]  # fmt: skip

#: The bit of each daily rollup (and of the trend step's ``emerging``) in ``rollup_dirty.rollups``.
ROLLUP_BITS = {"brand_daily": 1, "topic_daily": 2, "theme_daily": 4, "emerging": 8}
#: The bit of ``emerging``: the trend step (``nlp.topics.trend_stage``) runs only when a key carries it.
TREND_BIT = ROLLUP_BITS["emerging"]

ROLLUP_DIRTY = """
CREATE TABLE rollup_dirty (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    rollups INTEGER NOT NULL,
    PRIMARY KEY (day, platform)
) WITHOUT ROWID"""


class Feeds(TypedDict):
    """A schema version's marking rules."""

    #: What a post's insert, delete or change of day or platform marks.
    posts: tuple[str, ...]
    #: Per table: what it feeds, and the columns whose update changes that.
    tables: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    #: The tables whose inserts the annotation runner marks (no insert trigger).
    runner: frozenset[str]
    #: The posts columns whose update (besides day and platform) marks ``emerging``.
    post_columns: tuple[str, ...]


#: Migration 9 (frozen): the three daily rollups.
FEEDS_V9: Feeds = {
    "posts": ("brand_daily", "topic_daily", "theme_daily"),
    "tables": {
        "post_sentiment": (("brand_daily", "topic_daily", "theme_daily"), ("label", "score")),
        "brand_sentiment": (("brand_daily", "topic_daily"), ("brand", "label", "score")),
        "post_mentions": (("brand_daily", "topic_daily"), ("brand",)),
        "post_topics": (("topic_daily",), ("topic_id",)),
        "post_need_themes": (("theme_daily",), ("start_char", "theme_id")),
        "post_needs": (("theme_daily",), ("start_char", "brand")),
    },
    "runner": frozenset({"post_sentiment", "brand_sentiment", "post_mentions", "post_needs"}),
    "post_columns": (),
}

#: Migration 10 (frozen): and ``emerging``, from everything the trend step reads: the posts (their text and
#: language too), the language verdicts, topic and theme assignments, need rows and mentions.
FEEDS_V10: Feeds = {
    "posts": ("brand_daily", "topic_daily", "theme_daily", "emerging"),
    "tables": {
        "post_sentiment": (("brand_daily", "topic_daily", "theme_daily"), ("label", "score")),
        "brand_sentiment": (("brand_daily", "topic_daily"), ("brand", "label", "score")),
        "post_mentions": (("brand_daily", "topic_daily", "emerging"), ("brand",)),
        "post_topics": (("topic_daily", "emerging"), ("topic_id",)),
        "post_need_themes": (("theme_daily", "emerging"), ("start_char", "theme_id")),
        "post_needs": (("theme_daily", "emerging"), ("start_char", "brand")),
        "post_language": (("emerging",), ("lang",)),
    },
    "runner": frozenset(
        {"post_sentiment", "brand_sentiment", "post_mentions", "post_needs", "post_language"}
    ),
    "post_columns": ("text", "lang"),
}

#: The marking rules of the current schema (the latest migration's).
FEEDS = FEEDS_V10

#: The tables the annotation runner (``nlp.annotate``) writes: it marks each batch's posts with one statement
#: (:func:`stale_posts_marker`) instead of an insert trigger firing once per row, which cost about 2% of the
#: annotators' throughput (6 µs a row, 3-4 rows a post). Their update and delete triggers stay.
RUNNER_MARKED: frozenset[str] = FEEDS["runner"]

# One primary-key probe; a key already marked for these rollups is left alone (no write).
_MARK_CONFLICT = (
    " ON CONFLICT (day, platform) DO UPDATE SET rollups = rollups | excluded.rollups"
    " WHERE rollups & excluded.rollups != excluded.rollups"
)


def _bits(names: tuple[str, ...]) -> int:
    return sum(ROLLUP_BITS[name] for name in names)


def _mark_post(row: str, names: tuple[str, ...]) -> str:
    """The statement marking ``names`` stale for the day and platform of the post ``row.post_id``."""
    return (
        f"INSERT INTO rollup_dirty (day, platform, rollups) SELECT substr(p.created_at, 1, 10), p.platform, "
        f"{_bits(names)} FROM posts AS p WHERE p.id = {row}.post_id{_MARK_CONFLICT};"
    )


def _mark_row(row: str, names: tuple[str, ...]) -> str:
    """The statement marking ``names`` stale for the day and platform of the posts row ``row``."""
    return (
        "INSERT INTO rollup_dirty (day, platform, rollups) "
        f"VALUES (substr({row}.created_at, 1, 10), {row}.platform, {_bits(names)}){_MARK_CONFLICT};"
    )


def stale_posts_marker(table: str) -> str | None:
    """The statement marking stale what ``table`` feeds (current schema), for the day and platform of every
    post in a JSON list of post ids (its one parameter); None when ``table`` feeds nothing."""
    if table not in FEEDS["tables"]:
        return None
    bits = _bits(FEEDS["tables"][table][0])
    return (
        "INSERT INTO rollup_dirty (day, platform, rollups) SELECT DISTINCT substr(p.created_at, 1, 10), "
        f"p.platform, {bits} FROM posts AS p WHERE p.id IN (SELECT value FROM json_each(?)){_MARK_CONFLICT}"
    )


def rollup_triggers(feeds: Feeds) -> tuple[str, ...]:
    """The ``CREATE TRIGGER`` statements that fill ``rollup_dirty`` under the rules ``feeds``
    (``rollup_<table>_ai|ad|au``; no ``_ai`` on the runner's tables, whose writer marks its batches;
    ``rollup_posts_text_au`` when posts columns mark ``emerging``).

    An update marks the old and the new post, and fires only when a column a rollup reads changed (a topic
    refit that keeps a post's topic id marks nothing). On a post's deletion its derived rows go by cascade;
    their triggers find no post and mark nothing, the post's own trigger marks its day."""
    posts = feeds["posts"]
    statements = [
        f"CREATE TRIGGER rollup_posts_ai AFTER INSERT ON posts BEGIN {_mark_row('new', posts)} END",
        f"CREATE TRIGGER rollup_posts_ad AFTER DELETE ON posts BEGIN {_mark_row('old', posts)} END",
        "CREATE TRIGGER rollup_posts_au AFTER UPDATE OF created_at, platform ON posts"
        " WHEN substr(old.created_at, 1, 10) IS NOT substr(new.created_at, 1, 10)"
        f" OR old.platform IS NOT new.platform BEGIN {_mark_row('old', posts)} {_mark_row('new', posts)} END",
    ]
    if feeds["post_columns"]:
        columns = feeds["post_columns"]
        changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in columns)
        statements.append(
            f"CREATE TRIGGER rollup_posts_text_au AFTER UPDATE OF {', '.join(columns)} ON posts"
            f" WHEN {changed} BEGIN {_mark_row('new', ('emerging',))} END"
        )
    for table, (names, columns) in feeds["tables"].items():
        changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in ("post_id", *columns))
        if table not in feeds["runner"]:
            mark = _mark_post("new", names)
            statements.append(f"CREATE TRIGGER rollup_{table}_ai AFTER INSERT ON {table} BEGIN {mark} END")
        statements += [
            f"CREATE TRIGGER rollup_{table}_ad AFTER DELETE ON {table} BEGIN {_mark_post('old', names)} END",
            f"CREATE TRIGGER rollup_{table}_au AFTER UPDATE ON {table} WHEN {changed} "
            f"BEGIN {_mark_post('old', names)} {_mark_post('new', names)} END",
        ]
    return tuple(statements)


def _mark_all(names: tuple[str, ...]) -> str:
    """Marks every (day, platform) with posts stale for ``names`` (a scan of the posts' platform index)."""
    return (
        "INSERT INTO rollup_dirty (day, platform, rollups) SELECT DISTINCT substr(created_at, 1, 10), "
        f"platform, {_bits(names)} FROM posts INDEXED BY idx_posts_platform_created_at WHERE true"
        + _MARK_CONFLICT
    )


def _trigger_names(feeds: Feeds) -> list[str]:
    return [statement.split()[2] for statement in rollup_triggers(feeds)]


def migration_9_statements() -> tuple[str, ...]:
    """Migration 9 after its two recreated rollups: ``rollup_dirty``, its triggers, every key marked."""
    return (ROLLUP_DIRTY, *rollup_triggers(FEEDS_V9), _mark_all(FEEDS_V9["posts"]))


def migration_10_statements() -> tuple[str, ...]:
    """Migration 10: migration 9's triggers replaced by those of :data:`FEEDS_V10`, every key with posts
    marked for ``emerging`` (the first ``analyze`` after the upgrade evaluates trends)."""
    drops = tuple(f"DROP TRIGGER {name}" for name in _trigger_names(FEEDS_V9))
    return (*drops, *rollup_triggers(FEEDS_V10), _mark_all(("emerging",)))
