"""What keeps the daily rollups current (migration 9): ``rollup_dirty``, the triggers that fill it and the
statement the annotation runner uses for the rows it inserts.

``rollup_dirty`` names the (UTC day, platform) keys whose rows in ``brand_daily``, ``topic_daily`` and
``theme_daily`` may no longer agree with the tables they summarise; ``rollups`` is a bit mask of the stale
rollups (:data:`ROLLUP_BITS`). It holds days and platform names, no post ids or content. Triggers mark keys on
posts (insert, delete, a change of day or platform), on the topic and theme assignments, and on updates and
deletes of the annotation tables (prune, erase and forget mark through the posts trigger, their cascades find
no post); the annotation runner marks each batch it inserts into the tables of :data:`RUNNER_MARKED` with
:func:`stale_posts_marker`. ``nlp.brand_daily`` and ``nlp.topics.daily`` recompute the marked keys and clear
their bit. The SQL here is part of migration 9: change it only through a new migration.
"""

from __future__ import annotations

__all__ = [
    "MARK_ALL_DIRTY", "ROLLUP_BITS", "ROLLUP_DIRTY", "RUNNER_MARKED", "rollup_triggers", "stale_posts_marker",
]  # fmt: skip

#: The bit of each daily rollup in ``rollup_dirty.rollups``.
ROLLUP_BITS = {"brand_daily": 1, "topic_daily": 2, "theme_daily": 4}
_ALL_ROLLUPS = sum(ROLLUP_BITS.values())

ROLLUP_DIRTY = """
CREATE TABLE rollup_dirty (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    rollups INTEGER NOT NULL,
    PRIMARY KEY (day, platform)
) WITHOUT ROWID"""

# The rollups each annotation table feeds, and the columns whose update changes them (``posts`` feeds all).
_FEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "post_sentiment": (tuple(ROLLUP_BITS), ("label", "score")),
    "brand_sentiment": (("brand_daily", "topic_daily"), ("brand", "label", "score")),
    "post_mentions": (("brand_daily", "topic_daily"), ("brand",)),
    "post_topics": (("topic_daily",), ("topic_id",)),
    "post_need_themes": (("theme_daily",), ("start_char", "theme_id")),
    "post_needs": (("theme_daily",), ("start_char", "brand")),
}

#: The tables the annotation runner (``nlp.annotate``) writes: it marks each batch's posts with one statement
#: (:func:`stale_posts_marker`) instead of an insert trigger firing once per row, which cost about 2% of the
#: annotators' throughput (6 µs a row, 3-4 rows a post). Their update and delete triggers stay.
RUNNER_MARKED = frozenset({"post_sentiment", "brand_sentiment", "post_mentions", "post_needs"})

# One primary-key probe; a key already marked for these rollups is left alone (no write).
_MARK_CONFLICT = (
    " ON CONFLICT (day, platform) DO UPDATE SET rollups = rollups | excluded.rollups"
    " WHERE rollups & excluded.rollups != excluded.rollups"
)


def _mark_post(row: str, names: tuple[str, ...]) -> str:
    """The statement marking ``names`` stale for the day and platform of the post ``row.post_id``."""
    bits = sum(ROLLUP_BITS[name] for name in names)
    return (
        f"INSERT INTO rollup_dirty (day, platform, rollups) SELECT substr(p.created_at, 1, 10), p.platform, "
        f"{bits} FROM posts AS p WHERE p.id = {row}.post_id{_MARK_CONFLICT};"
    )


def _mark_row(row: str) -> str:
    """The statement marking every rollup stale for the day and platform of the posts row ``row``."""
    return (
        "INSERT INTO rollup_dirty (day, platform, rollups) "
        f"VALUES (substr({row}.created_at, 1, 10), {row}.platform, {_ALL_ROLLUPS}){_MARK_CONFLICT};"
    )


def stale_posts_marker(table: str) -> str | None:
    """The statement marking stale the rollups ``table`` feeds, for the day and platform of every post in a
    JSON list of post ids (its one parameter); None when ``table`` feeds no rollup."""
    if table not in _FEEDS:
        return None
    bits = sum(ROLLUP_BITS[name] for name in _FEEDS[table][0])
    return (
        "INSERT INTO rollup_dirty (day, platform, rollups) SELECT DISTINCT substr(p.created_at, 1, 10), "
        f"p.platform, {bits} FROM posts AS p WHERE p.id IN (SELECT value FROM json_each(?)){_MARK_CONFLICT}"
    )


def rollup_triggers() -> tuple[str, ...]:
    """The ``CREATE TRIGGER`` statements that fill ``rollup_dirty`` (``rollup_<table>_ai|ad|au``; no
    ``_ai`` on the tables of :data:`RUNNER_MARKED`, whose writer marks its batches).

    An update marks the old and the new post, and fires only when a column a rollup reads changed (a topic
    refit that keeps a post's topic id marks nothing). On a post's deletion its derived rows go by cascade;
    their triggers find no post and mark nothing, the post's own trigger marks its day."""
    statements = [
        f"CREATE TRIGGER rollup_posts_ai AFTER INSERT ON posts BEGIN {_mark_row('new')} END",
        f"CREATE TRIGGER rollup_posts_ad AFTER DELETE ON posts BEGIN {_mark_row('old')} END",
        "CREATE TRIGGER rollup_posts_au AFTER UPDATE OF created_at, platform ON posts"
        " WHEN substr(old.created_at, 1, 10) IS NOT substr(new.created_at, 1, 10)"
        f" OR old.platform IS NOT new.platform BEGIN {_mark_row('old')} {_mark_row('new')} END",
    ]
    for table, (names, columns) in _FEEDS.items():
        changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in ("post_id", *columns))
        if table not in RUNNER_MARKED:
            mark = _mark_post("new", names)
            statements.append(f"CREATE TRIGGER rollup_{table}_ai AFTER INSERT ON {table} BEGIN {mark} END")
        statements += [
            f"CREATE TRIGGER rollup_{table}_ad AFTER DELETE ON {table} BEGIN {_mark_post('old', names)} END",
            f"CREATE TRIGGER rollup_{table}_au AFTER UPDATE ON {table} WHEN {changed} "
            f"BEGIN {_mark_post('old', names)} {_mark_post('new', names)} END",
        ]
    return tuple(statements)


#: Marks every (day, platform) that has posts stale for every rollup (a scan of the posts' platform index).
MARK_ALL_DIRTY = (
    f"INSERT INTO rollup_dirty (day, platform, rollups) SELECT DISTINCT substr(created_at, 1, 10), platform, "
    f"{_ALL_ROLLUPS} FROM posts INDEXED BY idx_posts_platform_created_at WHERE true" + _MARK_CONFLICT
)
