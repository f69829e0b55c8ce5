"""The semantic layer's artifact folder: embed every kind, write it, read it back.

One folder holds a ``config.json`` (format, embedding model, when it was built, what
each kind holds) and, per kind, the documents, the dense (FAISS) and the lexical (BM25)
index. :class:`~recsvc.semantic.layer.SemanticLayer` serves queries over the
:class:`LayerParts` these functions produce; ``save`` and ``load`` are symmetric.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.config import Settings
from recsvc.errors import NotReady
from recsvc.files import replaced_folder
from recsvc.semantic.docstore import DocStore
from recsvc.semantic.documents import COVERED_KINDS, KINDS, build_docs, mark_coverage
from recsvc.semantic.embedders import Embedder, encode_by_length
from recsvc.semantic.index import VectorIndex
from recsvc.semantic.lexical import LexicalIndex
from recsvc.store.frames import Frames

__all__ = ["FORMAT", "LayerParts", "LazyIndexes", "embed_parts", "read_parts", "write_parts"]

log = logging.getLogger(__name__)

#: Layout of the folder; a folder of another format must be rebuilt.
FORMAT = 1


@dataclass(frozen=True)
class LayerParts:
    """What a semantic layer is made of, per kind, plus where its vectors came from."""

    docs: dict[str, DocStore]
    dense: dict[str, VectorIndex]
    lexical: Mapping[str, LexicalIndex]
    model_id: str
    built_at: str | None = None


def embed_parts(
    frames: Frames, settings: Settings, embedder: Embedder, *, progress: bool = False
) -> LayerParts:
    """Embed and index every kind's documents from ``frames``."""
    started = time.perf_counter()
    all_docs = build_docs(frames)
    texts = [d.text for kind in KINDS for d in all_docs[kind]]
    log.info("embedding %d texts (%s)", len(texts), _counts(all_docs))
    vectors = encode_by_length(embedder, texts, progress=progress)
    docs: dict[str, DocStore] = {}
    dense: dict[str, VectorIndex] = {}
    lexical: dict[str, LexicalIndex] = {}
    start = 0
    for kind in KINDS:
        kind_docs = all_docs[kind]
        keys = [d.key for d in kind_docs]
        kind_texts = texts[start : start + len(kind_docs)]
        kind_vectors = vectors[start : start + len(kind_docs)]
        start += len(kind_docs)
        dense[kind] = VectorIndex.build(
            keys, kind_vectors, kind=settings.index_kind, exact_max=settings.index_exact_max
        )
        lexical[kind] = LexicalIndex.build(keys, kind_texts)
        if kind in COVERED_KINDS:
            mark_coverage(kind_docs, embedder)
        docs[kind] = DocStore(kind_docs)
    log.info("semantic layer built in %.1fs", time.perf_counter() - started)
    return LayerParts(docs, dense, lexical, model_id=embedder.model_id)


def _counts(all_docs: Mapping[str, list]) -> str:
    return ", ".join(f"{len(all_docs[kind])} {kind}" for kind in KINDS)


def write_parts(
    target: Path,
    parts: LayerParts,
    *,
    embedding_model: str,
    stats: dict[str, Any],
    embedding_backend: str = "transformer",
) -> Path:
    """Write ``parts`` to ``target``, replacing the folder whole."""
    config = {
        "format": FORMAT,
        "model_id": parts.model_id,
        "embedding_model": embedding_model,
        "embedding_backend": embedding_backend,
        "built_at": parts.built_at,
        "saved_at": pd.Timestamp.now("UTC").isoformat(),
        "kinds": stats,
    }
    with replaced_folder(target) as tmp:
        for kind in KINDS:
            parts.dense[kind].save(tmp / kind / "dense")
            parts.lexical[kind].save(tmp / kind / "lexical")
            parts.docs[kind].save(tmp / kind)
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
    return target


def read_parts(
    folder: Path, settings: Settings, *, any_model: bool = False, mmap: bool = False
) -> LayerParts:
    """Open what :func:`write_parts` wrote (BM25 indexes load on first use).

    Args:
        folder: the layer's folder.
        settings: the configured embedding model and backend.
        any_model: accept a folder built with another model than the configured one
            (the caller brings the embedder and checks it).
        mmap: map the stored vectors instead of reading them.

    Raises:
        NotReady: nothing saved, an old format, or another embedding model or backend.
    """
    if not (folder / "config.json").exists():
        raise NotReady(f"no semantic index in {folder}; run `recsvc index build`")
    config = json.loads((folder / "config.json").read_text())
    if config.get("format") != FORMAT:
        raise NotReady(f"semantic index {folder} has an old format; run `recsvc index build`")
    built = (config["embedding_model"], config.get("embedding_backend", "transformer"))
    configured = (settings.embedding_model, settings.embedding_backend)
    if not any_model and built != configured:
        raise NotReady(
            f"the index was built with {built[0]} ({built[1]}), the configured model is "
            f"{configured[0]} ({configured[1]}); run `recsvc index build`"
        )
    docs: dict[str, DocStore] = {}
    dense: dict[str, VectorIndex] = {}
    for kind in KINDS:
        docs[kind] = DocStore.open(folder / kind)  # mapped: workers share one copy
        dense[kind] = VectorIndex.load(folder / kind / "dense", mmap=mmap)
        if not (folder / kind / "lexical" / "config.json").exists():
            raise NotReady(f"no lexical index in {folder / kind}; run `recsvc index build`")
    lexical = LazyIndexes({kind: folder / kind / "lexical" for kind in KINDS})
    return LayerParts(
        docs, dense, lexical, model_id=config["model_id"], built_at=config["built_at"]
    )


class LazyIndexes(Mapping[str, LexicalIndex]):
    """Lexical indexes by kind, each read and indexed on first use.

    Loading rebuilds the BM25 matrix from the saved tokens: minutes and gigabytes for a
    million commissions, while a serving process's live recommendations only ever
    search past cases. Thread-safe; ``loaded()`` says which kinds are in memory.
    """

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self._folders = dict(folders)
        self._loaded: dict[str, LexicalIndex] = {}
        self._lock = threading.Lock()

    def __getitem__(self, kind: str) -> LexicalIndex:
        index = self._loaded.get(kind)
        if index is None:
            if kind not in self._folders:
                raise KeyError(kind)
            with self._lock:
                index = self._loaded.get(kind)
                if index is None:
                    index = LexicalIndex.load(self._folders[kind])
                    self._loaded[kind] = index
        return index

    def __iter__(self) -> Iterator[str]:
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)

    def loaded(self) -> set[str]:
        return set(self._loaded)
