"""Embedding throughput: recsvc's pipeline vs raw ``SentenceTransformer.encode``.

The pipeline is :class:`CachedEmbedder` over :class:`SentenceTransformerEmbedder`
with an empty cache (so it hashes, encodes, normalises and writes every text); raw is
``model.encode(..., normalize_embeddings=True)`` on the same model object, texts and
batch size. Runs alternate (raw, pipeline, raw, pipeline …) so both share the
machine's noise; the best run of each counts. A warm-cache re-run is shown too.

Optionally (``--onnx``) the same model through sentence-transformers' ONNX backend
(exported locally from the packaged weights, never downloaded), if ``optimum`` and
``onnxruntime`` are installed: speed ratio and top-10 neighbour overlap.

With ``--build``: an index build's mix instead — short titles, medium titles + terms
and long abstracts as three "kinds" — embedded one kind per call (how builds embedded
before) and in one longest-first pass over all of them (``encode_by_length``, how
they embed now), on all cores.

With ``--static``: the static model distilled from the packaged one (model2vec,
offline) next to the transformer on the real labelled sets of
:mod:`recsvc.semantic.evaluation` (NIH grants, NIH titles, patent titles): speed of an
index build's encoding (longest first, all cores) and label precision@k of each
channel and of the fused search.

Usage:
    .venv/bin/python benchmarks/bench_embed.py --n 512 --repeats 2 --onnx
    .venv/bin/python benchmarks/bench_embed.py --build --n 300 --repeats 2
    .venv/bin/python benchmarks/bench_embed.py --static [--static-dir data/static-model]

Texts: NIH grant titles + project terms from ../shared/realdata when present (short,
technical, like commission titles + keywords), otherwise synthetic ones.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from recsvc.semantic import CachedEmbedder, SentenceTransformerEmbedder
from recsvc.semantic.embedders import encode_by_length, resolve_model_path

NIH = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "realdata"
    / "nih_sample_2014"
    / "nih_sample.csv"
)


def texts(n: int) -> list[str]:
    """``n`` distinct short technical texts."""
    base: list[str] = []
    if NIH.exists():
        import pandas as pd

        df = pd.read_csv(NIH)
        for title, terms in zip(
            df["PROJECT_TITLE"].fillna(""), df["PROJECT_TERMS"].fillna(""), strict=True
        ):
            words = [t.strip() for t in str(terms).split(";") if t.strip()]
            for i in range(0, max(len(words), 1), 6):
                base.append(f"{title}. {'; '.join(words[i : i + 6])}")
    else:
        base = [
            f"novelty search project {i} on topic {i % 37} with method {i % 11}" for i in range(n)
        ]
    return [f"{base[i % len(base)]} ({i})" for i in range(n)]


def build_kinds(n: int) -> list[list[str]]:
    """Three kinds of ``n`` texts each, of very different lengths (NIH grants)."""
    import pandas as pd

    df = pd.read_csv(NIH)
    title = df["PROJECT_TITLE"].fillna("").tolist()
    terms = df["PROJECT_TERMS"].fillna("").str.slice(0, 300).tolist()
    abstract = df["ABSTRACT_TEXT"].fillna("").tolist()
    pick = [i % len(df) for i in range(n)]
    return [
        [f"{title[i]} ({j})" for j, i in enumerate(pick)],
        [f"{title[i]}. {terms[i]} ({j})" for j, i in enumerate(pick)],
        [f"{abstract[i]} ({j})" for j, i in enumerate(pick)],
    ]


def bench_build(emb: SentenceTransformerEmbedder, n: int, repeats: int) -> None:
    """Per-kind encoding vs one longest-first pass over every kind."""
    kinds = build_kinds(n)
    flat = [t for kind in kinds for t in kind]
    per_kind_times, sorted_times = [], []
    for _ in range(repeats):
        t_kind, per_kind = timed(lambda: np.concatenate([emb.encode(k) for k in kinds]))
        t_sorted, by_length = timed(lambda: encode_by_length(emb, flat))
        per_kind_times.append(t_kind)
        sorted_times.append(t_sorted)
        print(f"  per kind {t_kind:.1f}s   longest first over all kinds {t_sorted:.1f}s")
    np.testing.assert_allclose(by_length, per_kind, atol=1e-5)
    best_kind, best_sorted = min(per_kind_times), min(sorted_times)
    print(f"per kind (before):      {len(flat) / best_kind:.1f} texts/s")
    print(f"longest first (now):    {len(flat) / best_sorted:.1f} texts/s")
    print(f"speed-up:               {best_kind / best_sorted:.2f}x")


def bench_static(static_dir: str | None, repeats: int) -> None:
    """Transformer vs static model: encoding speed and label precision on real sets."""
    from recsvc.config import Settings
    from recsvc.semantic import StaticEmbedder, distill_static
    from recsvc.semantic.evaluation import label_precision, one_kind_layer, real_sets

    realdata = NIH.parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        if static_dir is None:
            t, _ = timed(lambda: distill_static(settings))
            print(f"distilled the static model in {t:.1f}s")
        folder = Path(static_dir) if static_dir else settings.static_model_dir
        assert folder is not None
        models = {
            "transformer": SentenceTransformerEmbedder(threads=1),
            "static": StaticEmbedder(folder, base_model=settings.embedding_model),
        }
        for name, emb in models.items():
            emb.encode(["warm up"] * 8)
            print(f"{name}: {emb.model_id}, dim {emb.dim}")
        speed: dict[str, dict[str, float]] = {}
        quality: dict[str, dict[str, dict[str, float]]] = {}
        for labelled in real_sets(realdata):
            for name, emb in models.items():
                times = []
                for _ in range(repeats):
                    t, vectors = timed(lambda e=emb, x=labelled.texts: encode_by_length(e, x))
                    times.append(t)
                label = f"{labelled.name} ({len(labelled.texts)})"
                speed.setdefault(label, {})[name] = len(labelled.texts) / min(times)
                layer = one_kind_layer(labelled.texts, vectors, settings, emb)
                quality.setdefault(labelled.name, {})[name] = label_precision(
                    layer, vectors, labelled
                )
                print(f"  {labelled.name} {name}: {quality[labelled.name][name]}", flush=True)
        abstracts = patent_abstracts(realdata, 1000)
        one_thread = StaticEmbedder(folder, bulk_threads=1)
        for name, emb in {**models, "static, one thread": one_thread}.items():
            t = min(timed(lambda e=emb: encode_by_length(e, abstracts))[0] for _ in range(repeats))
            speed.setdefault("patent abstracts (1000)", {})[name] = len(abstracts) / t
    one = speed["patent abstracts (1000)"].pop("static, one thread")
    print(f"static model on one thread: {one:.0f} texts/s of patent abstracts")
    print("\n| texts | transformer texts/s | static texts/s | speed-up |")
    print("|---|---|---|---|")
    for name, s in speed.items():
        print(
            f"| {name} | {s['transformer']:.0f} | {s['static']:.0f} | "
            f"{s['static'] / s['transformer']:.0f}x |"
        )
    print("\nlabel precision@k (each record a query, itself excluded):\n")
    print(
        "| set | lexical | dense transformer | dense static | fused transformer "
        "| fused static | RRF transformer | RRF static |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, q in quality.items():
        tr, st = q["transformer"], q["static"]
        print(
            f"| {name} | {tr['lexical']:.4f} | {tr['dense']:.4f} | {st['dense']:.4f} | "
            f"{tr['fused']:.4f} | {st['fused']:.4f} | {tr['rrf']:.4f} | {st['rrf']:.4f} |"
        )


def patent_abstracts(realdata: Path, n: int) -> list[str]:
    """The first ``n`` "neural network" patent abstracts: long technical texts."""
    import pandas as pd

    path = realdata / "patentsview_nn_abstracts" / "neural_network_patent_query.csv"
    return pd.read_csv(path)["patent_abstract"].fillna("").astype(str).head(n).tolist()


def timed(fn) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=512, help="number of texts")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--onnx", action="store_true", help="also try the ONNX backend")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: default)")
    ap.add_argument("--build", action="store_true", help="an index build's mix of kinds")
    ap.add_argument("--static", action="store_true", help="transformer vs static model")
    ap.add_argument("--static-dir", default=None, help="a distilled model (default: distil)")
    args = ap.parse_args()
    if args.static:
        bench_static(args.static_dir, args.repeats)
        return
    if args.build:
        emb = SentenceTransformerEmbedder(batch_size=args.batch_size, threads=args.threads)
        print(f"model {emb.model_id}, 3 kinds x {args.n} texts, bulk threads {emb.bulk_threads}")
        emb.encode(["warm up"] * 8)
        bench_build(emb, args.n, args.repeats)
        return

    data = texts(args.n)
    emb = SentenceTransformerEmbedder(batch_size=args.batch_size, threads=args.threads)
    model = emb.model
    import torch

    print(
        f"model {emb.model_id}, {len(data)} texts, batch {args.batch_size}, "
        f"torch threads {torch.get_num_threads()}"
    )
    emb.encode(data[:32])  # warm up
    raw_times, pipe_times = [], []
    for _ in range(args.repeats):
        t_raw, raw = timed(
            lambda: model.encode(data, batch_size=args.batch_size, normalize_embeddings=True)
        )
        with tempfile.TemporaryDirectory() as tmp:
            cached = CachedEmbedder(emb, tmp)
            t_pipe, ours = timed(lambda c=cached: c.encode(data))
            t_warm, _ = timed(lambda c=cached: c.encode(data))
        raw_times.append(t_raw)
        pipe_times.append(t_pipe)
        print(
            f"  raw {t_raw:.1f}s   pipeline (cold cache) {t_pipe:.1f}s   "
            f"warm cache {t_warm * 1000:.1f}ms"
        )
    np.testing.assert_allclose(ours, raw, atol=1e-5)
    best_raw, best_pipe = min(raw_times), min(pipe_times)
    print(f"raw SentenceTransformer.encode: {len(data) / best_raw:.1f} texts/s")
    print(f"recsvc pipeline (cold cache):   {len(data) / best_pipe:.1f} texts/s")
    print(f"throughput ratio pipeline/raw:  {best_raw / best_pipe:.3f}  (target >= 0.9)")
    if args.onnx:
        onnx(emb, data, raw, args.batch_size, best_raw)


def onnx(
    emb: SentenceTransformerEmbedder, data: list[str], ref: np.ndarray, bs: int, t_ref: float
) -> None:
    """The ONNX backend, exported locally from the packaged weights, if it can run offline."""
    folder = resolve_model_path(emb.name)
    work = Path(tempfile.mkdtemp()) / "model"  # the export writes onnx/: never into the package
    shutil.copytree(folder, work)
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(work), backend="onnx", local_files_only=True)
    except Exception as exc:  # optimum / onnxruntime missing or incompatible, or no export
        print(f"ONNX backend unavailable offline: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return
    model.encode(data[:32])
    t, vecs = timed(lambda: model.encode(data, batch_size=bs, normalize_embeddings=True))
    sims_ref, sims = ref @ ref.T, vecs @ vecs.T
    top_ref, top = np.argsort(-sims_ref, 1)[:, 1:11], np.argsort(-sims, 1)[:, 1:11]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_ref, top, strict=True)])
    print(
        f"ONNX backend: {len(data) / t:.1f} texts/s, speed ratio vs torch {t_ref / t:.2f}x, "
        f"top-10 overlap {overlap:.3f}"
    )


if __name__ == "__main__":
    main()
