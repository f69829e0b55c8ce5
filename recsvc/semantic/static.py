"""The fast embedder: a static model distilled offline from the transformer.

A static model (model2vec; Tulkens & van Dongen 2024) keeps one vector per word piece,
computed once by running the transformer over its own vocabulary and reduced by PCA; a
text is the mean of its pieces' vectors. There is no attention at encode time, so it
embeds thousands of texts per second on one core, at some cost in quality (measured in
``docs/semantic.md``). :func:`distill_static` makes one from the configured
``embedding_model``'s local folder — never from the network — and writes it with its
provenance; :class:`StaticEmbedder` serves it behind the
:class:`~recsvc.semantic.embedders.Embedder` protocol, selected by
``settings.embedding_backend = "static"``.

Folder (``settings.static_model_dir``)::

    static-model/
        config.json, model.safetensors, tokenizer.json, modules.json   model2vec's files
        provenance.json     base model and its id, model2vec version, dims, when, how long

Example:
    >>> folder = distill_static(settings)                       # doctest: +SKIP
    >>> emb = StaticEmbedder(folder, base_model=settings.embedding_model)  # doctest: +SKIP
    >>> emb.encode(["swine fever vaccine"]).shape               # doctest: +SKIP
    (1, 256)
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recsvc.errors import NotReady
from recsvc.files import replaced_folder
from recsvc.semantic.embedders import fingerprint, l2_normalise, model_label, resolve_model_path

if TYPE_CHECKING:
    from recsvc.config import Settings

__all__ = ["PROVENANCE", "StaticEmbedder", "base_model_id", "distill_static"]

log = logging.getLogger(__name__)

#: The file beside model2vec's that says where the static model came from.
PROVENANCE = "provenance.json"
FORMAT = 1


def base_model_id(name: str) -> str:
    """The id a transformer ``name`` has as an embedder (``label@fingerprint``), without
    loading it; a static model records the id of the model it was distilled from.

    Raises:
        NotReady: the model is neither packaged, a local folder nor in the local cache.
    """
    folder = resolve_model_path(name)
    if folder is None:
        raise NotReady(f"embedding model {name!r} is not available locally")
    return f"{model_label(name)}@{fingerprint(folder)}"


def distill_static(
    settings: Settings, *, folder: str | Path | None = None, dims: int | None = 256
) -> Path:
    """Distil a static model from ``settings.embedding_model`` and save it with provenance.

    Runs the transformer once over its vocabulary (about 30,000 word pieces: seconds on
    a laptop's cores), on ``settings.embedding_device``. Offline: the model is read from
    its local folder (``HF_HUB_OFFLINE`` is set for the duration).

    Args:
        settings: the base model and the default target folder.
        folder: where to write (default ``settings.static_model_dir``), replaced whole.
        dims: PCA dimensions of the static vectors (``None``: the transformer's width).

    Returns:
        The folder written.

    Raises:
        NotReady: the base model is not available locally, or model2vec's distillation
            is not installed.
    """
    target = Path(folder or settings.static_model_dir or settings.data_dir / "static-model")
    base = resolve_model_path(settings.embedding_model)
    if base is None:
        raise NotReady(
            f"embedding model {settings.embedding_model!r} is not available locally; "
            "recsvc never downloads models"
        )
    try:
        import model2vec
        from model2vec.distill import distill
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise NotReady(f"static models need model2vec and skeletoken installed: {exc}") from exc
    started = time.perf_counter()
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        model = distill(str(base), pca_dims=dims, device=settings.embedding_device)
    finally:
        if previous is None:
            del os.environ["HF_HUB_OFFLINE"]
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    seconds = time.perf_counter() - started
    provenance = {
        "format": FORMAT,
        "base_model": settings.embedding_model,
        "base_model_id": base_model_id(settings.embedding_model),
        "distiller": f"model2vec {model2vec.__version__}",
        "dims": int(model.dim),
        "vocabulary": int(model.embedding.shape[0]),
        "distilled_at": pd.Timestamp.now("UTC").isoformat(),
        "seconds": round(seconds, 1),
    }
    with replaced_folder(target) as tmp:
        model.save_pretrained(tmp)
        (tmp / PROVENANCE).write_text(json.dumps(provenance, indent=2))
    log.info("distilled %s into %s in %.1fs", provenance["base_model_id"], target, seconds)
    return target


def read_provenance(folder: str | Path) -> dict[str, Any]:
    """The provenance of the static model in ``folder``.

    Raises:
        NotReady: no static model there.
    """
    path = Path(folder) / PROVENANCE
    if not path.is_file():
        raise NotReady(f"no static embedding model in {folder}; run `recsvc index distill`")
    return dict(json.loads(path.read_text()))


class StaticEmbedder:
    """A distilled static model behind the :class:`Embedder` protocol.

    Args:
        folder: what :func:`distill_static` wrote.
        base_model: the configured ``embedding_model``; the static model must have been
            distilled from exactly that model (same weights), else :class:`NotReady`.
            ``None`` skips the check.
        batch_size: texts per model2vec batch.
        bulk_threads: 1 encodes on one thread; anything else lets a call of more than
            one batch run on model2vec's thread pool (every core).
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        base_model: str | None = None,
        batch_size: int = 1024,
        bulk_threads: int = 0,
    ) -> None:
        from model2vec import StaticModel

        self.folder = Path(folder)
        self.provenance = read_provenance(self.folder)
        if base_model is not None:
            wanted = base_model_id(base_model)
            if self.provenance["base_model_id"] != wanted:
                raise NotReady(
                    f"the static model in {self.folder} was distilled from "
                    f"{self.provenance['base_model_id']}, but the configured model is "
                    f"{wanted}; run `recsvc index distill`"
                )
        self.model = StaticModel.from_pretrained(str(self.folder))
        self.batch_size = batch_size
        self.bulk_threads = bulk_threads
        label = model_label(str(self.provenance["base_model"]))
        self.model_id = f"static-{label}@{fingerprint(self.folder)}"
        self.dim = int(self.model.dim)
        self._unk = self.model.unk_token_id
        log.info("loaded static embedding model %s (dim %d)", self.model_id, self.dim)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=progress,
            use_multiprocessing=self.bulk_threads != 1,
            multiprocessing_threshold=self.batch_size,
        )
        return l2_normalise(np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim))

    def coverage(self, text: str) -> float:
        """Share of ``text``'s word pieces the vocabulary knows (Chinese → unknown → 0)."""
        ids = self.model.tokenizer.encode(text, add_special_tokens=False).ids
        if not ids:
            return 0.0
        if self._unk is None:
            return 1.0
        return sum(1 for i in ids if i != self._unk) / len(ids)
