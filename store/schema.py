"""The schema's DDL: the literal ``CREATE`` statements the migrations of :mod:`store.migrations` execute.

This is the text of applied migrations: a database ran it once, so an edit here changes nothing in existing
files (and breaks new ones that expect the same schema). Change the schema only through a new migration.
"""

POSTS = """
CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    platform TEXT NOT NULL,
    native_id TEXT NOT NULL,
    author_id TEXT,
    author_handle TEXT,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    url TEXT,
    lang TEXT,
    reply_to TEXT,
    conversation_id TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',
    raw TEXT,
    query TEXT,
    collected_at TEXT,
    content_hash TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"""

# Named and written the way sqlite-utils writes it, so ``db["posts"].search(...)`` and ``detect_fts()`` work.
POSTS_FTS = """
CREATE VIRTUAL TABLE posts_fts USING FTS5 (
    text, tokenize='unicode61 remove_diacritics 2', content=[posts], content_rowid=[rowid]
)"""

# Plain per-row triggers keep the index in sync for every writer. ``upsert_posts`` writes each batch with one
# INSERT ... SELECT statement from a staging table rather than one statement per row: FTS5 (SQLite 3.40)
# flushes its pending terms at every statement savepoint, so a trigger fired by row-by-row statements writes
# one index segment per row (measured about 10x slower), while one statement per batch flushes once.
POSTS_FTS_TRIGGERS = (
    """CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts (rowid, text) VALUES (new.rowid, new.text);
    END""",
    """CREATE TRIGGER posts_ad AFTER DELETE ON posts BEGIN
        INSERT INTO posts_fts (posts_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END""",
    """CREATE TRIGGER posts_au AFTER UPDATE ON posts
    WHEN old.text IS NOT new.text OR old.rowid IS NOT new.rowid BEGIN
        INSERT INTO posts_fts (posts_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO posts_fts (rowid, text) VALUES (new.rowid, new.text);
    END""",
)

AUTHORS = """
CREATE TABLE authors (
    id TEXT PRIMARY KEY NOT NULL,
    platform TEXT NOT NULL,
    native_id TEXT NOT NULL,
    handle TEXT,
    display_name TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
)"""

COLLECTION_RUNS = """
CREATE TABLE collection_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    query TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    fetched INTEGER NOT NULL DEFAULT 0,
    new INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    error TEXT
)"""

CHECKPOINTS = """
CREATE TABLE checkpoints (
    source TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, query)
)"""

QUARANTINE = """
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT,
    run_id INTEGER REFERENCES collection_runs (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
)"""

CUSTOMERS = """
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY NOT NULL,
    broad_segment TEXT,
    plan TEXT,
    contract TEXT,
    tenure_months INTEGER,
    monthly_charge REAL,
    total_charges REAL,
    churned INTEGER CHECK (churned IN (0, 1)),
    attributes TEXT NOT NULL DEFAULT '{}',
    source TEXT,
    imported_at TEXT NOT NULL
)"""

CUSTOMER_HANDLES = """
CREATE TABLE customer_handles (
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    handle TEXT NOT NULL,
    consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
    consent_source TEXT,
    consent_date TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1)),
    PRIMARY KEY (platform, handle, customer_id)
)"""

DELETIONS = """
CREATE TABLE deletions (
    post_id TEXT PRIMARY KEY NOT NULL,
    platform TEXT NOT NULL,
    reason TEXT NOT NULL,
    deleted_at TEXT NOT NULL
)"""

INDEXES = (
    "CREATE INDEX idx_posts_created_at ON posts (created_at)",
    "CREATE INDEX idx_posts_platform_created_at ON posts (platform, created_at)",
    "CREATE INDEX idx_posts_author_id ON posts (author_id)",
    "CREATE INDEX idx_authors_handle ON authors (platform, handle)",
    "CREATE INDEX idx_collection_runs_source_query ON collection_runs (source, query)",
    "CREATE INDEX idx_quarantine_run_id ON quarantine (run_id)",
    "CREATE INDEX idx_customer_handles_customer_id ON customer_handles (customer_id)",
)

# The NLP annotations (issue 4). ``annotation_runs``: one row per post and annotator family
# (``mentions.phrase``) saying at which version, with which settings (``fingerprint``: a hash of, e.g., the
# configured brand terms) and for which ``content_hash`` of the post it last ran, so ``nlp.run_annotators``
# picks only posts never done, done by another version or other settings, or edited since. Output tables
# carry the full versioned name (``mentions.phrase.v1``) in ``annotator``. Both follow the derived-table rule.
ANNOTATION_RUNS = """
CREATE TABLE annotation_runs (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    done_at TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator)
)"""

POST_MENTIONS = """
CREATE TABLE post_mentions (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    brand TEXT NOT NULL,
    surface TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator, start_char)
)"""

# The NLP signals of issue 4, one table per annotator family, each following the derived-table rule. Scores
# are in [-1, 1] (negative to positive); labels are ``positive|neutral|negative``.
POST_LANGUAGE = """
CREATE TABLE post_language (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    confidence REAL NOT NULL,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator)
)"""

# One float32 vector per post (little-endian bytes, ``dim`` values), from the model named in ``model``.
POST_EMBEDDINGS = """
CREATE TABLE post_embeddings (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator)
)"""

POST_SENTIMENT = """
CREATE TABLE post_sentiment (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    label TEXT NOT NULL CHECK (label IN ('positive', 'neutral', 'negative')),
    score REAL NOT NULL,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator)
)"""

BRAND_SENTIMENT = """
CREATE TABLE brand_sentiment (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    brand TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('positive', 'neutral', 'negative')),
    score REAL NOT NULL,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator, brand)
)"""

# ``kind``: wish, request, complaint or question; ``phrase`` is the need itself (a substring of the
# normalised text at ``start_char:end_char``), ``brand`` the brand it is raised against when one is named.
POST_NEEDS = """
CREATE TABLE post_needs (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    phrase TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    brand TEXT,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator, start_char)
)"""

# ``intent``: cancel, port_out, leaving or switching (churn and switching cues), with the brands named.
POST_INTENTS = """
CREATE TABLE post_intents (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    intent TEXT NOT NULL,
    from_brand TEXT,
    to_brand TEXT,
    cue TEXT NOT NULL,
    annotator TEXT NOT NULL,
    PRIMARY KEY (post_id, annotator, intent)
)"""


# Topics and need themes (issue 5). A fitted model lives in files (``models/topics/<version>/``) and is named
# in ``cluster_models``; ``topics`` and ``need_themes`` hold the stable ids a refit keeps, their labels and
# status (``active`` until a refit retires or merges them); ``cluster_lineage`` records each refit's events
# (``kind``: topic or theme). Per-post assignments follow the derived-table rule; ``topic_id`` / ``theme_id``
# -1 means unassigned. Nothing here keeps post text or post ids outside derived tables, so erasing a person
# leaves no trace in the cluster tables (representative posts are read from the assignments when shown).
CLUSTER_MODELS = """
CREATE TABLE cluster_models (
    version TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('topic', 'theme')),
    annotator TEXT NOT NULL,
    fitted_at TEXT NOT NULL,
    fitted INTEGER NOT NULL,
    clusters INTEGER NOT NULL,
    unassigned_share REAL NOT NULL,
    raw_outlier_share REAL NOT NULL,
    seconds REAL NOT NULL,
    path TEXT NOT NULL,
    params TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0
)"""

_CLUSTER_COLUMNS = """
    label TEXT NOT NULL,
    terms TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'merged')),
    born_model TEXT NOT NULL,
    last_model TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"""
TOPICS = "CREATE TABLE topics (\n    topic_id INTEGER PRIMARY KEY," + _CLUSTER_COLUMNS
NEED_THEMES = "CREATE TABLE need_themes (\n    theme_id INTEGER PRIMARY KEY," + _CLUSTER_COLUMNS

CLUSTER_LINEAGE = """
CREATE TABLE cluster_lineage (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('topic', 'theme')),
    model_version TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('kept', 'born', 'merged', 'split', 'retired')),
    cluster_id INTEGER NOT NULL,
    related TEXT NOT NULL,
    similarity REAL NOT NULL,
    at TEXT NOT NULL
)"""

POST_TOPICS = """
CREATE TABLE post_topics (
    post_id TEXT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    topic_id INTEGER NOT NULL,
    score REAL NOT NULL,
    model_version TEXT NOT NULL
)"""

# One vector per need phrase (``post_needs`` row), embedded once with the post embedding model.
NEED_VECTORS = """
CREATE TABLE need_vectors (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    start_char INTEGER NOT NULL,
    phrase_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (post_id, start_char)
)"""

POST_NEED_THEMES = """
CREATE TABLE post_need_themes (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    start_char INTEGER NOT NULL,
    theme_id INTEGER NOT NULL,
    score REAL NOT NULL,
    model_version TEXT NOT NULL,
    PRIMARY KEY (post_id, start_char)
)"""

# Rollups the dashboard reads, rebuilt by ``analyze``: posts per day, topic and brand ('' when none), with
# sentiment counts; need rows per day, theme and brand. Migration 9 replaces both (TOPIC_DAILY_V9: by
# platform too).
TOPIC_DAILY = """
CREATE TABLE topic_daily (
    day TEXT NOT NULL,
    topic_id INTEGER NOT NULL,
    brand TEXT NOT NULL,
    posts INTEGER NOT NULL,
    positive INTEGER NOT NULL,
    neutral INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    PRIMARY KEY (day, topic_id, brand)
)"""

THEME_DAILY = """
CREATE TABLE theme_daily (
    day TEXT NOT NULL,
    theme_id INTEGER NOT NULL,
    brand TEXT NOT NULL,
    needs INTEGER NOT NULL,
    positive INTEGER NOT NULL,
    neutral INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    PRIMARY KEY (day, theme_id, brand)
)"""

# Emerging series flagged by ``nlp.topics.trends`` (``kind``: topic, theme or term; ``key`` the id or term),
# one row per series and day evaluated; ``explanation`` holds aggregate drivers (terms, brands), no post ids.
EMERGING = """
CREATE TABLE emerging (
    kind TEXT NOT NULL CHECK (kind IN ('topic', 'theme', 'term')),
    key TEXT NOT NULL,
    day TEXT NOT NULL,
    window_count INTEGER NOT NULL,
    expected REAL NOT NULL,
    ratio REAL NOT NULL,
    p_value REAL NOT NULL,
    q_value REAL NOT NULL,
    explanation TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    PRIMARY KEY (kind, key, day)
)"""


# Customers and micro-segments (issue 6) and analysts' corrections (issue 7). Everything about a person
# hangs off ``customers`` or ``authors`` with ``ON DELETE CASCADE`` (off ``posts`` by the derived-table
# rule), so ``tasteradar forget`` deletes the customer, their authors and posts, and the database removes
# the rest.
# ``customer_links``: one row per author linked to a customer, written only through a consented handle.
CUSTOMER_LINKS = """
CREATE TABLE customer_links (
    author_id TEXT PRIMARY KEY NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    consent_source TEXT,
    consent_date TEXT,
    linked_at TEXT NOT NULL
)"""

# Link attempts and erasures: what happened, to which customer, why; never a handle or any post content.
# ``customer_id`` is cleared (not kept) when that customer is forgotten.
LINK_AUDIT = """
CREATE TABLE link_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('linked', 'refused', 'unlinked', 'forgotten')),
    customer_id TEXT,
    platform TEXT,
    reason TEXT NOT NULL
)"""

# A churn model: its coefficients, calibration and metrics as JSON (no customer data), one active at a time.
CHURN_MODELS = """
CREATE TABLE churn_models (
    version INTEGER PRIMARY KEY NOT NULL,
    fitted_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    features TEXT NOT NULL DEFAULT '[]',
    params TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
)"""

CHURN_SCORES = """
CREATE TABLE churn_scores (
    customer_id TEXT PRIMARY KEY NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    model_version INTEGER NOT NULL,
    risk REAL NOT NULL CHECK (risk BETWEEN 0 AND 1),
    factors TEXT NOT NULL DEFAULT '[]',
    scored_at TEXT NOT NULL
)"""

# One segmentation run (both populations); ``params`` the settings, ``versions`` the annotator and model
# versions the features came from (export provenance), ``summary`` counts per broad segment.
SEGMENT_RUNS = """
CREATE TABLE segment_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    versions TEXT NOT NULL DEFAULT '{}',
    summary TEXT NOT NULL DEFAULT '{}'
)"""

# Micro-segments with stable ids. ``population``: ``customers`` (opted-in, linked customers and the CRM) or
# ``audience`` (authors not linked: aggregates only). ``profile``: lift features and descriptive figures.
SEGMENTS = """
CREATE TABLE segments (
    id INTEGER PRIMARY KEY NOT NULL,
    population TEXT NOT NULL CHECK (population IN ('customers', 'audience')),
    broad_segment TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    churn_rate REAL,
    sentiment REAL,
    profile TEXT NOT NULL DEFAULT '{}',
    centroid BLOB,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired', 'merged')),
    born_run INTEGER NOT NULL,
    last_run INTEGER NOT NULL,
    updated_at TEXT NOT NULL
)"""

SEGMENT_MEMBERS = """
CREATE TABLE segment_members (
    customer_id TEXT PRIMARY KEY NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL,
    score REAL
)"""

AUDIENCE_MEMBERS = """
CREATE TABLE audience_members (
    author_id TEXT PRIMARY KEY NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL,
    score REAL
)"""

# Example posts of a segment (by reference, so an erased post leaves its segment's examples).
SEGMENT_EXAMPLES = """
CREATE TABLE segment_examples (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    PRIMARY KEY (post_id, segment_id)
)"""

SEGMENT_LINEAGE = """
CREATE TABLE segment_lineage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('kept', 'born', 'merged', 'split', 'retired')),
    segment_id INTEGER NOT NULL,
    related TEXT NOT NULL DEFAULT '[]',
    similarity REAL,
    at TEXT NOT NULL
)"""

# Campaign exports: what was written, when, with which provenance and content hash; ``export_members`` names
# the customers in each, so erasing a customer removes them from the export records too.
EXPORT_RECORDS = """
CREATE TABLE export_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    format TEXT NOT NULL,
    path TEXT,
    rows INTEGER NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    provenance TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
)"""

EXPORT_MEMBERS = """
CREATE TABLE export_members (
    export_id INTEGER NOT NULL REFERENCES export_records (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    PRIMARY KEY (export_id, customer_id)
)"""

# Analysts' corrections from the dashboard's review page: ``kind`` sentiment (value positive|neutral|negative)
# or need (value a need phrase, or empty for "not a need"); ``sentiment train`` reads them.
CORRECTIONS = """
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('sentiment', 'need')),
    value TEXT NOT NULL,
    analyst TEXT,
    created_at TEXT NOT NULL
)"""


# Posts per UTC day, platform and brand (``brand`` '' = every post of that day and platform), with the
# post-level sentiment counts for brand rows from the brand's own sentiment: the rollup the dashboard's
# overview reads so it paints from a few thousand rows whatever the number of posts. Kept current by
# ``analyze`` (incrementally since migration 9: see ROLLUP_DIRTY).
BRAND_DAILY = """
CREATE TABLE brand_daily (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    brand TEXT NOT NULL,
    posts INTEGER NOT NULL,
    positive INTEGER NOT NULL DEFAULT 0,
    neutral INTEGER NOT NULL DEFAULT 0,
    negative INTEGER NOT NULL DEFAULT 0,
    sentiment_sum REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (day, platform, brand)
)"""


# Migration 9 (issue 7; issue 4's "a second analyze with nothing new does no work"): ``topic_daily`` and
# ``theme_daily`` gain the post's platform, so the platform filter applies to them, and ``rollup_dirty`` with
# its triggers (:mod:`store.rollup_marks`) marks the (day, platform) keys of the rollups writes make stale.
# The two rollups are recreated empty (derived) and every key with posts is marked, so the next ``analyze``
# rebuilds them; the migration itself reads only the posts' (platform, created_at) index.
TOPIC_DAILY_V9 = """
CREATE TABLE topic_daily (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    topic_id INTEGER NOT NULL,
    brand TEXT NOT NULL,
    posts INTEGER NOT NULL,
    positive INTEGER NOT NULL,
    neutral INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    PRIMARY KEY (day, platform, topic_id, brand)
)"""

THEME_DAILY_V9 = """
CREATE TABLE theme_daily (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    theme_id INTEGER NOT NULL,
    brand TEXT NOT NULL,
    needs INTEGER NOT NULL,
    positive INTEGER NOT NULL,
    neutral INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    PRIMARY KEY (day, platform, theme_id, brand)
)"""
