"""Which past case does an offer's similar-case sentence cite, and is it on topic?

Opens the store's active version as a server does and recommends for a sample of
clients (librarian surface, five offers). For each offer with a trigger commission
(the client's project closest to the product) it compares two ways of finding the
offered product's most similar past case of another client:

* ``text space``: what explanations cite (:mod:`recsvc.recommend.case_search`): the
  case base's cases in the explainer's fused text space, the same similarity that
  chose the trigger (shown here without its floor ``MIN_CASE_SIM``, then per floor);
* ``hybrid search``: the semantic layer's search (BM25 and dense) over every case's
  anonymised summary, 30 hits filtered to the product (what explanations cited until
  2026-12-08).

A cited case is on topic when its commission has the trigger's subject area
(``subject_area``, the demo generator's field of study) or, more loosely, its industry
type. Prints, for each way, how many offers got a case, the share on topic, and the
time to find the sample's cases; and how often the two cite the same case.

Usage::

    RECSVC_DATA_DIR=... RECSVC_MODELS_DIR=... .venv/bin/python benchmarks/check_case_sentences.py
    .venv/bin/python benchmarks/check_case_sentences.py --store /work/bt/clients_10000 --fake
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _settings(store: Path | None) -> Any:
    from recsvc.config import Settings

    if store is None:
        return Settings()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_train import bench_settings  # a store bench_train.py prepared

    return bench_settings(store)


def _first_of(
    hits: list[tuple[str, float]], docs: Any, code: str, owner: int
) -> tuple[str, int, float] | None:
    """The first hit that is another client's case of ``code``: (key, its commission,
    score)."""
    for key, score in hits:
        doc = docs[key]
        if doc.meta.get("product_code") == code and doc.client_id != owner:
            return key, int(doc.meta["commission_id"]), float(score)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, help="a folder bench_train.py prepared (else settings)")
    ap.add_argument("--fake", action="store_true", help="the fake embedder (bench stores)")
    ap.add_argument("--sample", type=int, default=500, help="clients to recommend for")
    args = ap.parse_args()

    from recsvc.recommend.case_search import MIN_CASE_SIM, closest_cases
    from recsvc.semantic import FakeEmbedder
    from recsvc.store.enums import Surface
    from recsvc.usecases import open_runtime

    settings = _settings(args.store)
    runtime = open_runtime(settings, embedder=FakeEmbedder() if args.fake else None)
    bundle = runtime.require_bundle()
    rec, layer = bundle.recommender, bundle.recommender.explainer.semantic
    if layer is None:
        print("the version has no semantic layer: no similar cases to compare")
        return 1
    clients = rec.context.clients.index.to_numpy()
    ids = [int(c) for c in clients[:: max(1, len(clients) // args.sample)][: args.sample]]
    offers = rec.recommend_many(ids, Surface.LIBRARIAN, 5, live=False)
    explainer = rec.explainer
    pairs: list[tuple[int, str, int]] = []  # client, product, trigger
    for cid, recs in offers.items():
        for r in recs:
            own = explainer.finder.dated_own_projects(cid, r.code, k=1)
            trigger = explainer._trigger(own)
            if trigger is not None:
                pairs.append((cid, r.code, trigger))
    owner_of = {t: c for c, _, t in pairs}
    triggers = list(owner_of)
    docs = layer.docs["cases"]

    cases = explainer.lookups.case_base
    if cases is None:
        print("the version has no past cases: nothing to compare")
        return 1
    t0 = time.perf_counter()
    citable = np.fromiter((k in docs for k in cases.case_ids), bool, len(cases.case_ids))
    closest = closest_cases(  # every case found, to show what MIN_CASE_SIM leaves out
        rec.context.text,
        cases,
        np.array(triggers, dtype=np.int64),
        np.array([owner_of[t] for t in triggers]),
        citable,
        floor=0.0,
    )
    text_s = time.perf_counter() - t0
    text_space = dict(zip(triggers, closest, strict=True))
    t0 = time.perf_counter()
    hybrid = layer.similar_case_keys_many(triggers, 30)
    hybrid_s = time.perf_counter() - t0

    with runtime.db.engine.connect() as conn:
        comm = pd.read_sql(
            "SELECT id, subject_area, industry_type FROM commissions", conn, index_col="id"
        )
    subject, industry = comm["subject_area"].to_dict(), comm["industry_type"].to_dict()

    rows = []
    for cid, code, trigger in pairs:
        a = _first_of(text_space.get(trigger, []), docs, code, cid)
        b = _first_of(hybrid.get(trigger, []), docs, code, cid)
        rows.append((trigger, a, b))

    def report(name: str, index: int, seconds: float) -> None:
        cited = [(t, r[index - 1]) for t, *r in rows if r[index - 1] is not None]
        same_subject = sum(subject.get(t) == subject.get(c) for t, (_, c, _) in cited)
        same_industry = sum(industry.get(t) == industry.get(c) for t, (_, c, _) in cited)
        n = max(len(cited), 1)
        print(
            f"  {name:<15}{len(cited):>6} of {len(rows)} offers cite a case;"
            f" same subject area {100 * same_subject / n:5.1f} %,"
            f" same industry type {100 * same_industry / n:5.1f} %;"
            f" {len(triggers):,} triggers in {seconds:.2f} s"
        )

    print(
        f"{bundle.version}: {len(ids)} clients, {len(pairs)} offers with a trigger"
        f" ({len(triggers)} distinct triggers)"
    )
    report("text space", 1, text_s)
    report("hybrid search", 2, hybrid_s)
    cited = [(t, a) for t, a, _ in rows if a is not None]
    for floor in sorted({0.3, MIN_CASE_SIM, 0.5, 0.6, 0.7}):
        above = [subject.get(t) == subject.get(a[1]) for t, a in cited if a[2] >= floor]
        print(
            f"  text space, similarity >= {floor}: {len(above)} offers,"
            f" same subject area {100 * sum(above) / max(len(above), 1):.1f} %"
            + ("  (MIN_CASE_SIM: what explanations cite)" if floor == MIN_CASE_SIM else "")
        )
    both = [(t, a, b) for t, a, b in rows if a is not None and b is not None]
    agree = sum(a[0] == b[0] for _, a, b in both)
    on_topic = [
        100
        * sum(subject.get(t) == subject.get(cited[side][1]) for t, *cited in both)
        / max(len(both), 1)
        for side in (0, 1)
    ]
    print(
        f"  where both cite a case ({len(both)} offers): the same case for {agree};"
        f" same subject area {on_topic[0]:.1f} % (text space)"
        f" against {on_topic[1]:.1f} % (hybrid search)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
