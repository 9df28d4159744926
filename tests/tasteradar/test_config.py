"""Configuration: discovery, strict validation with clear messages, defaults, starter file and docs."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from tasteradar import config as config_module
from tasteradar.config import (
    SECRET_VARS,
    SETTINGS_DOC,
    BrandConfig,
    Config,
    ConfigError,
    ConfigErrors,
    DashboardConfig,
    DatabaseConfig,
    ModelsConfig,
    XSource,
    default_queries,
    find_config,
    load_config,
    parse_config,
    write_starter,
)
from tasteradar.starter import starter_text

GOOD = """
[database]
path = "data/tasteradar.db"

[brand]
name = "Nimbus Mobile"
aliases = ["Nimbus", "NimbusMobile"]
handles = ["@NimbusMobile", "NimbusHelp"]
hashtags = ["#nimbusmobile"]

[[competitors]]
name = "Titan Telecom"
aliases = ["Titan"]
handles = ["TitanTelecom"]
hashtags = ["titan"]
host_network = true

[[competitors]]
name = "Volt Mobile"
handles = ["VoltMobile"]

[sources.x]
enabled = true
queries = []
max_results = 100

[sources.reddit]
subreddits = ["r/nimbusmobile"]
searches = ["nimbus mobile"]

[sources.mastodon]
enabled = false
instances = ["https://mastodon.social/"]

[models]
batch_size = 64

[dashboard]
host = "127.0.0.1"
port = 8502
"""

MINIMAL = '[brand]\nname = "Nimbus Mobile"\n'
M = MINIMAL


def parse(text: str) -> Config:
    return parse_config(text, file="tasteradar.toml", base_dir=Path("/cfg"))


def errors_of(text: str) -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as caught:
        parse(text)
    return list(caught.value.errors)


def test_good_config_loads_and_normalises(tmp_path):
    path = tmp_path / "tasteradar.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.path == path and not config.is_default
    assert config.database.path == tmp_path / "data" / "tasteradar.db"
    assert config.brand == BrandConfig(
        "Nimbus Mobile",
        ("Nimbus", "NimbusMobile"),
        ("NimbusMobile", "NimbusHelp"),
        ("nimbusmobile",),
        False,
        True,
    )
    assert [brand.name for brand in config.brands] == ["Nimbus Mobile", "Titan Telecom", "Volt Mobile"]
    assert config.competitors[0].host_network and not config.competitors[0].is_own
    assert config.sources.reddit.subreddits == ("nimbusmobile",)
    assert config.sources.mastodon.instances == ("mastodon.social",)
    assert config.sources.enabled == ("x", "reddit")  # bluesky's table is absent, mastodon is switched off
    assert config.models == ModelsConfig(batch_size=64)
    assert config.dashboard == DashboardConfig("127.0.0.1", 8502)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.brand.name = "Other"  # type: ignore[misc]


# ---- discovery -------------------------------------------------------------------------------------------


@pytest.fixture
def three_configs(tmp_path):
    paths = {}
    for name in ("explicit", "env", "cwd"):
        folder = tmp_path / name
        folder.mkdir()
        paths[name] = folder / "tasteradar.toml"
        paths[name].write_text(MINIMAL)
    return paths


def test_discovery_order_explicit_then_env_then_cwd(three_configs):
    env = {"TASTERADAR_CONFIG": str(three_configs["env"])}
    cwd = three_configs["cwd"].parent
    assert find_config(three_configs["explicit"], env=env, cwd=cwd) == three_configs["explicit"]
    assert find_config(None, env=env, cwd=cwd) == three_configs["env"]
    assert find_config(None, env={}, cwd=cwd) == three_configs["cwd"]
    assert find_config(None, env={"TASTERADAR_CONFIG": ""}, cwd=cwd) == three_configs["cwd"]
    assert find_config(None, env={}, cwd=cwd.parent) is None


def test_relative_explicit_path_is_taken_from_cwd(three_configs):
    base = three_configs["explicit"].parent.parent
    assert find_config("explicit/tasteradar.toml", env={}, cwd=base) == three_configs["explicit"]


@pytest.mark.parametrize("origin", ["--config", "TASTERADAR_CONFIG"])
def test_missing_explicit_or_env_path_is_an_error_not_a_fallback(tmp_path, origin):
    (tmp_path / "tasteradar.toml").write_text(MINIMAL)
    missing = tmp_path / "nope.toml"
    explicit = missing if origin == "--config" else None
    with pytest.raises(ConfigError) as caught:
        find_config(explicit, env={"TASTERADAR_CONFIG": str(missing)}, cwd=tmp_path)
    assert caught.value.key == origin
    assert str(missing) in str(caught.value) and "no such file" in str(caught.value)


def test_defaults_when_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config.is_default and config.path is None and config.folder is None
    assert config.brand.name == "" and config.brands == () and config.competitors == ()
    assert config.sources.enabled == ()
    assert config.database.path == tmp_path / "tasteradar.db"


def test_with_db_overrides_database_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = parse(GOOD)
    moved = config.with_db("other.db")
    assert moved.database == DatabaseConfig(tmp_path / "other.db")
    assert config.database.path == Path("/cfg/data/tasteradar.db")
    assert moved.brand == config.brand and moved.sources == config.sources


@pytest.mark.parametrize(
    ("written", "expected"),
    [("data/x.db", "/cfg/data/x.db"), ("../x.db", "/cfg/../x.db"), ("/abs/x.db", "/abs/x.db")],
)
def test_database_path_is_relative_to_the_config_folder(written, expected):
    config = parse(MINIMAL + f'[database]\npath = "{written}"\n')
    assert config.database.path == Path(expected)


# ---- validation errors -----------------------------------------------------------------------------------

BAD_CASES = {
    "wrong type for a list": (
        GOOD.replace('handles = ["VoltMobile"]', "handles = 42"),
        "competitors[1].handles", "42 (int)", 'a list of strings, e.g. ["TitanTelecom"]',
    ),
    "wrong type inside a list": (
        GOOD.replace('handles = ["TitanTelecom"]', 'handles = ["TitanTelecom", 7]'),
        "competitors[0].handles[1]", "7 (int)", "a non-empty string without spaces",
    ),
    "handle with a space": (
        GOOD.replace('"NimbusHelp"', '"Nimbus Help"'),
        "brand.handles[1]", '"Nimbus Help" (str)', "without spaces",
    ),
    "empty brand name": (M.replace("Nimbus Mobile", "  "), "brand.name", '"  " (str)', "a non-empty string"),
    "missing brand name": ("[brand]\naliases = []\n", "brand.name", "nothing", "a non-empty string"),
    "missing brand table": ("[models]\nbatch_size = 8\n", "brand", "nothing", "[brand] with name"),
    "port out of range": (M + "[dashboard]\nport = 70000\n", "dashboard.port", "70000 (int)", "1 to 65535"),
    "negative batch size": (M + "[models]\nbatch_size = -5\n", "models.batch_size", "-5 (int)", "from 1"),
    "float where int": (M + "[dashboard]\nport = 8501.0\n", "dashboard.port", "8501.0 (float)", "whole"),
    "bool where int": (M + "[models]\nbatch_size = true\n", "models.batch_size", "true (bool)", "whole"),
    "max_results below X minimum": (
        M + "[sources.x]\nmax_results = 5\n", "sources.x.max_results", "5 (int)", "from 10 to 100",
    ),
    "string where bool": (
        M + '[sources.x]\nenabled = "yes"\n', "sources.x.enabled", '"yes" (str)', "true or false",
    ),
    "table where value": (M + "[database.path]\nx = 1\n", "database.path", "a table", "a non-empty string"),
    "table where array of tables": (
        M + '[competitors]\nname = "Titan"\n', "competitors", "a table", "[[competitors]] blocks",
    ),
    "value where table": ('brand = "Nimbus"\n', "brand", '"Nimbus" (str)', "a table [brand]"),
    "query over X's limit": (
        M + f'[sources.x]\nqueries = ["{"a" * 600}"]\n',
        "sources.x.queries[0]", "a string of 600 characters", "at most 512 characters",
    ),
    "duplicate brand name": (
        M + '[[competitors]]\nname = "nimbus mobile"\n',
        "competitors[0].name", '"nimbus mobile", already used at brand.name', "belongs to one brand only",
    ),
    "duplicate alias": (
        GOOD.replace('aliases = ["Titan"]', 'aliases = ["Titan", "NIMBUS"]'),
        "competitors[0].aliases[1]", '"NIMBUS", already used at brand.aliases[0]', "a name or alias",
    ),
    "duplicate handle": (
        GOOD.replace('handles = ["VoltMobile"]', 'handles = ["@nimbushelp"]'),
        "competitors[1].handles[0]", '"nimbushelp", already used at brand.handles[1]', "a handle",
    ),
    "invalid TOML": (M + "[models]\nbatch_size = = 3\n", "line 4, column 14", "invalid TOML", "valid TOML"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_CASES.values(), ids=BAD_CASES.keys())
def test_each_error_names_file_key_found_and_expected(case):
    text, key, found, expected = case
    errors = errors_of(text)
    assert len(errors) == 1, [str(error) for error in errors]
    error = errors[0]
    assert (error.file, error.key) == ("tasteradar.toml", key)
    assert found in error.found and expected in error.expected
    assert str(error).startswith(f"tasteradar.toml: {key}: found {error.found}, expected {error.expected}")


def test_message_format_matches_the_contract():
    error = ConfigError(
        "tasteradar.toml", "competitors[1].handles", "42 (int)", 'a list of strings, e.g. ["V"]'
    )
    assert (
        str(error)
        == 'tasteradar.toml: competitors[1].handles: found 42 (int), expected a list of strings, e.g. ["V"]'
    )
    assert str(ConfigError("f", "k", "x", "y", "did you mean 'z'?")).endswith("expected y; did you mean 'z'?")


def test_all_problems_are_reported_together():
    text = GOOD.replace("aliases = [", "aliasses = [", 1).replace("port = 8502", "port = 0")
    text = text.replace("batch_size = 64", "batch_size = -1") + "\n[sourcez.x]\nenabled = true\n"
    with pytest.raises(ConfigError) as caught:  # ConfigErrors is a ConfigError: one except clause in the CLI
        parse(text)
    keys = [error.key for error in caught.value.errors]
    assert sorted(keys) == sorted(["brand.aliasses", "dashboard.port", "models.batch_size", "sourcez"])
    message = str(caught.value)
    assert message.startswith("4 problems")
    assert all(str(error) in message for error in caught.value.errors)


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        (MINIMAL.replace("[brand]\n", '[brand]\naliasses = ["N"]\n'), "brand.aliasses", "'aliases'"),
        (MINIMAL + "[sourcez.x]\nenabled = true\n", "sourcez", "'sources'"),
        (MINIMAL + "[sources.redit]\nenabled = true\n", "sources.redit", "'reddit'"),
        (MINIMAL + "[models]\nbatchsize = 3\n", "models.batchsize", "'batch_size'"),
        (MINIMAL + "[dashboard]\nPort = 3\n", "dashboard.Port", "'port'"),
    ],
)
def test_unknown_keys_suggest_the_closest_valid_key(text, key, suggestion):
    (error,) = errors_of(text)
    assert error.key == key and error.hint == f"did you mean {suggestion}?"
    assert "expected one of" in str(error)


def test_unknown_key_without_a_close_match_lists_the_valid_ones():
    (error,) = errors_of(MINIMAL + "[models]\nzzz = 1\n")
    assert error.hint is None and "embedding_package" in error.expected


@pytest.mark.parametrize(
    ("table", "key", "variable"),
    [
        ("sources.x", "bearer_token", "X_BEARER_TOKEN"),
        ("sources.x", "api_key", "X_BEARER_TOKEN"),
        ("sources.reddit", "client_secret", "REDDIT_CLIENT_SECRET"),
        ("sources.reddit", "client_id", "REDDIT_CLIENT_ID"),
        ("sources.bluesky", "app_password", "BLUESKY_APP_PASSWORD"),
        ("sources.bluesky", "handle", "BLUESKY_HANDLE"),
        ("sources.mastodon", "access_token", "MASTODON_ACCESS_TOKEN"),
        ("dashboard", "password", "TASTERADAR_DASHBOARD_PASSWORD_HASH"),
        ("brand", "X_BEARER_TOKEN", "X_BEARER_TOKEN"),
        ("auth", "bearer", "X_BEARER_TOKEN"),
    ],
)
def test_secret_looking_keys_are_rejected_naming_the_variable(table, key, variable):
    text = MINIMAL.replace("[brand]", "") + f'[{table}]\n{key} = "s3cr3t-VALUE"\n'
    text = text if table == "brand" else f"[brand]\n{text}"
    errors = errors_of(text)
    secret_errors = [error for error in errors if error.key == f"{table}.{key}"]
    assert len(secret_errors) == 1
    message = str(secret_errors[0])
    assert f"environment variable {variable} " in message and "tasteradar.secrets.toml" in message
    assert "s3cr3t-VALUE" not in str(ConfigErrors(errors))


def test_unplaceable_secret_key_lists_the_variables():
    (error,) = errors_of(MINIMAL.replace("[brand]\n", '[brand]\ntoken = "abc"\n'))
    assert (
        error.key == "brand.token"
        and "X_BEARER_TOKEN" in error.hint
        and "MASTODON_ACCESS_TOKEN" in error.hint
    )


def test_unreadable_bytes_are_reported(tmp_path):
    path = tmp_path / "tasteradar.toml"
    path.write_bytes(b'[brand]\nname = "\xff"\n')
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert caught.value.key == "(file)" and "UTF-8" in str(caught.value)


# ---- derived queries -------------------------------------------------------------------------------------


def test_default_x_queries_one_per_brand():
    config = parse(GOOD)
    assert default_queries(config) == (
        '("Nimbus Mobile" OR Nimbus OR NimbusMobile OR @NimbusMobile OR @NimbusHelp OR #nimbusmobile)'
        " -is:retweet",
        '("Titan Telecom" OR Titan OR @TitanTelecom OR #titan) -is:retweet',
        '("Volt Mobile" OR @VoltMobile) -is:retweet',
    )
    assert config.sources.x.effective_queries(config) == default_queries(config)
    assert XSource(queries=("mine",)).effective_queries(config) == ("mine",)


def test_long_default_queries_are_split_within_the_limit():
    aliases = ", ".join(f'"Nimbus alias {number}"' for number in range(60))
    config = parse(MINIMAL.replace("[brand]\n", f"[brand]\naliases = [{aliases}]\n"))
    queries = default_queries(config)
    assert len(queries) > 1 and all(len(query) <= 512 for query in queries)
    joined = " ".join(queries)
    assert all(f'"Nimbus alias {number}"' in joined for number in range(60))


def test_other_sources_derive_their_terms_from_the_brands():
    config = parse(GOOD)
    terms = ("Nimbus Mobile", "Nimbus", "NimbusMobile", "Titan Telecom", "Titan", "Volt Mobile")
    assert config.sources.bluesky.effective_terms(config) == terms
    assert config.sources.reddit.effective_searches(config) == ("nimbus mobile",)
    assert config.sources.mastodon.effective_hashtags(config) == ("nimbusmobile", "titan")


# ---- starter file and docs -------------------------------------------------------------------------------


def test_starter_loads_without_error(tmp_path):
    path = write_starter(tmp_path / "tasteradar.toml")
    config = load_config(path)
    assert config.brand.name and len(config.competitors) == 2
    assert config.database.path == tmp_path / "tasteradar.db"


def test_starter_refuses_to_overwrite_unless_forced(tmp_path):
    path = tmp_path / "tasteradar.toml"
    path.write_text("# mine\n")
    with pytest.raises(FileExistsError, match="already exists"):
        write_starter(path)
    assert path.read_text() == "# mine\n"
    assert write_starter(path, force=True) == path
    assert "[brand]" in path.read_text()


def test_starter_into_a_folder_writes_tasteradar_toml(tmp_path):
    assert write_starter(tmp_path) == tmp_path / "tasteradar.toml"


def _lookup(data: dict, key: str):
    value = data
    for part in key.split("."):
        value = value[part[:-2]][0] if part.endswith("[]") else value[part]
    return value


def test_starter_documents_every_setting():
    text = starter_text()
    data = tomllib.loads(text)
    for setting in SETTINGS_DOC:
        _lookup(data, setting.key)  # present with a value
        first_words = " ".join(setting.description.split()[:4])
        assert first_words in text.replace("\n# ", " "), setting.key
    sections = re.split(r"\n(?=\[)", text)[1:]  # each starts at a [table] header
    documented = [section for section in sections if "# Default:" in section or "# Required." in section]
    assert len(documented) == len(sections) - 1  # only the second [[competitors]] example is bare
    for section in documented:
        lines = section.splitlines()
        for before, line in zip(lines, lines[1:], strict=False):
            if re.match(r"\w+ = ", line):
                assert before.startswith(("# Default:", "# Required.")), line
    for name in SECRET_VARS:
        assert name in text
        assert f"{name} =" not in text.replace(f'{name} = "..."', "")  # names only, never a value


_DATACLASS_TABLES = {
    DatabaseConfig: ("database",),
    BrandConfig: ("brand", "competitors[]"),
    config_module.XSource: ("sources.x",),
    config_module.RedditSource: ("sources.reddit",),
    config_module.BlueskySource: ("sources.bluesky",),
    config_module.MastodonSource: ("sources.mastodon",),
    ModelsConfig: ("models",),
    DashboardConfig: ("dashboard",),
}


def test_every_dataclass_field_is_a_documented_setting_and_back():
    documented = {setting.key: setting for setting in SETTINGS_DOC}
    expected = set()
    for kind, tables in _DATACLASS_TABLES.items():
        for table in tables:
            for item in dataclasses.fields(kind):
                if item.name == "is_own":  # set by position ([brand] or [[competitors]]), not a key
                    continue
                key = f"{table}.{item.name}"
                expected.add(key)
                assert key in documented, f"{key} is not in SETTINGS_DOC"
                setting = documented[key]
                if item.default is not dataclasses.MISSING and item.name != "enabled":
                    assert setting.default == item.default, key
    assert set(documented) == expected
