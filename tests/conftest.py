"""Fixtures shared across the suite: a small demo world built once per session, a fresh database, sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory):
    """A 3,000-post demo world (database, truth.json, tasteradar.toml) shared read-only by tests."""
    from tasteradar.demo import build_demo

    db_path = tmp_path_factory.mktemp("demo") / "tasteradar.db"
    return build_demo(db_path, seed=11, posts=3_000)


@pytest.fixture
def db(tmp_path: Path):
    """A fresh, migrated database in the test's temporary folder."""
    from store import open_db

    database = open_db(tmp_path / "tasteradar.db")
    yield database
    database.close()


@pytest.fixture
def sleeps() -> list[float]:
    """Collects the seconds a retry policy asked to sleep (inject ``sleep=sleeps.append``)."""
    return []


@pytest.fixture
def fast_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyze with the ``fast`` topic backend (PCA + HDBSCAN): a UMAP fit in a fresh process first spends
    a minute compiling numba, which a test of the wiring around it does not need."""
    monkeypatch.setattr("tasteradar.analyze.TOPIC_BACKEND", "fast")


@pytest.fixture
def hashing_embeddings(monkeypatch: pytest.MonkeyPatch, fast_topics: None) -> None:
    """Analyze with the model-free hashing encoder (and the fast topic backend): for tests of the wiring
    around the NLP stage, where starting two MiniLM workers and embedding every post would cost a minute and
    prove nothing new."""
    from nlp import registry
    from nlp.embeddings import EmbeddingAnnotator, HashingEncoder

    monkeypatch.setitem(
        registry.ANNOTATORS, "embeddings.minilm", lambda ctx: EmbeddingAnnotator(HashingEncoder())
    )
