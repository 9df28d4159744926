"""``tasteradar collect`` and its Python API, with fake sources put in the registry (no network)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import types
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from collectors import registry
from collectors.base import NotConfigured, Page, RunFailed, RunPartial
from store import Post, open_db
from tasteradar import collect
from tasteradar.cmd_collect import collect_command
from tasteradar.config import parse_config
from tasteradar.secrets import Secrets

TOKEN = "x-bearer-SECRET-0123456789abcdef"

CONFIG = """
[database]
path = "tasteradar.db"

[brand]
name = "Nimbus Mobile"
aliases = ["Nimbus"]
hashtags = ["nimbusmobile"]

[[competitors]]
name = "Stratus Tel"

[sources.x]
enabled = true

[sources.bluesky]
enabled = true

[sources.mastodon]
enabled = true
"""


class FakeSource:
    """A source that yields one post per query."""

    name = "fake"
    platform = "fake"
    secrets: tuple[str, ...] = ()
    settings = ()
    seen_settings: dict = {}

    def __init__(self, *, settings, secrets):
        type(self).seen_settings = dict(settings)
        self.secret_values = secrets

    def queries(self):
        return ["q"]

    def fetch(self, query, checkpoint):
        yield Page([{"id": f"{self.name}-1", "text": "nimbus"}], {"n": 1})

    def to_post(self, raw, *, query=None):
        return Post(platform=self.platform, native_id=raw["id"], text=raw["text"],
                    created_at=datetime(2026, 1, 1, tzinfo=UTC), query=query)  # fmt: skip


class OkSource(FakeSource):
    name = "okay"


class PartialSource(FakeSource):
    name = "half"

    def fetch(self, query, checkpoint):
        yield from super().fetch(query, checkpoint)
        raise RunPartial("usage cap reached")


class FailingSource(FakeSource):
    name = "broken"

    def fetch(self, query, checkpoint):
        raise RunFailed(f"HTTP 401 for bearer {self.secret_values['X_BEARER_TOKEN']}")
        yield  # pragma: no cover


class NeedsKeySource(FakeSource):
    name = "needskey"

    def __init__(self, *, settings, secrets):
        raise NotConfigured("set FAKE_TOKEN (environment or tasteradar.secrets.toml)")


@pytest.fixture
def fakes(monkeypatch):
    module = types.ModuleType("fake_sources")
    for cls in (OkSource, PartialSource, FailingSource, NeedsKeySource):
        setattr(module, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, "fake_sources", module)
    monkeypatch.setattr(
        registry, "SOURCES",
        {"okay": "fake_sources:OkSource", "half": "fake_sources:PartialSource",
         "broken": "fake_sources:FailingSource", "needskey": "fake_sources:NeedsKeySource"},
    )  # fmt: skip
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    return module


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "tasteradar.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def config(config_file):
    return parse_config(CONFIG, file=str(config_file))


def invoke(config_file, *args):
    return CliRunner().invoke(collect_command, ["--config", str(config_file), *args])


# ---- settings from the configuration ---------------------------------------------------------------------


def test_settings_come_from_the_config_tables_and_the_brands(config):
    assert collect.source_settings("bluesky", config) == {
        "terms": ["Nimbus Mobile", "Nimbus", "Stratus Tel"], "max_seconds": 60.0, "max_events": 200_000,
    }  # fmt: skip
    assert collect.source_settings("mastodon", config) == {
        "instances": ["mastodon.social"], "hashtags": ["nimbusmobile"], "max_pages": 25,
    }  # fmt: skip
    x = collect.source_settings("x", config)
    assert x["max_results"] == 100 and len(x["queries"]) == 2 and "Nimbus" in x["queries"][0]
    assert x["max_pages"] == 20 and collect.source_settings("reddit", config)["limit"] == 1000


def test_every_setting_collect_passes_is_declared_by_its_source(config):
    from collectors.registry import source_class

    for name in registry.SOURCES:
        declared = {setting.key for setting in source_class(name).settings}
        assert set(collect.source_settings(name, config)) <= declared, name
    assert collect.selected_sources(config) == ["x", "bluesky", "mastodon"]


def test_the_registry_lists_the_four_sources_and_ours_build():
    assert list(registry.SOURCES) == ["x", "reddit", "bluesky", "mastodon"]
    assert registry.source_class("bluesky").name == "bluesky"
    assert registry.source_class("mastodon").name == "mastodon"


# ---- one run ---------------------------------------------------------------------------------------------


def test_a_source_without_credentials_logs_one_line_and_the_others_run(fakes, config, tmp_path, caplog):
    db = open_db(tmp_path / "t.db")
    with caplog.at_level(logging.INFO, logger="tasteradar"):
        summary = collect.collect_once(config, Secrets({}), names=["needskey", "okay"], db=db)
    lines = [r.getMessage() for r in caplog.records if "needskey" in r.getMessage()]
    assert lines == [
        "needskey: not configured, skipped: set FAKE_TOKEN (environment or tasteradar.secrets.toml)"
    ]
    assert [(r.name, r.status) for r in summary.sources] == [("needskey", "skipped"), ("okay", "ok")]
    assert (summary.status, summary.exit_code) == ("ok", 0)
    assert db.conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("names", "status", "code"),
    [
        (["okay"], "ok", 0),
        (["okay", "half"], "partial", 3),
        (["half"], "partial", 3),
        (["broken"], "failed", 1),
        (["okay", "broken"], "partial", 3),
        (["needskey"], "failed", 1),
    ],
)
def test_exit_codes_tell_ok_partial_and_failed_apart(fakes, config_file, tmp_path, names, status, code):
    args = [arg for name in names for arg in ("--source", name)]
    result = invoke(config_file, "--db", str(tmp_path / "t.db"), *args)
    assert result.exit_code == code, result.output
    assert f"collect: {status} in " in result.output and f"exit {code})" in result.output


def test_summary_has_a_line_per_query(fakes, config_file, tmp_path):
    result = invoke(config_file, "--db", str(tmp_path / "t.db"), "--source", "okay", "--source", "needskey")
    assert "okay 'q': ok, 1 fetched, 1 new, 0 duplicates, 0 quarantined" in result.output
    assert "needskey: skipped (not configured: set FAKE_TOKEN" in result.output


def test_secrets_never_reach_the_output_logs_or_database(fakes, config_file, tmp_path, caplog):
    db_path = tmp_path / "t.db"
    with caplog.at_level(logging.DEBUG):
        result = invoke(config_file, "--db", str(db_path), "-vv", "--source", "broken")
    assert result.exit_code == 1
    assert "HTTP 401 for bearer ***" in result.output
    assert TOKEN not in result.output and TOKEN not in caplog.text
    db = open_db(db_path)
    errors = [row[0] for row in db.conn.execute("SELECT error FROM collection_runs")]
    assert errors == ["HTTP 401 for bearer ***"]


def test_enabled_sources_run_when_none_is_named(fakes, config_file, tmp_path, monkeypatch):
    fakes_by_name = {"x": "NeedsKeySource", "bluesky": "OkSource", "mastodon": "OkSource"}
    monkeypatch.setattr(
        registry, "SOURCES", {name: f"fake_sources:{cls}" for name, cls in fakes_by_name.items()}
    )
    result = invoke(config_file, "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.output
    assert "x: skipped" in result.output and "2 sources ran, 1 skipped" in result.output
    assert OkSource.seen_settings == {
        "instances": ["mastodon.social"],
        "hashtags": ["nimbusmobile"],
        "max_pages": 25,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "myspace"], "unknown source myspace"),
        (["--every", "soon"], "expected a number and a unit"),
        (["--every", "1s"], "shortest interval"),
        (["--prune-deleted", "--every", "1h"], "schedule it on its own"),
        (["--prune-since", "30d"], "only with --prune-deleted"),
        (["--prune-deleted", "--prune-since", "soon"], "expected a positive number"),
        (["--prune-deleted", "--source", "okay"], "okay cannot check deletions"),
    ],
)
def test_bad_input_exits_2(fakes, config_file, tmp_path, args, message):
    result = invoke(config_file, "--db", str(tmp_path / "t.db"), *args)
    assert result.exit_code == 2 and message in result.output


def test_nothing_enabled_exits_2(tmp_path):
    path = tmp_path / "tasteradar.toml"
    path.write_text('[brand]\nname = "Nimbus"\n', encoding="utf-8")
    result = invoke(path, "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 2 and "no source is enabled" in result.output


def test_help_documents_the_exit_codes():
    result = CliRunner().invoke(collect_command, ["--help"])
    assert result.exit_code == 0
    assert "--every" in result.output and "--prune-deleted" in result.output and "3 partial" in result.output


# ---- schedule and lock -----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def summary(status="ok"):
    return collect.CollectSummary([collect.SourceResult("okay", status)])


def test_schedule_runs_n_times_on_its_slots_and_stops(tmp_path):
    fake = FakeTime()
    started = []

    def run_once():
        started.append(fake.now)
        fake.now += 5  # each run takes 5 s
        return summary()

    done = collect.run_schedule(run_once, 60, clock=fake.clock, sleep=fake.sleep, max_runs=3)
    assert len(done) == 3
    assert started == [1000.0, 1060.0, 1120.0]


def test_schedule_stops_when_asked_and_never_overlaps_a_long_run():
    fake = FakeTime()
    started = []

    def run_once():
        started.append(fake.now)
        fake.now += 150 if len(started) == 1 else 1  # the first run overruns two slots
        return summary()

    collect.run_schedule(
        run_once, 60, clock=fake.clock, sleep=fake.sleep, should_stop=lambda: len(started) >= 3
    )
    assert started == [1000.0, 1180.0, 1240.0]


def test_schedule_sleep_is_cut_short_by_a_stop_signal():
    with collect.StopSignal() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop()
        collect.run_schedule(lambda: summary(), 3600, should_stop=stop, sleep=stop.sleep)  # returns at once
    assert signal.getsignal(signal.SIGTERM) is not stop._handle


def test_cli_every_runs_the_schedule(fakes, config_file, tmp_path, monkeypatch):
    real = collect.run_schedule
    fake = FakeTime()

    def bounded(run_once, every, **kwargs):
        assert every == 15 * 60
        kwargs.update(clock=fake.clock, sleep=fake.sleep, max_runs=2)
        return real(run_once, every, **kwargs)

    monkeypatch.setattr(collect, "run_schedule", bounded)
    result = invoke(config_file, "--db", str(tmp_path / "t.db"), "--source", "okay", "--every", "15m")
    assert result.exit_code == 0, result.output
    assert result.output.count("okay 'q': ok") == 2 and "collect: stopped" in result.output


def test_lock_keeps_a_second_collector_off_the_database(fakes, config_file, tmp_path):
    db_path = tmp_path / "t.db"
    with collect.CollectLock(db_path):
        with pytest.raises(collect.CollectorBusy, match=f"pid {os.getpid()}"), collect.CollectLock(db_path):
            pass  # pragma: no cover
        result = invoke(config_file, "--db", str(db_path), "--source", "okay")
        assert result.exit_code == 4 and "another `tasteradar collect`" in result.output
    result = invoke(config_file, "--db", str(db_path), "--source", "okay")
    assert result.exit_code == 0, result.output


def test_parse_interval():
    assert [collect.parse_interval(t) for t in ("15m", "90s", "1h", "1d", "2.5 min")] == [
        900,
        90,
        3600,
        86400,
        150,
    ]


# ---- pruning deleted posts and edits ---------------------------------------------------------------------


class PruneSource(FakeSource):
    """Stores posts of platform ``prunable``; reports the ids starting with ``gone`` deleted."""

    name = "pruner"
    platform = "prunable"
    asked: list[list[str]] = []

    def deleted(self, native_ids):
        type(self).asked.append(list(native_ids))
        return [native_id for native_id in native_ids if native_id.startswith("gone")]


class PrunePartialSource(PruneSource):
    name = "prunehalf"

    def deleted(self, native_ids):
        if len(type(self).asked) >= 1:
            raise RunPartial("usage cap reached")
        return super().deleted(native_ids)


class PruneFailingSource(PruneSource):
    name = "prunebroken"

    def deleted(self, native_ids):
        raise RunFailed(f"HTTP 401 for bearer {self.secret_values['X_BEARER_TOKEN']}")


@pytest.fixture
def prune_fakes(fakes, monkeypatch):
    for cls in (PruneSource, PrunePartialSource, PruneFailingSource):
        setattr(fakes, cls.__name__, cls)
    monkeypatch.setattr(PruneSource, "asked", [])
    sources = dict(registry.SOURCES)
    sources.update(
        pruner="fake_sources:PruneSource", prunehalf="fake_sources:PrunePartialSource",
        prunebroken="fake_sources:PruneFailingSource",
    )  # fmt: skip
    monkeypatch.setattr(registry, "SOURCES", sources)
    return fakes


def store_prunable(db_path, native_ids):
    db = open_db(db_path)
    posts = [
        Post(platform="prunable", native_id=native_id, text=f"text of {native_id}",
             created_at=datetime(2026, 1, 1, tzinfo=UTC))
        for native_id in native_ids
    ]  # fmt: skip
    posts.append(Post(platform="other", native_id="gone-elsewhere", text="another platform",
                      created_at=datetime(2026, 1, 1, tzinfo=UTC)))  # fmt: skip
    from store import upsert_posts

    upsert_posts(db, posts)
    db.close()


def stored_ids(db_path):
    db = open_db(db_path)
    try:
        return {row[0] for row in db.conn.execute("SELECT id FROM posts")}
    finally:
        db.close()


def test_prune_deleted_removes_what_the_platform_reports_gone(prune_fakes, config_file, tmp_path):
    db_path = tmp_path / "t.db"
    keep = [f"keep{n:03d}" for n in range(150)]
    store_prunable(db_path, [*keep, "gone1", "gone2"])
    result = invoke(config_file, "--db", str(db_path), "--prune-deleted", "--source", "pruner")
    assert result.exit_code == 0, result.output
    assert "pruner prune-deleted: ok, 152 checked, 2 deleted" in result.output
    assert "prune-deleted: ok in " in result.output and "exit 0)" in result.output
    assert stored_ids(db_path) == {f"prunable:{n}" for n in keep} | {"other:gone-elsewhere"}
    assert [len(batch) for batch in PruneSource.asked] == [100, 52]  # chunks of DELETED_BATCH
    db = open_db(db_path)
    run = db.conn.execute(
        "SELECT source, query, status, fetched, new, deleted FROM collection_runs"
    ).fetchall()
    assert run == [("pruner", "prune-deleted", "ok", 152, 0, 2)]
    reasons = db.conn.execute("SELECT post_id, reason FROM deletions ORDER BY post_id").fetchall()
    assert reasons == [("prunable:gone1", "deleted on prunable"), ("prunable:gone2", "deleted on prunable")]
    db.close()


def test_prune_since_checks_only_recent_posts(prune_fakes, config_file, tmp_path):
    db_path = tmp_path / "t.db"
    store_prunable(db_path, ["gone-old"])  # created 2026-01-01
    db = open_db(db_path)
    from store import upsert_posts

    upsert_posts(db, [Post(platform="prunable", native_id="gone-new", text="new",
                           created_at=datetime.now(UTC))])  # fmt: skip
    db.close()
    result = invoke(
        config_file, "--db", str(db_path), "--prune-deleted", "--source", "pruner", "--prune-since", "2d"
    )
    assert result.exit_code == 0, result.output
    assert "1 checked, 1 deleted" in result.output
    assert "prunable:gone-old" in stored_ids(db_path) and "prunable:gone-new" not in stored_ids(db_path)


@pytest.mark.parametrize(
    ("names", "status", "code"),
    [
        (["prunehalf"], "partial", 3),
        (["prunebroken"], "failed", 1),
        (["pruner", "prunebroken"], "partial", 3),
    ],
)
def test_prune_exit_codes(prune_fakes, config_file, tmp_path, names, status, code):
    db_path = tmp_path / "t.db"
    store_prunable(db_path, [*(f"gone{n:03d}" for n in range(120)), "keep1"])
    args = [arg for name in names for arg in ("--source", name)]
    result = invoke(config_file, "--db", str(db_path), "--prune-deleted", *args)
    assert result.exit_code == code, result.output
    assert f"prune-deleted: {status} in " in result.output
    assert TOKEN not in result.output
    if names == ["prunehalf"]:  # the first batch was removed before the cap stopped the run
        assert (
            "prunehalf prune-deleted: partial, 100 checked, 100 deleted (usage cap reached)" in result.output
        )


def test_prune_skips_enabled_sources_that_cannot_check(prune_fakes, config_file, tmp_path, monkeypatch):
    monkeypatch.setattr(
        registry, "SOURCES", {"x": "fake_sources:PruneSource", "bluesky": "fake_sources:OkSource"}
    )
    db_path = tmp_path / "t.db"
    store_prunable(db_path, ["gone1"])
    result = invoke(config_file, "--db", str(db_path), "--prune-deleted")
    assert result.exit_code == 0, result.output
    assert "bluesky: skipped (cannot check deletions)" in result.output
    assert "1 checked, 1 deleted" in result.output


def test_prune_refuses_a_schema_whose_derived_table_does_not_cascade(prune_fakes, config_file, tmp_path):
    db_path = tmp_path / "t.db"
    store_prunable(db_path, ["gone1"])
    db = open_db(db_path)
    db.conn.execute("CREATE TABLE sloppy (post_id TEXT, value TEXT)")
    db.close()
    result = invoke(config_file, "--db", str(db_path), "--prune-deleted", "--source", "pruner")
    assert result.exit_code == 1 and "sloppy.post_id has no REFERENCES posts" in result.output
    assert PruneSource.asked == [] and "prunable:gone1" in stored_ids(db_path)


class EditingSource(FakeSource):
    """Returns the same post on every run, its text edited from the second run on."""

    name = "editor"
    runs = 0

    def fetch(self, query, checkpoint):
        type(self).runs += 1
        text = "first take on nimbus" if type(self).runs == 1 else "edited take on nimbus roaming"
        yield Page([{"id": "e1", "text": text}], {"n": type(self).runs})


def test_a_refetched_edited_post_updates_in_place(fakes, config, tmp_path, monkeypatch):
    fakes.EditingSource = EditingSource
    monkeypatch.setattr(registry, "SOURCES", {"editor": "fake_sources:EditingSource"})
    monkeypatch.setattr(EditingSource, "runs", 0)
    db = open_db(tmp_path / "t.db")
    first = collect.collect_once(config, Secrets({}), names=["editor"], db=db)
    second = collect.collect_once(config, Secrets({}), names=["editor"], db=db)
    assert (first.sources[0].runs[0].new, second.sources[0].runs[0].duplicates) == (1, 1)
    rows = db.conn.execute("SELECT id, text FROM posts").fetchall()
    assert rows == [("fake:e1", "edited take on nimbus roaming")]
    found = db.conn.execute(
        "SELECT posts.id FROM posts_fts JOIN posts ON posts.rowid = posts_fts.rowid WHERE posts_fts MATCH ?",
        ["roaming"],
    ).fetchall()
    assert found == [("fake:e1",)]
    assert db.conn.execute("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'first'").fetchone()[0] == 0
