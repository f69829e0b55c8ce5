"""Hybrid fusion on real text with the packaged model: never worse than the better channel.

Two labelled sets from ../shared/realdata, each record used as a query the way
``similar_commissions`` uses a stored commission (its vector in the dense channel, its
text in the lexical one, itself excluded):

- NIH 2014 grants (100, title + abstract): do the top 5 share the funding institute
  (``IC_NAME``)? (field precision@5)
- PatentsView titles (3,522 "neural network" + 2,664 "baseball" patents; 1,000 sampled
  queries): are the top 10 from the query's own set? (retrieval precision@10)

The fusion weights were chosen on the patents and checked on NIH (docs/semantic.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsvc.config import Settings
from recsvc.semantic import (
    CachedEmbedder,
    Doc,
    LexicalIndex,
    SemanticLayer,
    SentenceTransformerEmbedder,
    VectorIndex,
)
from recsvc.semantic.docstore import DocStore

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

TOLERANCE = 0.01  # a hair of precision, e.g. 5 of 500 NIH hits


@pytest.fixture(scope="module")
def real_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(threads=Settings().embedding_threads)


def _layer(
    texts: Sequence[str], settings: Settings, embedder: SentenceTransformerEmbedder
) -> tuple[SemanticLayer, np.ndarray]:
    """A layer whose ``commissions`` are ``texts`` (keys 0..n-1), and their vectors."""
    emb = CachedEmbedder(embedder, settings.cache_dir)
    vectors = emb.encode(list(texts))
    keys = list(range(len(texts)))
    docs = DocStore([Doc(i, t, t[:60], "") for i, t in zip(keys, texts, strict=True)])
    layer = SemanticLayer(
        settings,
        {"commissions": docs},
        {"commissions": VectorIndex.build(keys, vectors, kind="exact")},
        {"commissions": LexicalIndex.build(keys, list(texts))},
        model_id=emb.model_id,
        embedder=emb,
    )
    return layer, vectors


def _precision(
    layer: SemanticLayer,
    vectors: np.ndarray,
    texts: Sequence[str],
    labels: np.ndarray,
    queries: Sequence[int],
    k: int,
) -> dict[str, float]:
    """Mean precision@k of each channel alone, reciprocal rank fusion and the default."""
    found: dict[str, list[float]] = {"dense": [], "lexical": [], "rrf": [], "fused": []}
    for q in queries:
        vec, text = vectors[q : q + 1], texts[q]
        runs = {
            "dense": dict(text=None, vector=vec),
            "lexical": dict(text=text, vector=None),
            "fused": dict(text=text, vector=vec),
        }
        for name, query in runs.items():
            hits = layer._hybrid("commissions", k, exclude={q}, **query)  # type: ignore[arg-type]
            found[name].append(np.mean([labels[h[0]] == labels[q] for h in hits]) if hits else 0)
        layer.fusion = "rrf"
        hits = layer._hybrid("commissions", k, text=text, vector=vec, exclude={q})
        found["rrf"].append(np.mean([labels[h[0]] == labels[q] for h in hits]) if hits else 0)
        del layer.fusion  # back to the class default
    return {name: float(np.mean(v)) for name, v in found.items()}


def _check(name: str, p: dict[str, float]) -> None:
    print(f"\n{name}: " + "  ".join(f"{n} {v:.4f}" for n, v in p.items()))
    assert SemanticLayer.fusion == "weighted"
    assert p["fused"] >= max(p["dense"], p["lexical"]) - TOLERANCE, p
    assert p["fused"] >= p["rrf"], p  # the reason for leaving reciprocal rank fusion


def test_fusion_on_nih_grants_shares_the_institute_as_well_as_the_best_channel(
    realdata: Path, real_embedder: SentenceTransformerEmbedder, settings: Settings
) -> None:
    df = pd.read_csv(realdata / "nih_sample_2014" / "nih_sample.csv")
    texts = (df["PROJECT_TITLE"].fillna("") + ". " + df["ABSTRACT_TEXT"].fillna("")).tolist()
    labels = df["IC_NAME"].to_numpy(dtype=str)
    layer, vectors = _layer(texts, settings, real_embedder)
    _check("NIH P@5", _precision(layer, vectors, texts, labels, range(len(texts)), k=5))


def test_fusion_on_patent_titles_retrieves_as_well_as_the_best_channel(
    realdata: Path, real_embedder: SentenceTransformerEmbedder, settings: Settings
) -> None:
    folder = realdata / "patentsview_nn_abstracts"
    nn = pd.read_csv(folder / "neural_network_patent_query.csv").assign(label="nn")
    bb = pd.read_csv(folder / "baseball_patent_query.csv").assign(label="baseball")
    patents = pd.concat([nn, bb], ignore_index=True)
    texts = patents["patent_title"].fillna("").tolist()
    labels = patents["label"].to_numpy(dtype=str)
    layer, vectors = _layer(texts, settings, real_embedder)
    queries = np.random.default_rng(0).choice(len(texts), 1000, replace=False).tolist()
    _check("patents P@10", _precision(layer, vectors, texts, labels, queries, k=10))
