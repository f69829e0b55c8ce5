"""The value trainer on real data (UCI Bank Marketing without ``duration``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.bank_marketing import cross_validate, load_bank_marketing


@pytest.mark.slow
@pytest.mark.realdata
def test_bank_marketing_5fold_auc(realdata: Path) -> None:
    X, y = load_bank_marketing(realdata / "bank_marketing" / "bank-additional-full.csv")
    assert "duration" not in X.columns and len(y) == 41188
    result = cross_validate(X, y, folds=5)
    print(f"bank marketing 5-fold AUC {result['mean']['auc']:.4f}")
    assert result["mean"]["auc"] >= 0.80  # Moro et al. (2014) report 0.80
