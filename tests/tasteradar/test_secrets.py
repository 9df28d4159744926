"""Secrets: environment beats the secrets file, values never show, redaction, clear missing-secret errors."""

from __future__ import annotations

import logging
import os

import pytest

from tasteradar.config import ConfigError, ConfigErrors
from tasteradar.secrets import (
    SECRET_VARS,
    MissingSecret,
    Secrets,
    SecretValue,
    load_secrets,
    redact,
)

TOKEN = "AAAA-bearer-token-value"
SECRET = "reddit+secret/value=="


def write_secrets(folder, text: str, mode: int = 0o600):
    path = folder / "tasteradar.secrets.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_file_is_parsed_and_the_environment_wins(tmp_path):
    path = write_secrets(tmp_path, f'X_BEARER_TOKEN = "from-file"\nREDDIT_CLIENT_SECRET = "{SECRET}"\n')
    secrets = load_secrets(tmp_path, env={"X_BEARER_TOKEN": TOKEN, "UNRELATED": "x"})
    assert secrets["X_BEARER_TOKEN"] == TOKEN and secrets.origin("X_BEARER_TOKEN") == "environment"
    assert secrets.get("REDDIT_CLIENT_SECRET") == SECRET
    assert secrets.origin("REDDIT_CLIENT_SECRET") == str(path)
    assert list(secrets) == ["X_BEARER_TOKEN", "REDDIT_CLIENT_SECRET"] and len(secrets) == 2
    assert "BLUESKY_HANDLE" not in secrets and secrets.get("BLUESKY_HANDLE") is None


def test_empty_variable_counts_as_unset(tmp_path):
    write_secrets(tmp_path, 'X_BEARER_TOKEN = "from-file"\n')
    assert load_secrets(tmp_path, env={"X_BEARER_TOKEN": ""})["X_BEARER_TOKEN"] == "from-file"


def test_without_a_config_folder_only_the_environment_is_read(tmp_path, monkeypatch):
    write_secrets(tmp_path, 'X_BEARER_TOKEN = "from-file"\n')
    monkeypatch.chdir(tmp_path)
    secrets = load_secrets(None, env={})
    assert len(secrets) == 0 and secrets.file is None
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "env-token")
    assert load_secrets(None)["MASTODON_ACCESS_TOKEN"] == "env-token"  # os.environ by default


def test_missing_file_is_fine(tmp_path):
    secrets = load_secrets(tmp_path, env={"BLUESKY_HANDLE": "team.bsky.social"})
    assert secrets["BLUESKY_HANDLE"] == "team.bsky.social"


def test_repr_str_format_and_logging_never_show_values(tmp_path, caplog):
    secrets = load_secrets(tmp_path, env={"X_BEARER_TOKEN": TOKEN, "REDDIT_CLIENT_SECRET": SECRET})
    shown = [repr(secrets), str(secrets), f"{secrets}", f"{secrets!r}", repr(vars(secrets))]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("tasteradar.test").info("secrets: %s %r", secrets, secrets)
    shown.append(caplog.text)
    for text in shown:
        assert TOKEN not in text and SECRET not in text
    assert repr(secrets) == "Secrets(X_BEARER_TOKEN=***, REDDIT_CLIENT_SECRET=***)"


def test_secret_value_hides_itself():
    value = SecretValue(TOKEN)
    assert str(value) == f"{value}" == f"{value:>30}" == "***"
    assert TOKEN not in repr(value) and value.reveal() == TOKEN
    assert value == SecretValue(TOKEN) and value != SecretValue("other")


def test_redact_replaces_every_value_also_url_encoded():
    secrets = Secrets({"X_BEARER_TOKEN": TOKEN, "REDDIT_CLIENT_SECRET": SECRET, "BLUESKY_HANDLE": "abc"})
    text = f"401 for Bearer {TOKEN} at https://x/?secret=reddit%2Bsecret%2Fvalue%3D%3D and {SECRET} by abc"
    cleaned = redact(text, secrets)
    assert cleaned == "401 for Bearer *** at https://x/?secret=*** and *** by abc"  # 3 characters: kept
    assert secrets.redact(text) == cleaned  # the method collectors use without importing this module


def test_require_names_the_variable_and_where_to_put_it(tmp_path):
    secrets = load_secrets(tmp_path, env={})
    with pytest.raises(MissingSecret) as caught:
        secrets.require("X_BEARER_TOKEN", "collecting from X")
    message = str(caught.value)
    assert "X_BEARER_TOKEN is not set" in message and "collecting from X" in message
    assert "environment variable X_BEARER_TOKEN" in message
    assert str(tmp_path / "tasteradar.secrets.toml") in message


def test_require_returns_the_value_and_takes_the_callers_error_type():
    class NotConfigured(Exception):
        pass

    secrets = Secrets({"X_BEARER_TOKEN": TOKEN})
    assert secrets.require("X_BEARER_TOKEN", "collecting from X") == TOKEN
    with pytest.raises(
        NotConfigured, match="REDDIT_CLIENT_ID is not set; it is needed for collecting from Reddit"
    ):
        secrets.require("REDDIT_CLIENT_ID", error=NotConfigured)


def test_unknown_secret_name_in_code_is_a_clear_error():
    with pytest.raises(ValueError, match="did you mean X_BEARER_TOKEN"):
        Secrets().get("X_BEARER_TOKN")
    with pytest.raises(KeyError):
        Secrets()["X_BEARER_TOKEN"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_group_or_world_readable_file_warns_without_the_value(tmp_path, caplog):
    path = write_secrets(tmp_path, f'X_BEARER_TOKEN = "{TOKEN}"\n', mode=0o644)
    with caplog.at_level(logging.WARNING, logger="tasteradar.secrets"):
        load_secrets(tmp_path, env={})
    assert str(path) in caplog.text and "chmod 600" in caplog.text and TOKEN not in caplog.text
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="tasteradar.secrets"):
        load_secrets(tmp_path, env={})
    assert caplog.text == ""


def test_unknown_and_non_string_keys_in_the_file_are_errors(tmp_path):
    write_secrets(tmp_path, 'X_BEARER_TOKN = "abcdef"\nREDDIT_CLIENT_ID = 123456789\nexport = "zz"\n')
    with pytest.raises(ConfigErrors) as caught:
        load_secrets(tmp_path, env={})
    errors = {error.key: error for error in caught.value.errors}
    assert set(errors) == {"X_BEARER_TOKN", "REDDIT_CLIENT_ID", "export"}
    assert errors["X_BEARER_TOKN"].hint == "did you mean 'X_BEARER_TOKEN'?"
    assert errors["REDDIT_CLIENT_ID"].found == "a int (value not shown)"
    assert "123456789" not in str(caught.value) and "abcdef" not in str(caught.value)
    assert all(error.file == str(tmp_path / "tasteradar.secrets.toml") for error in errors.values())


def test_syntax_error_in_the_file_names_line_and_column(tmp_path):
    write_secrets(tmp_path, 'X_BEARER_TOKEN = "abc\n')
    with pytest.raises(ConfigError) as caught:
        load_secrets(tmp_path, env={})
    assert caught.value.key.startswith("line 1") and "abc" not in str(caught.value)


def test_every_documented_secret_is_loaded_from_the_environment():
    env = {name: f"value-of-{name}" for name in SECRET_VARS}
    secrets = load_secrets(None, env=env)
    assert dict((name, secrets[name]) for name in secrets) == env
