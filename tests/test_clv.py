"""BG/NBD + Gamma-Gamma: published CDNOW estimates, simulated recovery, Monte Carlo.

The CDNOW summary (``tests/data/cdnow_summary.csv``, see ``tests/data/README.md``) lets
one test reproduce the published estimates of Fader, Hardie & Lee (2005). The others
check that fitting recovers known parameters from data simulated from the BG/NBD story,
and that the closed forms agree with simulation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsvc.value.clv import (
    ClvModel,
    clv_summary,
    expected_spend,
    expected_transactions,
    expected_transactions_unconditional,
    p_alive,
)
from training.clv import fit_bgnbd, fit_clv, fit_gamma_gamma, gamma_gamma_loglik, simulate_bgnbd
from training.synthetic import synthetic_frames

# CDNOW-like parameters (FHL 2005), time in weeks
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# a > 1 keeps E[X(t)] finite-form (a-1 in the denominator) for the Monte-Carlo checks
MC = {"r": 0.8, "alpha": 6.0, "a": 1.6, "b": 3.0}


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return simulate_bgnbd(CDNOW, n=4000, T=39.0, seed=11)


def test_fit_recovers_bgnbd_parameters(simulated: pd.DataFrame) -> None:
    est = fit_bgnbd(simulated["x"], simulated["t_x"], simulated["T"])
    assert est["r"] == pytest.approx(CDNOW["r"], rel=0.2)
    assert est["alpha"] == pytest.approx(CDNOW["alpha"], rel=0.3)
    assert est["a"] == pytest.approx(CDNOW["a"], rel=0.35)
    assert est["b"] == pytest.approx(CDNOW["b"], rel=0.45)
    # the population-level prediction is what matters most and is estimated tightly
    truth = expected_transactions_unconditional(CDNOW, 39.0)
    assert expected_transactions_unconditional(est, 39.0) == pytest.approx(truth, rel=0.08)


def test_unconditional_expectation_matches_simulation() -> None:
    sim = simulate_bgnbd(MC, n=6000, T=1e-9, future=26.0, seed=3)
    assert sim["future_x"].mean() == pytest.approx(
        float(expected_transactions_unconditional(MC, 26.0)), rel=0.06
    )


def test_conditional_expectation_and_p_alive_match_simulation() -> None:
    """Tower property: averaged over customers, the conditional predictions equal the
    simulated future counts and alive shares."""
    sim = simulate_bgnbd(MC, n=6000, T=30.0, future=20.0, seed=5)
    pred = expected_transactions(MC, 20.0, sim["x"], sim["t_x"], sim["T"])
    alive = p_alive(MC, sim["x"], sim["t_x"], sim["T"])
    assert pred.mean() == pytest.approx(sim["future_x"].mean(), rel=0.06)
    assert alive.mean() == pytest.approx(sim["alive_at_T"].mean(), abs=0.02)
    # and per group of similar histories, not just on average
    for lo, hi in [(0, 0), (1, 2), (3, 100)]:
        g = sim["x"].between(lo, hi)
        assert pred[g].mean() == pytest.approx(sim.loc[g, "future_x"].mean(), rel=0.15)


def test_gamma_gamma_recovers_parameters() -> None:
    rng = np.random.default_rng(0)
    p, q, v = 6.25, 3.74, 15.44
    n = 12000
    x = rng.integers(1, 10, size=n)
    nu = rng.gamma(q, 1 / v, size=n)
    m = np.array([rng.gamma(p, 1 / nu_i, size=k).mean() for nu_i, k in zip(nu, x, strict=True)])
    est = fit_gamma_gamma(x, m)
    # p trades off against v/q (a flat ridge), so check the MLE property, the
    # well-identified population mean spend p v / (q - 1), and each parameter loosely
    fitted = gamma_gamma_loglik([est["p"], est["q"], est["v"]], x, m).sum()
    assert fitted >= gamma_gamma_loglik([p, q, v], x, m).sum()
    assert est["p"] * est["v"] / (est["q"] - 1) == pytest.approx(p * v / (q - 1), rel=0.03)
    assert est["p"] == pytest.approx(p, rel=0.3)
    assert est["q"] == pytest.approx(q, rel=0.2)
    assert est["v"] == pytest.approx(v, rel=0.3)
    # E[M | x, m] shrinks the observed mean towards the population mean p v / (q - 1)
    pop = p * v / (q - 1)
    cond = expected_spend(est, np.array([1, 50]), np.array([3 * pop, 3 * pop]))
    assert pop < cond[0] < cond[1] < 3 * pop


def test_p_alive_edges() -> None:
    assert p_alive(CDNOW, 0, 0, 30) == pytest.approx(1.0)
    recent = p_alive(CDNOW, 5, 29, 30)
    stale = p_alive(CDNOW, 5, 2, 30)
    assert stale < recent <= 1.0


def test_clv_model_on_frames_roundtrip(tmp_path) -> None:
    frames = synthetic_frames(300, seed=2)
    cutoff = pd.Timestamp("2024-01-01")
    summary = clv_summary(frames, cutoff)
    assert (summary["t_x"] <= summary["T"]).all() and (summary["x"] >= 0).all()
    model = fit_clv(frames, cutoff, 52.18)
    pred = model.predict(summary.index)
    assert list(pred.columns) == ["expected_commissions_12m", "expected_value_12m", "p_alive"]
    assert pred["p_alive"].between(0, 1).all() and (pred["expected_commissions_12m"] >= 0).all()
    loaded = ClvModel.load(model.save(tmp_path / "clv"))
    pd.testing.assert_frame_equal(loaded.predict(summary.index), pred, check_exact=False, rtol=1e-4)
    assert loaded.predict([10**9]).isna().all(axis=None)


CDNOW_SUMMARY = Path(__file__).parent / "data" / "cdnow_summary.csv"


def test_reproduces_published_cdnow_estimates() -> None:
    """Fader, Hardie & Lee (2005): r=0.243, alpha=4.414, a=0.793, b=2.426 (LL -9582.4);
    Gamma-Gamma on the 946 repeat buyers: p=6.25, q=3.74, v=15.44."""
    d = pd.read_csv(CDNOW_SUMMARY)
    bg = fit_bgnbd(d["x"], d["t_x"], d["T"])
    for name, value in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert bg[name] == pytest.approx(value, rel=0.005), name
    repeat = d[d["x"] > 0]
    gg = fit_gamma_gamma(repeat["x"], repeat["zbar"])
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert gg[name] == pytest.approx(value, rel=0.005), name
