"""The on-disk embedding cache: re-running embeds only new or changed texts.

Layout (one folder per model id, so a different model is a different namespace and
changing the model invalidates nothing by hand)::

    cache_dir/embeddings/<model id>/
        config.json            {"model_id", "dim", "format": 1}
        <shard>.npy            float32 (n, dim)
        <shard>.keys.json      the n text hashes (sha1 of the text), same order

Every call that embeds something new appends one shard; many small shards are
compacted into one when the cache is opened.

Example:
    >>> import tempfile
    >>> from recsvc.semantic.embedders import FakeEmbedder
    >>> cache = CachedEmbedder(FakeEmbedder(dim=8), tempfile.mkdtemp())
    >>> _ = cache.encode(["a", "b"]); _ = cache.encode(["a", "c"])
    >>> cache.last_misses
    1
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from recsvc.semantic.embedders import Embedder
from recsvc.semantic.text import text_hash

log = logging.getLogger(__name__)

FORMAT = 1
_COMPACT_AT = 16


def _safe(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", model_id)


class CachedEmbedder:
    """Wraps an :class:`Embedder`; vectors are cached by (model id, text hash).

    Args:
        inner: the embedder that computes missing vectors.
        cache_dir: the cache root (``settings.cache_dir``).

    Attributes:
        last_hits / last_misses: texts served from the cache / embedded by the last call.
        total_misses: texts embedded since this object was created.
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.folder = Path(cache_dir) / "embeddings" / _safe(inner.model_id)
        self.last_hits = 0
        self.last_misses = 0
        self.total_misses = 0
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._open()

    def __len__(self) -> int:
        return len(self._rows)

    def coverage(self, text: str) -> float:
        fn = getattr(self.inner, "coverage", None)
        return float(fn(text)) if callable(fn) else 1.0

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "config.json"
        if config.exists():
            meta = json.loads(config.read_text())
            if meta.get("format") != FORMAT or meta.get("dim") != self.dim:
                log.warning("embedding cache %s has another format; starting afresh", self.folder)
                for f in self.folder.glob("*.npy"):
                    f.unlink()
                for f in self.folder.glob("*.keys.json"):
                    f.unlink()
        config.write_text(
            json.dumps({"model_id": self.model_id, "dim": self.dim, "format": FORMAT})
        )
        shards = sorted(self.folder.glob("*.keys.json"))
        keys: list[str] = []
        parts: list[np.ndarray] = []
        for key_file in shards:
            vec_file = key_file.with_name(key_file.name.removesuffix(".keys.json") + ".npy")
            if not vec_file.exists():
                continue
            part_keys = json.loads(key_file.read_text())
            part = np.load(vec_file)
            if part.shape != (len(part_keys), self.dim):
                log.warning("skipping damaged cache shard %s", vec_file.name)
                continue
            keys.extend(part_keys)
            parts.append(part)
        if parts:
            self._vectors = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
            self._rows = {k: i for i, k in enumerate(keys)}
        if len(shards) > _COMPACT_AT:
            self._compact(shards)

    def _compact(self, old: list[Path]) -> None:
        order = sorted(self._rows.items(), key=lambda kv: kv[1])
        self._write([k for k, _ in order], self._vectors[[i for _, i in order]])
        for key_file in old:
            key_file.with_name(key_file.name.removesuffix(".keys.json") + ".npy").unlink(
                missing_ok=True
            )
            key_file.unlink(missing_ok=True)

    def _write(self, keys: list[str], vectors: np.ndarray) -> None:
        stem = uuid.uuid4().hex
        np.save(self.folder / f"{stem}.npy", vectors)
        tmp = self.folder / f"{stem}.keys.tmp"
        tmp.write_text(json.dumps(keys))
        tmp.rename(self.folder / f"{stem}.keys.json")  # the shard exists once its keys do

    def forget(self, texts: Iterable[str]) -> int:
        """Drop the vectors of ``texts`` from memory (an erasure; :func:`forget_texts`
        removes them from the folder); how many were cached."""
        gone = {text_hash(t) for t in texts} & set(self._rows)
        if gone:
            keep = sorted(
                ((k, i) for k, i in self._rows.items() if k not in gone), key=lambda kv: kv[1]
            )
            self._vectors = np.ascontiguousarray(self._vectors[[i for _, i in keep]])
            self._rows = {k: j for j, (k, _) in enumerate(keep)}
        return len(gone)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Vectors for ``texts``; only texts never seen by this model are embedded."""
        hashes = [text_hash(t) for t in texts]
        missing: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in self._rows and h not in missing:
                missing[h] = t
        self.last_misses = len(missing)
        self.last_hits = len(texts) - sum(1 for h in hashes if h in missing)
        self.total_misses += len(missing)
        if missing:
            new = self.inner.encode(list(missing.values()), progress=progress)
            start = len(self._vectors)
            self._vectors = np.concatenate([self._vectors, new.astype(np.float32)])
            for i, h in enumerate(missing):
                self._rows[h] = start + i
            self._write(list(missing), new)
            log.debug("embedded %d new texts (%d cached)", len(missing), self.last_hits)
        if not hashes:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._vectors[[self._rows[h] for h in hashes]]


def forget_texts(cache_dir: str | Path, texts: Iterable[str]) -> int:
    """Remove the vectors of ``texts`` from every model's cache under ``cache_dir``.

    Each model folder whose shards hold one of them is rewritten as one shard without
    them (the new shard is written before the old ones go, so a crash loses nothing
    but the erasure, which can be run again).

    Returns:
        How many cached vectors were removed, over all models.
    """
    gone = {text_hash(t) for t in texts}
    removed = 0
    root = Path(cache_dir) / "embeddings"
    for folder in sorted(p for p in root.glob("*") if p.is_dir()) if gone else []:
        shards = sorted(folder.glob("*.keys.json"))
        keys: list[str] = []
        parts: list[np.ndarray] = []
        for key_file in shards:
            vec_file = key_file.with_name(key_file.name.removesuffix(".keys.json") + ".npy")
            if vec_file.exists():
                keys.extend(json.loads(key_file.read_text()))
                parts.append(np.load(vec_file))
        hit = [i for i, k in enumerate(keys) if k in gone]
        if not hit:
            continue
        keep = np.setdiff1d(np.arange(len(keys)), hit)
        vectors = np.concatenate(parts)[keep] if parts else np.zeros((0, 0), np.float32)
        stem = uuid.uuid4().hex
        np.save(folder / f"{stem}.npy", vectors)
        tmp = folder / f"{stem}.keys.tmp"
        tmp.write_text(json.dumps([keys[i] for i in keep.tolist()]))
        tmp.rename(folder / f"{stem}.keys.json")
        for key_file in shards:
            key_file.with_name(key_file.name.removesuffix(".keys.json") + ".npy").unlink(
                missing_ok=True
            )
            key_file.unlink(missing_ok=True)
        removed += len(set(keys[i] for i in hit))
        log.info("%d cached vectors erased from %s", len(hit), folder)
    return removed
