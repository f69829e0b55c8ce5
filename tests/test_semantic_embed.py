"""Index builds embed every kind's texts longest first, in chunks, in input order."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pytest

from recsvc.config import Settings
from recsvc.semantic import KINDS, FakeEmbedder, build_semantic
from recsvc.semantic.embedders import encode_by_length
from recsvc.semantic.sample import sample_frames


class _Recording(FakeEmbedder):
    """Remembers the texts of every ``encode`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        return super().encode(texts, progress=progress)


def test_sorted_chunks_come_back_in_input_order() -> None:
    rng = np.random.default_rng(3)
    words = ["graphene", "vaccine", "污水", "battery", "swine", "coating", "MBR", "处理"]
    texts = [" ".join(rng.choice(words, rng.integers(1, 30))) for _ in range(50)]
    emb = _Recording()
    out = encode_by_length(emb, texts, chunk=7)
    np.testing.assert_allclose(out, FakeEmbedder().encode(texts), atol=1e-5)
    assert [len(c) for c in emb.calls] == [7] * 7 + [1]
    lengths = [len(t) for call in emb.calls for t in call]
    assert lengths == sorted(lengths, reverse=True)  # longest first, across chunks
    assert encode_by_length(emb, [], chunk=7).shape == (0, emb.dim)


def test_a_long_embedding_logs_one_line_per_chunk(caplog: pytest.LogCaptureFixture) -> None:
    """Without a terminal a progress bar shows nothing: each chunk done is a log line."""
    texts = [f"text {i}" for i in range(20)]
    with caplog.at_level(logging.INFO, logger="recsvc.semantic.embedders"):
        encode_by_length(FakeEmbedder(), texts, chunk=8)
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(" texts")[0] for line in lines] == [
        "embedded 8 of 20",
        "embedded 16 of 20",
        "embedded 20 of 20",
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="recsvc.semantic.embedders"):
        encode_by_length(FakeEmbedder(), texts[:5], chunk=8)  # one chunk: nothing to say
    assert not caplog.records


def test_a_build_embeds_all_kinds_by_length_and_each_vector_is_its_texts(
    settings: Settings,
) -> None:
    emb = _Recording()
    layer = build_semantic(sample_frames(), settings, emb, cache=False)
    assert len(emb.calls) == 1  # one sorted pass over every kind (a small store: one chunk)
    lengths = [len(t) for t in emb.calls[0]]
    assert lengths == sorted(lengths, reverse=True)
    plain = FakeEmbedder()
    for kind in KINDS:
        keys = list(layer.docs[kind])
        texts = [layer.docs[kind][k].text for k in keys]
        np.testing.assert_allclose(
            layer.dense[kind].vectors(keys), plain.encode(texts), atol=1e-5, err_msg=kind
        )
