"""One contract test case per source: what the job and the docs rely on, checked the same way for each.

``CASES`` covers every class in ``collectors.registry`` (a test checks it); a case names the class, settings
that let it run, secrets that satisfy it and the recorded payloads under ``tests/fixtures/<platform>/``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses

from collectors.base import NotConfigured, Setting, can_check_deleted
from collectors.bluesky import BlueskySource
from collectors.mastodon import MastodonSource
from collectors.reddit import RedditSource
from collectors.registry import SOURCES, source_class
from collectors.x import XSource
from store import Post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass(frozen=True)
class Case:
    cls: type
    settings: dict[str, Any]
    secrets: dict[str, str]
    payloads: tuple[str, ...]
    query: str = "q"
    extra: dict[str, Any] = field(default_factory=dict)
    #: True for a source that also runs without its secrets (public feeds): it must not raise NotConfigured.
    secrets_optional: bool = False
    #: Whether the source implements the optional ``deleted`` (for ``--prune-deleted``): decided per source.
    checks_deleted: bool = True


CASES = [
    Case(
        XSource,
        {"queries": ["#nimbusmobile"]},
        {"X_BEARER_TOKEN": "AAAA-contract-test-token"},
        ("long_post_note_tweet", "reply", "retweet", "undetermined_language"),
    ),
    Case(
        RedditSource,
        {"subreddits": ["NimbusMobile"], "searches": ["nimbus mobile"]},
        {
            "REDDIT_CLIENT_ID": "contract-id",
            "REDDIT_CLIENT_SECRET": "contract-secret",
            "REDDIT_USER_AGENT": "linux:tasteradar:0.1 (by u/tests)",
        },
        ("submission", "comment", "link_submission_deleted_author"),
    ),
    Case(
        BlueskySource,
        {"terms": ["nimbus"], "mode": "search"},
        {"BLUESKY_HANDLE": "tests.bsky.social", "BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop"},
        ("post_view_reply",),
    ),
    Case(
        MastodonSource,
        {"instances": ["mastodon.social"], "hashtags": ["nimbusmobile"]},
        {"MASTODON_ACCESS_TOKEN": "contract-mastodon-token-0123456789"},
        ("status", "boost", "script"),
        secrets_optional=True,
        checks_deleted=False,  # per-server ids and one request per status: not built (see the report)
    ),
]


def test_every_registered_source_has_a_case():
    assert {source_class(name) for name in SOURCES} == {case.cls for case in CASES}


@pytest.fixture(params=CASES, ids=lambda case: case.cls.__name__)
def case(request) -> Case:
    return request.param


def build(case: Case):
    with responses.RequestsMock():  # building a source makes no request (an unstubbed one would raise)
        return case.cls(settings=case.settings, secrets=case.secrets)


def test_class_attributes(case):
    cls = case.cls
    assert isinstance(cls.name, str) and cls.name.isidentifier()
    assert isinstance(cls.platform, str) and cls.platform
    assert isinstance(cls.secrets, tuple) and all(
        isinstance(name, str) and name.isupper() for name in cls.secrets
    )
    assert set(case.secrets) == set(cls.secrets)
    for method in ("queries", "fetch", "to_post"):
        assert callable(getattr(cls, method)) and inspect.getdoc(getattr(cls, method))
    assert inspect.getdoc(cls)


def test_settings_are_declared(case):
    settings = case.cls.settings
    assert isinstance(settings, tuple) and settings
    keys = [setting.key for setting in settings]
    assert len(keys) == len(set(keys))
    for setting in settings:
        assert isinstance(setting, Setting) and setting.key.isidentifier() and setting.description
    assert set(case.settings) <= set(keys)  # every setting the case uses is declared
    doc = inspect.getdoc(case.cls) or ""
    assert [key for key in keys if f"``{key}``" not in doc] == []  # the class docstring describes each one


def test_builds_and_lists_queries_without_network(case):
    source = build(case)
    queries = source.queries()
    assert queries and all(isinstance(query, str) and query for query in queries)


def test_not_configured_without_secrets(case):
    if case.secrets_optional:
        with responses.RequestsMock():
            source = case.cls(settings=case.settings, secrets={})
        assert source.queries()
        return
    with pytest.raises(NotConfigured) as error:
        case.cls(settings=case.settings, secrets={})
    assert all(name in str(error.value) for name in case.cls.secrets)


def test_secrets_stay_out_of_repr(case):
    text = repr(build(case))
    assert all(
        value not in text for value in case.secrets.values() if len(value) > 12 and "tasteradar" not in value
    )


def test_to_post_maps_every_recorded_payload(case):
    source = build(case)
    for name in case.payloads:
        raw = json.loads((FIXTURES / case.cls.platform / f"{name}.json").read_text(encoding="utf-8"))
        post = source.to_post(raw, query=case.query)
        assert isinstance(post, Post)
        assert post.platform == case.cls.platform and post.id == f"{case.cls.platform}:{post.native_id}"
        assert post.raw == raw and post.query == case.query and post.text


def test_to_post_refuses_garbage_with_value_error(case):
    with pytest.raises(ValueError):
        build(case).to_post({"nothing": "here"})


def test_deleted_is_declared_documented_and_safe_on_ids_it_cannot_check(case):
    assert can_check_deleted(case.cls) == case.checks_deleted
    if not case.checks_deleted:
        return
    assert inspect.getdoc(case.cls.deleted)
    source = build(case)
    with responses.RequestsMock():  # no request for nothing, nor for ids that are not this platform's
        assert source.deleted([]) == []
        assert source.deleted(["not an id of any platform", ""]) == []
