"""Retrieval quality of the layer's channels on labelled real text.

One procedure, shared by the ``realdata`` tests and ``benchmarks/bench_embed.py``:
every record of a labelled set is a query the way ``similar_commissions`` uses a stored
commission (its vector to the dense channel, its text to BM25, itself excluded), and
the score is the share of the top ``k`` carrying the query's label (label
precision@k), for each channel alone and for their fusion. The labelled sets are read
from the public real data kept beside the project (``../shared/realdata``):

- ``nih``: 100 NIH 2014 grants, title + abstract; label the funding institute
  (``IC_NAME``); k = 5.
- ``nih-titles``: the same grants, titles only (short texts, like commission titles).
- ``patents``: 6,186 PatentsView titles from two queries ("neural network",
  "baseball"); label the query; 1,000 sampled queries; k = 10.

Example:
    >>> sets = real_sets(Path("../shared/realdata"))               # doctest: +SKIP
    >>> vectors = emb.encode(sets[0].texts)                          # doctest: +SKIP
    >>> layer = one_kind_layer(sets[0].texts, vectors, settings, emb)  # doctest: +SKIP
    >>> label_precision(layer, vectors, sets[0])                   # doctest: +SKIP
    {'dense': 0.27, 'lexical': 0.228, 'fused': 0.266, 'rrf': 0.258}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.semantic.docstore import DocStore
from recsvc.semantic.documents import Doc
from recsvc.semantic.embedders import Embedder
from recsvc.semantic.index import VectorIndex
from recsvc.semantic.layer import SemanticLayer
from recsvc.semantic.lexical import LexicalIndex

__all__ = ["LabelledSet", "label_precision", "one_kind_layer", "real_sets"]


@dataclass(frozen=True)
class LabelledSet:
    """Texts with a label each; ``queries`` index the texts used as queries."""

    name: str
    texts: list[str]
    labels: np.ndarray
    queries: list[int]
    k: int


def real_sets(root: Path, *, patent_queries: int = 1000) -> list[LabelledSet]:
    """The labelled sets of the module docstring, read from ``root`` (``realdata/``)."""
    nih = pd.read_csv(root / "nih_sample_2014" / "nih_sample.csv")
    titles = nih["PROJECT_TITLE"].fillna("").astype(str)
    institutes = nih["IC_NAME"].to_numpy(dtype=str)
    full = (titles + ". " + nih["ABSTRACT_TEXT"].fillna("").astype(str)).tolist()
    folder = root / "patentsview_nn_abstracts"
    patents = pd.concat(
        [
            pd.read_csv(folder / "neural_network_patent_query.csv").assign(label="nn"),
            pd.read_csv(folder / "baseball_patent_query.csv").assign(label="baseball"),
        ],
        ignore_index=True,
    )
    n = len(patents)
    sampled = np.random.default_rng(0).choice(n, min(patent_queries, n), replace=False)
    return [
        LabelledSet("nih", full, institutes, list(range(len(full))), 5),
        LabelledSet("nih-titles", titles.tolist(), institutes, list(range(len(titles))), 5),
        LabelledSet(
            "patents",
            patents["patent_title"].fillna("").astype(str).tolist(),
            patents["label"].to_numpy(dtype=str),
            sampled.tolist(),
            10,
        ),
    ]


def one_kind_layer(
    texts: Sequence[str], vectors: np.ndarray, settings: Settings, embedder: Embedder
) -> SemanticLayer:
    """A layer whose ``commissions`` are ``texts`` (keys 0..n-1) with ``vectors``
    (``embedder``'s, which the layer keeps for its model-id check)."""
    keys = list(range(len(texts)))
    docs = DocStore([Doc(i, t, t[:60], "") for i, t in zip(keys, texts, strict=True)])
    return SemanticLayer(
        settings,
        {"commissions": docs},
        {"commissions": VectorIndex.build(keys, vectors, kind="exact")},
        {"commissions": LexicalIndex.build(keys, list(texts))},
        model_id=embedder.model_id,
        embedder=embedder,
    )


def label_precision(
    layer: SemanticLayer, vectors: np.ndarray, labelled: LabelledSet
) -> dict[str, float]:
    """Mean label precision@k of ``dense``, ``lexical``, ``fused`` (the layer's fusion)
    and ``rrf`` (reciprocal rank fusion), each record a query with itself excluded."""
    found: dict[str, list[float]] = {"dense": [], "lexical": [], "fused": [], "rrf": []}
    labels, k = labelled.labels, labelled.k
    fusion = layer.fusion
    try:
        for q in labelled.queries:
            vec, text = vectors[q : q + 1], labelled.texts[q]
            runs = {
                "dense": ("weighted", None, vec),
                "lexical": ("weighted", text, None),
                "fused": (fusion, text, vec),
                "rrf": ("rrf", text, vec),
            }
            for name, (how, query_text, query_vec) in runs.items():
                layer.fusion = how  # type: ignore[assignment]
                hits = layer._hybrid(
                    "commissions", k, text=query_text, vector=query_vec, exclude={q}
                )
                keys = [cast(int, key) for key, _, _ in hits]  # the texts' positions
                share = np.mean([labels[key] == labels[q] for key in keys]) if keys else 0.0
                found[name].append(float(share))
    finally:
        layer.fusion = fusion
    return {name: float(np.mean(v)) for name, v in found.items()}
