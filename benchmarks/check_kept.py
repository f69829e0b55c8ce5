"""Do a version's kept explanation inputs give the answers computing them would?

Loads a store that ``bench_api.py`` prepared (``--workdir``/c<clients>) as a server
worker would, then recommends for clients spread over the whole store on every surface
twice: with the similar-case hits and model contributions the portal lists kept
(``kept/cases/``, ``kept/contributions/``), and with both dropped, so that every
search and TreeSHAP runs. Prints how many lists are identical; exits 1 if any differs.

Usage::

    .venv/bin/python benchmarks/check_kept.py --clients 100000 --sample 300
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=5000, help="the prepared store's size")
    ap.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench-api")
    ap.add_argument("--sample", type=int, default=300, help="clients to compare")
    args = ap.parse_args()

    import bench_api

    from recsvc.config import Settings
    from recsvc.semantic import FakeEmbedder
    from recsvc.store.enums import Surface
    from recsvc.usecases import open_runtime

    base = args.workdir / f"c{args.clients}"
    settings = Settings(**bench_api._settings_values(base))  # type: ignore[arg-type]
    bundle = open_runtime(settings, embedder=FakeEmbedder()).require_bundle()
    rec = bundle.recommender
    if rec.explainer.case_table is None or rec.contributions.table is None:
        print(f"{bundle.version} keeps no case hits or contributions: nothing to compare")
        return 1
    ids = sorted(bundle.portal_recs)
    ids = ids[:: max(1, len(ids) // args.sample)][: args.sample]

    def lists() -> dict[tuple[str, int], list[dict[str, Any]]]:
        return {
            (str(s), c): [r.model_dump() for r in rec.recommend_many([c], s, live=False)[c]]
            for s in Surface
            for c in ids
        }

    kept = lists()
    rec.explainer.case_table = rec.contributions.table = None
    computed = lists()
    same = sum(kept[key] == computed[key] for key in kept)
    print(
        f"{bundle.version}: {same} of {len(kept)} lists identical "
        f"({len(ids)} clients x {len(Surface)} surfaces)"
    )
    return 0 if same == len(kept) else 1


if __name__ == "__main__":
    raise SystemExit(main())
