"""The value model's trainer on real data: UCI Bank Marketing, 5-fold AUC without ``duration``.

Run: ``.venv/bin/python benchmarks/bench_bank_marketing.py [path/to/bank-additional-full.csv]``.
Moro et al. (2014) report AUC 0.80 for their best model; this prints ours.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.bank_marketing import cross_validate, load_bank_marketing  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "realdata" / "bank_marketing" / "bank-additional-full.csv"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        print(f"bank marketing data not found at {path}")
        return 1
    t0 = time.perf_counter()
    X, y = load_bank_marketing(path)
    result = cross_validate(X, y, folds=5)
    m = result["mean"]
    print(f"bank marketing ({len(y)} contacts, {y.mean():.2%} positive, without duration)")
    print(
        f"5-fold: AUC {m['auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  "
        f"Brier {m['brier']:.4f}  lift@10% {m['lift@10%']:.2f}"
    )
    print("per-fold AUC: " + ", ".join(f"{f['auc']:.4f}" for f in result["per_fold"]))
    print(f"published reference (Moro et al. 2014): AUC 0.80; took {time.perf_counter() - t0:.0f}s")
    print(json.dumps({"bank_marketing_5fold": m}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
