"""The files of a saved :class:`~recsvc.recommend.text.TextSpace`.

The vocabulary is JSON; IDF weights, LSA components, commission ids, text hashes and
vectors are ``.npy`` files, which :func:`load_space` memory-maps: a model's server
processes then share one copy of the commission vectors through the page cache instead
of each fitting and holding its own. The per-commission files (``commission_ids.npy``,
``text_hashes.npy``, ``lexical.npy``, ``dense.npy``) may go to a folder of their own,
which an erasure patches (:func:`erase_commission_vectors`); the rest is the model
(``config.json``, ``vocabulary.json``, ``idf.npy``, ``components.npy`` and the product
vectors).

Example:
    >>> save_space(space, model / "text", vectors=served / "text")  # doctest: +SKIP
    >>> load_space(TextSpace, model / "text", commissions, products)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from recsvc.files import prefetch, replaced_folder
from recsvc.recommend.rows import RowIndex
from recsvc.recommend.vectors import Vectors, product_text, text_hashes

if TYPE_CHECKING:
    from recsvc.recommend.text import TextSpace

__all__ = ["TEXT_FORMAT", "erase_commission_vectors", "load_space", "save_space", "save_vectors"]

#: Layout of a saved :class:`~recsvc.recommend.text.TextSpace` (:func:`save_space`).
TEXT_FORMAT = 1


def save_space(space: TextSpace, folder: str | Path, vectors: str | Path | None = None) -> Path:
    """Write the fitted ``space`` into ``folder`` (replaced whole, never half-written).

    Args:
        folder: where the space goes (the model: vocabulary, IDF, components).
        vectors: where the per-commission files go (ids, text hashes, vectors),
            which an erasure must be able to patch; default ``folder``.
    """
    folder = Path(folder)
    if vectors is not None:
        save_vectors(space, vectors)
    vec = space.vectorizer_
    config = {
        "format": TEXT_FORMAT,
        "params": {k: vec.get_params()[k] for k in ("analyzer", "sublinear_tf", "min_df")}
        | {"ngram_range": list(vec.ngram_range)},
        "dense_weight": space.dense_weight,
        "dense": space.commissions_.dense is not None,
        "products": space.product_codes_.tolist(),
    }
    vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    with replaced_folder(folder) as tmp:
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        (tmp / "vocabulary.json").write_text(json.dumps(vocab, ensure_ascii=False))
        np.save(tmp / "idf.npy", vec.idf_)
        np.save(tmp / "components.npy", space.svd_.components_)
        np.save(tmp / "product_hashes.npy", space.product_hashes_)
        np.save(tmp / "product_lexical.npy", space.products_.lexical)
        if space.products_.dense is not None:
            np.save(tmp / "product_dense.npy", space.products_.dense)
        if vectors is None:
            _write_vectors(space, tmp)
    return folder


def save_vectors(space: TextSpace, folder: str | Path) -> Path:
    """Write only the per-commission files into ``folder`` (replaced whole)."""
    with replaced_folder(Path(folder)) as tmp:
        _write_vectors(space, tmp)
    return Path(folder)


def _write_vectors(space: TextSpace, folder: Path) -> None:
    np.save(folder / "commission_ids.npy", space.commission_ids_)
    np.save(folder / "text_hashes.npy", space.text_hashes_)
    np.save(folder / "lexical.npy", space.commissions_.lexical)
    if space.commissions_.dense is not None:
        np.save(folder / "dense.npy", space.commissions_.dense)


def load_space(
    cls: Callable[..., TextSpace],
    folder: str | Path,
    commissions: pd.DataFrame,
    products: pd.DataFrame,
    semantic: Any | None = None,
    vectors: str | Path | None = None,
    refresh: bool = True,
) -> TextSpace:
    """The space :func:`save_space` wrote, brought up to date with ``commissions`` (not
    checked without ``refresh``: the caller knows they are the saved ones).

    Commission vectors are memory-mapped (copy-on-write) from ``vectors`` when it holds
    them, else from ``folder``; commissions that are new since the save, or whose text
    changed, are encoded now with the saved vocabulary and components. Product vectors
    are the saved ones while the catalogue's codes and texts are those of the save; an
    edited catalogue is encoded again (a handful of texts, but the dense channel needs
    the embedding model: about 5 s to load).

    Args:
        cls: makes the empty space, ``cls(semantic, dense_weight=...)``.

    Raises:
        FileNotFoundError / ValueError: nothing usable in ``folder``.
    """
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    if config.get("format") != TEXT_FORMAT:
        raise ValueError(f"text space {folder} has format {config.get('format')}")
    space = cls(semantic, dense_weight=float(config["dense_weight"]))
    params = dict(config["params"], ngram_range=tuple(config["params"]["ngram_range"]))
    vocab = json.loads((folder / "vocabulary.json").read_text())
    space.vectorizer_ = TfidfVectorizer(**params, vocabulary=vocab)
    space.vectorizer_.idf_ = np.load(folder / "idf.npy")
    components = np.load(folder / "components.npy")
    space.svd_ = TruncatedSVD(n_components=components.shape[0])
    space.svd_.components_ = components
    at = Path(vectors) if vectors is not None else folder
    if not (at / "commission_ids.npy").exists():
        at = folder
    ids = np.load(at / "commission_ids.npy")
    prefetch(at / "lexical.npy", at / "dense.npy")
    lexical = np.load(at / "lexical.npy", mmap_mode="c")
    dense = np.load(at / "dense.npy", mmap_mode="c") if config["dense"] else None
    if dense is None and space._indexed():  # saved without a semantic layer: no mixing
        space.semantic = None
    space.commission_ids_ = ids
    space.commission_rows_ = RowIndex(ids)
    space.text_hashes_ = np.load(at / "text_hashes.npy")
    space.commissions_ = Vectors(dense, lexical)
    ptexts = product_text(products)
    space.product_codes_ = products["code"].astype(str).to_numpy()
    space.product_hashes_ = text_hashes(ptexts)
    saved = _saved_products(space, folder, config)
    space.products_ = saved if saved is not None else space.encode(ptexts)
    if refresh:
        space._refresh(commissions)
    return space


def _saved_products(space: TextSpace, folder: Path, config: dict[str, Any]) -> Vectors | None:
    """The product vectors :func:`save_space` wrote, if they are of today's catalogue
    (the same codes in the same order, the same texts) and of the channels ``space``
    uses; else None."""
    if config.get("products") != space.product_codes_.tolist():
        return None
    try:
        hashes = np.load(folder / "product_hashes.npy")
        lexical = np.load(folder / "product_lexical.npy")
        dense = np.load(folder / "product_dense.npy") if space.semantic is not None else None
    except FileNotFoundError:  # saved before product vectors were kept
        return None
    if not np.array_equal(hashes, space.product_hashes_):
        return None
    return Vectors(dense, lexical)


def erase_commission_vectors(folder: str | Path, commission_ids: set[int]) -> int:
    """Rewrite the per-commission files in ``folder`` (:func:`save_vectors`) without
    ``commission_ids`` (an erasure); how many rows went."""
    folder = Path(folder)
    if not (folder / "commission_ids.npy").exists() or not commission_ids:
        return 0
    ids = np.load(folder / "commission_ids.npy")
    keep = ~np.isin(ids, np.fromiter(commission_ids, dtype=np.int64))
    if keep.all():
        return 0
    names = ("dense", "lexical", "text_hashes", "commission_ids")  # the ids last
    for name in names:
        path = folder / f"{name}.npy"
        if path.exists():  # a new file each (a server may have the old one mapped)
            tmp = folder / f".{name}.{os.getpid()}.npy"
            np.save(tmp, np.load(path)[keep])
            os.replace(tmp, path)
    return int((~keep).sum())
