"""The recommender's view of text: commission and product vectors, point in time.

:class:`TextSpace` embeds every commission once (dense vectors from the semantic
layer's embedder when one is given, plus a character n-gram TF-IDF lexical channel
that works for Chinese and English alike) and then builds *point-in-time* client
vectors from whichever commissions a :class:`~recsvc.store.Frames` snapshot holds.
Row positions never leave this module: callers pass commission ids and texts. Its
files (save, load, erasure): :mod:`recsvc.recommend.text_files`.

Example:
    >>> space = TextSpace().fit(frames.commissions, frames.products)  # doctest: +SKIP
    >>> space.similarity(space.encode(["猪瘟疫苗"]), space.products())  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from recsvc.recommend import text_files
from recsvc.recommend.rows import RowIndex
from recsvc.recommend.vectors import Vectors, commission_text, product_text, text_hashes

log = logging.getLogger(__name__)

#: Weight of the dense (embedding) channel; the lexical channel gets the rest.
DENSE_WEIGHT = 0.5
#: Dimensions of the lexical (LSA) channel.
LSA_DIM = 128
#: Below this share of readable word pieces a text's dense vector is noise (zeroed).
MIN_COVERAGE = 0.5
#: Distinct commission texts the lexical vocabulary and LSA axes are fitted on; past it,
#: a seeded sample (every text is still encoded). At 91,000 commissions fitting on all
#: of them took 25 of the text space's 36 s; the demo store is far below it.
FIT_SAMPLE = 20_000
#: Half-life (days) of a commission's weight in its client's vector.
HALF_LIFE_DAYS = 730.0


class TextSpace:
    """Commission and product vectors in one space (dense + lexical).

    Args:
        semantic: the :class:`recsvc.semantic.SemanticLayer` (or any object with
            ``embed(texts) -> np.ndarray``); ``None`` gives a lexical-only space.
        dense_weight: weight of the dense channel in :meth:`similarity`.
    """

    def __init__(self, semantic: Any | None = None, dense_weight: float = DENSE_WEIGHT) -> None:
        self.semantic = semantic
        self.dense_weight = dense_weight

    # -- fitting ---------------------------------------------------------------
    def fit(self, commissions: pd.DataFrame, products: pd.DataFrame) -> TextSpace:
        """Embed every commission and product once."""
        texts = commission_text(commissions)
        ptexts = product_text(products)
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, min_df=1, max_features=20000
        )
        corpus = sorted(set(texts)) or ["empty"]
        if len(corpus) > FIT_SAMPLE:  # the vocabulary and LSA axes, from a seeded sample
            pick = np.random.default_rng(0).choice(len(corpus), FIT_SAMPLE, replace=False)
            corpus = [corpus[i] for i in np.sort(pick)]
        tfidf = self.vectorizer_.fit_transform(sorted(set(corpus) | set(ptexts)))
        n_comp = max(1, min(LSA_DIM, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components=n_comp, n_iter=3, random_state=0).fit(tfidf)
        self.commission_ids_ = commissions["commission_id"].to_numpy(dtype=np.int64)
        self.commission_rows_ = RowIndex(self.commission_ids_)
        self.text_hashes_ = text_hashes(texts)
        self.commissions_ = self._encode_commissions(self.commission_ids_, texts)
        self.product_codes_ = products["code"].astype(str).to_numpy()
        self.product_hashes_ = text_hashes(ptexts)
        self.products_ = self.encode(ptexts)
        return self

    # -- persistence (recsvc.recommend.text_files) ------------------------------
    def save(self, folder: str | Path, vectors: str | Path | None = None) -> Path:
        """Write the fitted space into ``folder`` (replaced whole), its per-commission
        files into ``vectors`` (default ``folder``):
        :func:`~recsvc.recommend.text_files.save_space`."""
        return text_files.save_space(self, folder, vectors)

    def save_vectors(self, folder: str | Path) -> Path:
        """Write only the per-commission files into ``folder`` (replaced whole)."""
        return text_files.save_vectors(self, folder)

    @classmethod
    def load(
        cls,
        folder: str | Path,
        commissions: pd.DataFrame,
        products: pd.DataFrame,
        semantic: Any | None = None,
        vectors: str | Path | None = None,
        refresh: bool = True,
    ) -> TextSpace:
        """The space :meth:`save` wrote, brought up to date with ``commissions`` (not
        checked without ``refresh``): :func:`~recsvc.recommend.text_files.load_space`."""
        return text_files.load_space(
            cls, folder, commissions, products, semantic, vectors=vectors, refresh=refresh
        )

    def _refresh(self, commissions: pd.DataFrame) -> None:
        """Re-encode saved commissions whose text changed; add the new ones."""
        ids = commissions["commission_id"].to_numpy(dtype=np.int64)
        texts = commission_text(commissions)
        hashes = text_hashes(texts)
        rows = self.commission_rows_.rows(ids)
        changed = np.flatnonzero((rows >= 0) & (self.text_hashes_[np.maximum(rows, 0)] != hashes))
        if len(changed):
            block = self._encode_commissions(ids[changed], [texts[i] for i in changed])
            at = rows[changed]
            self.commissions_.lexical[at] = block.lexical  # private pages (copy-on-write)
            if self.commissions_.dense is not None and block.dense is not None:
                self.commissions_.dense[at] = block.dense
            self.text_hashes_ = self.text_hashes_.copy()
            self.text_hashes_[at] = hashes[changed]
            log.info("text space: %d changed commissions re-encoded", len(changed))
        new = rows < 0
        if new.any():
            self.add_commissions(commissions[new], use_index=True)
            log.info("text space: %d new commissions encoded", int(new.sum()))

    def add_commissions(self, commissions: pd.DataFrame, *, use_index: bool = False) -> TextSpace:
        """Embed commissions that arrived after :meth:`fit` (a new client's first title).

        ``use_index`` takes dense vectors from the semantic index where it has them
        (commissions imported since the space was saved) instead of embedding.
        """
        known = self.commission_rows_.rows(commissions["commission_id"].to_numpy(np.int64))
        new = commissions[known < 0]
        if new.empty:
            return self
        ids = new["commission_id"].to_numpy(dtype=np.int64)
        texts = commission_text(new)
        block = self._encode_commissions(ids, texts, use_index=use_index)
        self.commission_ids_ = np.concatenate([self.commission_ids_, ids])
        self.text_hashes_ = np.concatenate([self.text_hashes_, text_hashes(texts)])
        self.commission_rows_ = self.commission_rows_.appended(ids)
        dense = None
        if self.commissions_.dense is not None and block.dense is not None:
            dense = np.vstack([self.commissions_.dense, block.dense])
        lex = np.vstack([self.commissions_.lexical, block.lexical])
        self.commissions_ = Vectors(dense, lex)
        return self

    def _encode_commissions(
        self, ids: np.ndarray, texts: list[str], *, use_index: bool = True
    ) -> Vectors:
        """Commission vectors: the semantic index's stored vectors where it has them."""
        block = self.encode(texts, dense=not (use_index and self._indexed()))
        if use_index and self._indexed() and len(ids) and self.semantic is not None:
            try:
                dense = np.asarray(self.semantic.commission_vectors(ids), dtype=np.float32)
                missing = _unread(dense)
                if missing.any():
                    dense[missing] = self._dense([texts[i] for i in np.flatnonzero(missing)])
                block = Vectors(normalize(dense), block.lexical)
            except Exception:
                log.warning("commission vectors unavailable; lexical channel only", exc_info=True)
                self.semantic = None
        return block

    def _indexed(self) -> bool:
        return self.semantic is not None and hasattr(self.semantic, "commission_vectors")

    def _dense(self, texts: list[str]) -> np.ndarray | None:
        """Dense vectors; rows the embedder cannot read (low coverage) are zeros."""
        if self.semantic is None or not texts:
            return None
        try:
            dense = normalize(np.asarray(self.semantic.embed(list(texts)), dtype=np.float32))
        except Exception:  # a broken embedder must not take recommendations down
            log.warning("semantic embed failed; using the lexical channel only", exc_info=True)
            self.semantic = None
            return None
        emb = getattr(self.semantic, "embedder", None)
        cover = getattr(getattr(emb, "inner", emb), "coverage", None)
        if callable(cover):
            low = np.array([float(cover(t)) < MIN_COVERAGE for t in texts])
            dense[low] = 0.0
        return dense

    def encode(self, texts: Sequence[str], *, dense: bool = True) -> Vectors:
        """Vectors for free texts (a new client's single title, a search query)."""
        texts = [t or "" for t in texts]
        lexical = self._lsa(texts)
        return Vectors(self._dense(texts) if dense else None, lexical)

    def _lsa(self, texts: list[str]) -> np.ndarray:
        """Character n-gram TF-IDF reduced by LSA (dense, fast to compare)."""
        if not texts:
            return np.zeros((0, self.svd_.n_components), dtype=np.float32)
        uniq, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        tfidf = self.vectorizer_.transform(list(uniq))
        return normalize(self.svd_.transform(tfidf)).astype(np.float32)[inverse.ravel()]

    # -- lookups ---------------------------------------------------------------
    def commissions(self, commission_ids: Sequence[int] | np.ndarray) -> Vectors:
        """Vectors of known commissions (unknown ids get zero vectors)."""
        rows = self.commission_rows_.rows(np.asarray(commission_ids))
        known = rows >= 0
        if known.all():
            return self.commissions_.take(rows)
        block = self.commissions_.take(np.where(known, rows, 0))
        lex = block.lexical * known[:, None]
        dense = None if block.dense is None else block.dense * known[:, None]
        return Vectors(dense, lex)

    def texts_digest(self, h: Any) -> None:
        """Feed the id and text hash of every commission this space holds into the
        hashlib object ``h``: what its commission vectors are of (a superset of any
        snapshot's commissions; hashing those by id took 0.09 s at 100,000 clients)."""
        h.update(np.ascontiguousarray(self.commission_rows_.ids).tobytes())
        h.update(np.ascontiguousarray(self.text_hashes_).tobytes())

    def products(self) -> Vectors:
        """Vectors of the catalogue, in :attr:`product_codes_` order."""
        return self.products_

    def client_vectors(
        self, commissions: pd.DataFrame, client_ids: np.ndarray, as_of: pd.Timestamp
    ) -> tuple[Vectors, np.ndarray]:
        """Recency-weighted mean of each client's commissions in ``commissions``.

        Returns:
            The vectors (one row per client id) and a boolean mask of clients that
            had at least one commission.
        """
        n = len(client_ids)
        pos = pd.Series(np.arange(n), index=pd.Index(client_ids))
        sub = commissions[commissions["client_id"].isin(client_ids)]
        has = np.zeros(n, dtype=bool)
        if sub.empty:
            return self._zeros(n), has
        age = (pd.Timestamp(as_of) - sub["commissioned_on"]).dt.days.clip(lower=0).to_numpy()
        w = np.power(0.5, age / HALF_LIFE_DAYS)
        rows = pos.loc[sub["client_id"].to_numpy()].to_numpy()
        has[rows] = True
        weights = sparse.csr_matrix((w, (rows, np.arange(len(sub)))), shape=(n, len(sub)))
        block = self.commissions(sub["commission_id"].to_numpy())
        lex = normalize(np.asarray(weights @ block.lexical)).astype(np.float32)
        dense = None if block.dense is None else normalize(np.asarray(weights @ block.dense))
        return Vectors(dense, lex), has

    def _zeros(self, n: int) -> Vectors:
        dim = self.svd_.n_components
        dense_dim = None if self.commissions_.dense is None else self.commissions_.dense.shape[1]
        dense = None if dense_dim is None else np.zeros((n, dense_dim), dtype=np.float32)
        return Vectors(dense, np.zeros((n, dim), dtype=np.float32))

    def similarity(self, a: Vectors, b: Vectors) -> np.ndarray:
        """Cosine similarity matrix ``(len(a), len(b))`` fused over both channels:
        ``w * max(dense, 0) + (1 - w) * max(lexical, 0)``.

        Where either side has no dense vector (no embedder, or an unreadable text) the
        lexical channel alone answers for that pair.
        """
        if a.dense is None or b.dense is None:
            return _clipped(a.lexical, b.lexical)
        # these are (commissions x cases) blocks: each channel's weight goes on the
        # small left factor, not on the product (three passes over it instead of five;
        # with the default weight 0.5 the result is the same to the bit)
        w = np.float32(self.dense_weight)
        out = _clipped(a.lexical * (np.float32(1.0) - w), b.lexical)
        out += _clipped(a.dense * w, b.dense)
        # pairs where one side has no dense vector keep the lexical similarity alone
        rows, cols = _unread(a.dense), _unread(b.dense)
        if rows.any():
            out[rows] = _clipped(a.lexical[rows], b.lexical)
        if cols.any():
            out[:, cols] = _clipped(a.lexical, b.lexical[cols])
        return out

    def search_vectors(self, vecs: Vectors) -> np.ndarray:
        """One float32 row per vector whose inner products are :meth:`similarity`
        before its clipping at zero: ``[sqrt(w) * dense, sqrt(1 - w) * lexical]``, and a
        vector without a dense part ``[0, lexical / sqrt(1 - w)]``, so that it meets
        the others on the lexical channel alone, as :meth:`similarity` has it (two
        such vectors meet at ``1 / (1 - w)`` times their lexical similarity).

        An exact inner-product search over these finds candidates in one product with
        the top-k kept in C++ (FAISS); :meth:`pair_similarity` then scores them.
        """
        lex = np.asarray(vecs.lexical, dtype=np.float32)
        if vecs.dense is None:
            return np.ascontiguousarray(lex)
        w = np.float32(self.dense_weight)
        dense = np.asarray(vecs.dense, dtype=np.float32) * np.sqrt(w)
        no_dense = _unread(dense)
        scale = np.where(no_dense, np.float32(1.0) / np.sqrt(1 - w), np.sqrt(1 - w))
        return np.hstack([dense, lex * scale[:, None].astype(np.float32)])

    def pair_similarity(self, a: Vectors, b: Vectors, cols: np.ndarray) -> np.ndarray:
        """:meth:`similarity` of each row of ``a`` with its own rows of ``b``:
        ``out[i, j] = similarity(a[i], b[cols[i, j]])`` (``cols`` of shape ``(len(a),
        k)``, every entry a row of ``b``)."""
        lex = _clipped_pairs(a.lexical, b.lexical, cols)
        if a.dense is None or b.dense is None:
            return lex
        w = np.float32(self.dense_weight)
        # the lexical pairs once, weighted after the clipping: the same to the bit as
        # weighting the left factor (:meth:`similarity`) for the default weight 0.5
        out = lex * (np.float32(1.0) - w)
        out += _clipped_pairs(a.dense * w, b.dense, cols)
        # where either side has no dense vector, the lexical similarity alone
        alone = _unread(a.dense)[:, None] | _unread(b.dense)[cols]
        out[alone] = lex[alone]
        return out


def _unread(dense: np.ndarray) -> np.ndarray:
    """The rows without a dense vector (all zeros: the embedder could not read the text)."""
    return ~np.any(dense != 0, axis=1)


def _clipped_pairs(a: np.ndarray, b: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``max(a[i] . b[cols[i, j]], 0)`` as float32 (summed in the operands' precision,
    as :func:`_clipped`)."""
    out = np.asarray(np.einsum("nd,nkd->nk", a, b[cols]), dtype=np.float32)
    np.maximum(out, 0.0, out=out)
    return out


def _clipped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``max(a @ b.T, 0)`` as float32, clipped in place."""
    out = np.asarray(a @ b.T, dtype=np.float32)
    np.maximum(out, 0.0, out=out)
    return out
