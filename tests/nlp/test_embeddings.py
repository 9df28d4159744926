"""Post embeddings: text preparation, order, storage with a fake encoder; the real model once, in a pool."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from nlp import embeddings
from nlp.annotate import run_annotators
from nlp.embeddings import DIM, MODEL, EmbeddingAnnotator, HashingEncoder, prepare_text
from nlp.registry import AnnotatorContext
from nlp.vectors import load_embeddings, unpack
from store import Post, upsert_posts

REPO = Path(__file__).resolve().parents[2]
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeEncoder(HashingEncoder):
    """The hashing encoder, remembering its calls and closes."""

    def __init__(self, identity: str = "fake-1") -> None:
        super().__init__(identity)
        self.calls: list[list[str]] = []
        self.closed = 0

    def encode(self, texts):
        self.calls.append(list(texts))
        return super().encode(texts)

    def close(self):
        self.closed += 1


# --- text preparation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("@united lost my bag https://t.co/AbC123xyz again", "@united lost my bag URL again"),
        ("see www.example.com/x?y=1 and HTTP://T.CO/Q", "see URL and URL"),
        ("AT&amp;T vs &lt;3 #fail", "AT&T vs <3 #fail"),
        ("  not   great\u200b, not terrible  ", "not great, not terrible"),
        ("\U0001f621\U0001f621 \u2708\ufe0f", "\U0001f621\U0001f621 \u2708\ufe0f"),
        ("vuelo cancelado otra vez, qué desastre", "vuelo cancelado otra vez, qué desastre"),
        ("", ""),
    ],
)  # fmt: skip
def test_prepare_text_normalises_and_replaces_urls(raw, prepared):
    assert prepare_text(raw) == prepared


# --- the annotator with a fake encoder -----------------------------------------------------------------


def test_rows_follow_batch_order_and_encoder_sees_texts_sorted_by_length():
    encoder = FakeEncoder()
    annotator = EmbeddingAnnotator(encoder)
    batch = [
        ("x:1", "a much longer post about a delayed flight and a lost bag", "en"),
        ("x:2", "short", "en"),
        ("x:3", "\U0001f621", None),  # emoji only
        ("x:4", "vuelo cancelado otra vez", "es"),  # non-English still gets a vector
        ("x:5", "", "und"),
    ]
    rows = annotator.annotate(batch)
    assert [row[0] for row in rows] == ["x:1", "x:2", "x:3", "x:4", "x:5"]
    (seen,) = encoder.calls
    assert [len(text) for text in seen] == sorted(len(text) for text in seen)
    for (_, text, _), (_, model, dim, blob) in zip(batch, rows, strict=True):
        assert (model, dim) == (MODEL, DIM)
        expected = encoder.encode([prepare_text(text)])[0]
        assert np.allclose(unpack(blob, DIM), expected)
        assert abs(np.linalg.norm(unpack(blob, DIM)) - 1.0) < 1e-5


def test_wrong_encoder_output_is_an_error_not_a_silent_misalignment():
    class Short(FakeEncoder):
        def encode(self, texts):
            return super().encode(texts)[:-1]

    with pytest.raises(RuntimeError, match="shape"):
        EmbeddingAnnotator(Short()).annotate([("x:1", "one", "en"), ("x:2", "two", "en")])


def test_fingerprint_follows_the_model_identity():
    assert (
        EmbeddingAnnotator(FakeEncoder("a")).fingerprint == EmbeddingAnnotator(FakeEncoder("a")).fingerprint
    )
    assert (
        EmbeddingAnnotator(FakeEncoder("a")).fingerprint != EmbeddingAnnotator(FakeEncoder("b")).fingerprint
    )


def test_stored_once_per_post_and_a_second_run_does_nothing(db):
    texts = ["my flight got cancelled", "great crew, thank you", "vuelo cancelado", "\U0001f44d"]
    upsert_posts(db, [Post("x", str(i), text, WHEN, lang="en") for i, text in enumerate(texts)])
    encoder = FakeEncoder()
    with EmbeddingAnnotator(encoder) as annotator:
        assert run_annotators(db, [annotator], batch_size=3) == {"embeddings.minilm.v1": 4}
        assert run_annotators(db, [annotator]) == {"embeddings.minilm.v1": 0}
    assert encoder.closed == 1
    assert [len(call) for call in encoder.calls] == [3, 1]
    ids, matrix = load_embeddings(db, ["x:0", "x:1", "x:2", "x:3", "x:9"])
    assert ids == ["x:0", "x:1", "x:2", "x:3"] and matrix.shape == (4, DIM)
    stored = db.conn.execute("SELECT DISTINCT model, dim, annotator FROM post_embeddings").fetchall()
    assert stored == [(MODEL, DIM, "embeddings.minilm.v1")]
    # A different model file (new identity) re-embeds every post, with no version bump.
    assert run_annotators(db, [EmbeddingAnnotator(FakeEncoder("fake-2"))]) == {"embeddings.minilm.v1": 4}
    assert db.conn.execute("SELECT count(*) FROM post_embeddings").fetchone()[0] == 4


def test_model_identity_changes_with_config_or_weights(tmp_path):
    source = embeddings.model_path()
    copy = tmp_path / "model"
    (copy / "1_Pooling").mkdir(parents=True)
    for name in ("config.json", "modules.json", "tokenizer_config.json", "1_Pooling/config.json"):
        shutil.copy(source / name, copy / name)
    (copy / "model.safetensors").write_bytes(b"\0" * 3_000_000)
    first = embeddings.model_identity(str(copy))
    assert embeddings.model_identity(str(copy)) == first
    (copy / "model.safetensors").write_bytes(b"\0" * 2_999_999 + b"\1")
    embeddings.model_identity.cache_clear()
    second = embeddings.model_identity(str(copy))
    (copy / "config.json").write_text((source / "config.json").read_text().replace("384", "385"))
    embeddings.model_identity.cache_clear()
    assert len({first, second, embeddings.model_identity(str(copy))}) == 3
    embeddings.model_identity.cache_clear()
    assert embeddings.model_identity(str(source)) == embeddings.LocalEncoder().identity


def test_factory_picks_the_pool_by_worker_count_and_loads_nothing(tmp_path):
    one = embeddings.from_context(AnnotatorContext(brands=(), workers=1))
    two = embeddings.from_context(AnnotatorContext(brands=(), workers=2, model_dir=tmp_path), "onnx-fp32")
    assert isinstance(one.encoder, embeddings.LocalEncoder) and one.encoder._model is None
    assert one.encoder.onnx is None  # no model folder: torch
    assert isinstance(two.encoder, embeddings.PoolEncoder) and two.encoder._executor is None
    assert two.encoder.onnx == str(embeddings.onnx_file(tmp_path, "fp32"))
    default = embeddings.from_context(AnnotatorContext(brands=(), workers=2, model_dir=tmp_path))
    assert default.encoder.onnx is None  # the default backend is torch
    assert one.fingerprint == two.fingerprint  # same vectors either way
    two.close()  # closing a pool that never started is fine
    assert not (tmp_path / "embeddings").exists()


def test_onnx_backends_are_named_apart_and_need_a_model_folder(tmp_path):
    torch_pool = embeddings.build_encoder(2, "torch", tmp_path)
    fp32 = embeddings.build_encoder(1, "onnx-fp32", tmp_path)
    int8 = embeddings.build_encoder(2, "onnx-int8", tmp_path)
    assert isinstance(int8, embeddings.PoolEncoder) and isinstance(fp32, embeddings.LocalEncoder)
    assert fp32.onnx.endswith("-fp32.onnx") and Path(fp32.onnx).parent == tmp_path / "embeddings"
    # fp32 ONNX computes torch's vectors: same identity, no re-embedding on a switch; int8 differs.
    assert torch_pool.identity == fp32.identity != int8.identity
    assert (torch_pool.label, fp32.label, int8.label) == (MODEL, MODEL, MODEL + "#onnx-int8")
    assert embeddings.build_encoder(2, "onnx-int8", None).onnx is None  # no model folder: torch
    assert not (tmp_path / "embeddings").exists()  # nothing exported before the first vector
    with pytest.raises(ValueError, match="backend"):
        embeddings.build_encoder(2, "gpu")


@pytest.mark.skipif(not importlib.util.find_spec("onnxruntime"), reason="onnxruntime not installed")
def test_a_worker_that_cannot_load_its_model_is_an_error_and_leaves_no_process(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(embeddings.model_path() / "tokenizer.json", folder / "tokenizer.json")
    (folder / "model.safetensors").write_bytes(b"not weights")
    broken = embeddings.onnx_file(tmp_path, "fp32", str(folder))
    broken.parent.mkdir()
    broken.write_bytes(b"not an onnx graph")
    encoder = embeddings.PoolEncoder(folder, workers=1, onnx=broken)
    with pytest.raises(RuntimeError, match="failed to load the model"):
        encoder.encode(["hello"])
    assert encoder.pids == [] and multiprocessing.active_children() == []


def test_fp32_onnx_falls_back_to_torch_with_a_warning_when_onnxruntime_is_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    fp32 = str(embeddings.onnx_file(tmp_path, "fp32"))
    with pytest.warns(UserWarning, match="using torch"):
        assert embeddings._ensure_onnx(str(embeddings.model_path()), fp32) is None
    with pytest.raises(ImportError):  # int8 vectors differ: no silent fallback
        embeddings._ensure_onnx(str(embeddings.model_path()), str(embeddings.onnx_file(tmp_path, "int8")))


def test_importing_the_module_imports_neither_torch_nor_sentence_transformers():
    code = (
        "import sys, nlp.embeddings, nlp.registry; "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- the real model, loaded once in a two-worker pool ---------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    """A started two-worker pool of the real model (small chunks, so one batch spans both workers)."""
    encoder = embeddings.PoolEncoder(workers=2, chunk=4)
    encoder.start()
    yield encoder
    encoder.close()


@pytest.fixture
def no_network(monkeypatch):
    """Any network connection from this process fails."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_real_model_vectors(pool, no_network):
    annotator = EmbeddingAnnotator(pool)
    texts = [
        "my flight was delayed three hours again",
        "another delay, we have been stuck at the gate for hours",
        "I love the new pizza place downtown",
        "@united lost my bag https://t.co/xyz123",
        "my flight was delayed three hours again",
        "vuelo cancelado otra vez",
        "\U0001f621\U0001f621",
        "thank you for the great service, the crew was lovely",
        "no es un buen servicio",
    ]
    batch = [(f"x:{i}", text, "en") for i, text in enumerate(texts)]
    rows = annotator.annotate(batch)
    assert [row[0] for row in rows] == [post_id for post_id, _, _ in batch]
    matrix = np.vstack([unpack(blob, dim) for _, _, dim, blob in rows])
    assert matrix.shape == (len(texts), 384) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(matrix[0], matrix[4])  # same text, same vector
    assert matrix[0] @ matrix[1] > matrix[0] @ matrix[2] + 0.2  # two delays closer than delay vs pizza
    # In order: each row equals the vector of its text encoded alone (padding changes the last digits only).
    alone = np.vstack([pool.encode([prepare_text(text)]) for text in texts])
    assert np.allclose(matrix, alone, atol=1e-5)


@pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("onnxruntime", "onnx")),
    reason="onnxruntime not installed",
)
def test_onnx_fp32_export_gives_the_same_vectors(pool, tmp_path):
    # The export needs torch, which the pool's workers have loaded already: export there (seconds, not 20 s).
    exported = pool._executor.submit(embeddings.export_onnx, tmp_path, "fp32").result()
    assert exported == embeddings.onnx_file(tmp_path, "fp32") and exported.stat().st_size > 80_000_000
    texts = [
        prepare_text(t) for t in ("my flight was delayed again", "\U0001f621", "", "vuelo cancelado " * 80)
    ]
    onnx = embeddings.LocalEncoder(onnx=exported)
    vectors, reference = onnx.encode(texts), pool.encode(texts)
    assert vectors.shape == (4, DIM) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.9999  # long text: truncated alike at 256 tokens
    with embeddings.PoolEncoder(workers=2, chunk=1, onnx=exported) as onnx_pool:  # starts in about a second
        assert np.allclose(onnx_pool.encode(texts), vectors, atol=1e-5)
        pids = list(onnx_pool.pids)
    assert not {child.pid for child in multiprocessing.active_children()} & set(pids)


def test_real_workers_are_offline_single_threaded_and_leave_no_children(pool):
    """Runs last: it closes the module's pool."""
    pids = list(pool.pids)
    statuses = pool.status()
    assert all(status["threads"] == 1 and status["blocked"] for status in statuses)
    assert all(status["offline"]["HF_HUB_OFFLINE"] == "1" for status in statuses)
    assert len(set(pids)) == 2 and {status["pid"] for status in statuses} <= set(pids)
    pool.close()
    assert pool.pids == []
    alive = {child.pid for child in multiprocessing.active_children()}
    assert not alive & set(pids)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
