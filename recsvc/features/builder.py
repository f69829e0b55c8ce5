"""Point-in-time client features: everything is computed from ``frames.as_of(cutoff)``.

Vectorised pandas only (group-bys and joins, no per-client Python loop), so 100k
clients are a matter of seconds. Columns are documented in :mod:`recsvc.features.docs`.
The R&D attributes (talent, patents, honours) are profile fields without a history in
the store: they are taken as recorded, which is the one place the "as of" view relies
on the profile being re-analysed periodically (seed 000).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recsvc.features.stage import DORMANT_MONTHS, relationship_stage
from recsvc.features.vectors import commission_vectors
from recsvc.store.enums import RESPONSE_TARGET_HOURS, ClientKind, InteractionKind, Purpose
from recsvc.store.frames import Frames

DAYS_PER_MONTH = 30.4375
PURCHASED = ("paid", "delivered")
HALF_LIFE_MONTHS = 12.0
"""Half-life of the decayed (exponentially weighted) counts."""
SEVERITY_BURDEN = {"general": 0.5, "serious": 1.0, "critical": 1.5}
PERSONAL_TOUCH = ("visit", "training", "meeting")
"""Interaction kinds that count fully in the decayed contact intensity (others 0.3)."""


def _decay(months: pd.Series) -> pd.Series:
    return 0.5 ** (months / HALF_LIFE_MONTHS)


def _decayed_activity(cl: pd.DataFrame, f: Frames, cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    """Exponentially decayed counts (half-life 12 months): recent bursts weigh most."""
    cm = f.commissions
    w = _decay(_months(cutoff, cm["commissioned_on"]))
    cid = cm["client_id"]
    field = cm["industry_type"].fillna("unknown").astype(str)
    home = cid.map(cl["industry_field"].fillna("unknown").astype(str))
    purpose = cm["purpose"].astype(str)
    dev = purpose.isin(["product_development", "market_entry"])
    per_field = w.groupby([cid, field]).sum()
    out: dict[str, pd.Series] = {
        "decayed_commissions": w.groupby(cid).sum(),
        "field_intensity_max": per_field.groupby(level=0).max(),
        "home_field_intensity": w[field == home].groupby(cid[field == home]).sum(),
        "decayed_patent": w[purpose == "patent_application"].groupby(cid).sum(),
        "decayed_development": w[dev].groupby(cid[dev]).sum(),
        "decayed_entry": w[dev & (field != home)].groupby(cid[dev & (field != home)]).sum(),
        "decayed_award": w[purpose == "award_application"].groupby(cid).sum(),
    }
    od = f.orders[f.orders["status"].isin(PURCHASED)]
    out["decayed_purchases"] = (
        _decay(_months(cutoff, od["ordered_on"])).groupby(od["client_id"]).sum()
    )
    it = f.interactions
    touch = np.where(it["kind"].astype(str).isin(PERSONAL_TOUCH), 1.0, 0.3)
    out["decayed_contact"] = (
        (touch * _decay(_months(cutoff, it["occurred_on"]))).groupby(it["client_id"]).sum()
    )
    cp = f.complaints
    burden = cp["severity"].astype(str).map(SEVERITY_BURDEN).fillna(0.5)
    out["decayed_complaints"] = (
        (burden * _decay(_months(cutoff, cp["opened_at"]))).groupby(cp["client_id"]).sum()
    )
    fb = f.feedback[f.feedback["overall"].notna()].sort_values("received_on", kind="stable")
    if len(fb):
        # EMA with weight 0.3 on each new score, starting from a neutral 4.0
        back = fb.groupby("client_id").cumcount(ascending=False)
        n = fb.groupby("client_id")["overall"].transform("size")
        part = 0.3 * 0.7**back * fb["overall"]
        ema = (
            part.groupby(fb["client_id"]).sum() + (0.7 ** n.groupby(fb["client_id"]).first()) * 4.0
        )
        out["satisfaction_ema"] = ema
    return out


def _months(cutoff: pd.Timestamp, dates: pd.Series) -> pd.Series:
    return (cutoff - dates).dt.days / DAYS_PER_MONTH


def _counts(rows: pd.Series, cols: pd.Series) -> pd.DataFrame:
    """A cross-tabulation of counts (``pd.crosstab`` runs a Python function per cell group)."""
    if len(rows) == 0:
        return pd.DataFrame()
    return rows.groupby([rows, cols]).size().unstack(fill_value=0)


def _count_split(text: pd.Series) -> pd.Series:
    """Number of items in a ';'/'；'/','/'、' separated text (0 for empty)."""
    s = text.fillna("").astype(str).str.strip()
    n = s.str.count(r"[;；,，、\n]") + 1
    return n.where(s.str.len() > 0, 0).astype(float)


def _rd(cl: pd.DataFrame) -> dict[str, pd.Series]:
    num = {
        c: pd.to_numeric(cl[c], errors="coerce")
        for c in (
            "talent_count",
            "patents_invention",
            "patents_utility",
            "patents_design",
            "patents_in_force",
        )
    }
    total = (
        num["patents_invention"].fillna(0)
        + num["patents_utility"].fillna(0)
        + num["patents_design"].fillna(0)
    )
    honours = _count_split(cl["honours"])
    rd = (
        np.log1p(num["talent_count"].fillna(0))
        + np.log1p(2 * num["patents_invention"].fillna(0) + num["patents_utility"].fillna(0))
        + 0.5 * np.log1p(num["patents_in_force"].fillna(0))
        + 0.5 * np.log1p(honours)
    )
    out = dict(num)
    out.update(
        patents_total=total,
        invention_share=(num["patents_invention"].fillna(0) / total).where(total > 0),
        honours_count=honours,
        rd_strength=rd,
    )
    return out


def _commissions(cm: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    cm = cm.assign(m=_months(cutoff, cm["commissioned_on"]))
    g = cm.groupby("client_id")
    n = g.size().astype(float)
    last, first = g["m"].min(), g["m"].max()
    in12, in24 = cm["m"] < 12, cm["m"] < 24
    prev12 = in24 & ~in12
    n12 = cm[in12].groupby("client_id").size()
    nprev = cm[prev12].groupby("client_id").size()
    fee = pd.to_numeric(cm["fee"], errors="coerce").fillna(0)
    out: dict[str, pd.Series] = {
        "n_commissions": n,
        "n_commissions_12m": n12,
        "n_commissions_24m": cm[in24].groupby("client_id").size(),
        "commission_trend": n12.reindex(n.index, fill_value=0)
        - nprev.reindex(n.index, fill_value=0),
        "months_since_last_commission": last,
        "months_since_first_commission": first,
        "commissions_per_year": n / np.maximum(first / 12, 1.0),
        "mean_gap_months": ((first - last) / (n - 1)).where(n > 1),
        "fee_total": fee.groupby(cm["client_id"]).sum(),
        "fee_12m": fee[in12].groupby(cm.loc[in12, "client_id"]).sum(),
        "fee_mean": fee.groupby(cm["client_id"]).mean(),
        "share_foreign_scope": (cm["search_scope"] == "domestic_and_foreign")
        .groupby(cm["client_id"])
        .mean(),
        "n_subject_areas": g["subject_area"].nunique().astype(float),
        "recognition_mean": g["recognition_score"].mean(),
        "cooperation_mean": g["cooperation_score"].mean(),
    }
    recent = cm[in24]
    out["max_same_subject_24m"] = (
        recent.groupby(["client_id", "subject_area"]).size().groupby(level=0).max()
    )
    purposes = _counts(recent["client_id"], recent["purpose"])
    for p in Purpose:
        col = purposes[p.value] if p.value in purposes.columns else pd.Series(dtype=float)
        out[f"purpose_{p.value}_24m"] = col
    return out


def _orders(od: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    od = od.assign(m=_months(cutoff, od["ordered_on"]))
    bought = od[od["status"].isin(PURCHASED)]
    g = bought.groupby("client_id")
    amount = pd.to_numeric(bought["amount"], errors="coerce").fillna(0)
    return {
        "n_purchases": g.size().astype(float),
        "purchases_24m": bought[bought["m"] < 24].groupby("client_id").size(),
        "months_since_last_purchase": g["m"].min(),
        "n_distinct_products": g["product_code"].nunique().astype(float),
        "spend_value_added": amount.groupby(bought["client_id"]).sum(),
        "n_quotes_12m": od[(od["status"] == "quoted") & (od["m"] < 12)].groupby("client_id").size(),
        "n_cancelled": od[od["status"] == "cancelled"].groupby("client_id").size(),
    }


def _interactions(it: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    it = it.assign(m=_months(cutoff, it["occurred_on"]))
    recent = it[it["m"] < 24]
    kinds = _counts(recent["client_id"], recent["kind"])
    out: dict[str, pd.Series] = {
        "n_interactions_12m": it[it["m"] < 12].groupby("client_id").size(),
        "months_since_last_interaction": it.groupby("client_id")["m"].min(),
    }
    for k in InteractionKind:
        out[f"n_{k.value}_24m"] = (
            kinds[k.value] if k.value in kinds.columns else pd.Series(dtype=float)
        )
    return out


def _feedback(fb: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    fb = fb.assign(m=_months(cutoff, fb["received_on"]))
    fb = fb[fb["overall"].notna()]
    g = fb.groupby("client_id")["overall"]
    recent = fb[fb["m"] < 12].groupby("client_id")["overall"].mean()
    before = fb[fb["m"] >= 12].groupby("client_id")["overall"].mean()
    return {
        "n_feedback": g.size().astype(float),
        "satisfaction_mean": g.mean(),
        "satisfaction_12m": recent,
        "satisfaction_trend": (recent - before.reindex(recent.index)).dropna(),
    }


def _complaints(cp: pd.DataFrame, cutoff: pd.Timestamp) -> dict[str, pd.Series]:
    targets = {str(k): v for k, v in RESPONSE_TARGET_HOURS.items()}
    target_h = cp["severity"].astype(str).map(targets).astype(float)
    hours = (cp["responded_at"] - cp["opened_at"]).dt.total_seconds() / 3600
    overdue_unanswered = cp["responded_at"].isna() & (
        cp["opened_at"] + pd.to_timedelta(target_h, unit="h") < cutoff
    )
    decided = hours.notna() | overdue_unanswered
    met = (hours <= target_h) & hours.notna()
    recent = _months(cutoff, cp["opened_at"]) < 24
    severe = cp["severity"].astype(str).isin(["serious", "critical"])
    cid = cp["client_id"]
    return {
        "n_complaints_24m": recent.groupby(cid).sum().astype(float),
        "n_complaints_severe_24m": (recent & severe).groupby(cid).sum().astype(float),
        "complaint_on_time_rate": met[decided].groupby(cid[decided]).mean(),
        "n_complaints_missed_target": (decided & ~met).groupby(cid).sum().astype(float),
    }


def _field_features(
    cl: pd.DataFrame, cm: pd.DataFrame, od: pd.DataFrame, cutoff: pd.Timestamp
) -> dict[str, pd.Series]:
    """Momentum of industry fields (commission counts, last 12 vs previous 12 months)
    and the share of a client's industry peers who bought value-added services recently."""
    m = _months(cutoff, cm["commissioned_on"])
    field = cm["industry_type"].fillna("unknown").astype(str)
    n12 = field[m < 12].value_counts()
    nprev = field[(m >= 12) & (m < 24)].value_counts()
    n_old = field[(m >= 24) & (m < 36)].value_counts()
    fields_all = n12.index.union(n_old.index)
    growth = (
        np.log(n12.reindex(fields_all, fill_value=0) + 1)
        - np.log(n_old.reindex(fields_all, fill_value=0) + 1)
    ) / 2
    momentum = np.log(
        (n12.reindex(n12.index.union(nprev.index), fill_value=0) + 1)
        / (nprev.reindex(n12.index.union(nprev.index), fill_value=0) + 1)
    )
    client_field = cl["industry_field"].fillna("unknown").astype(str)
    recent = cm[m < 36]
    weights = recent["industry_type"].fillna("unknown").astype(str).map(momentum).fillna(0.0)
    bought = od[od["status"].isin(PURCHASED) & (_months(cutoff, od["ordered_on"]) < 24)]
    buyer = pd.Series(1.0, index=pd.Index(bought["client_id"].unique())).reindex(
        cl.index, fill_value=0.0
    )
    per_field = buyer.groupby(client_field).agg(["sum", "count"])
    s = client_field.map(per_field["sum"]) - buyer
    c = client_field.map(per_field["count"]) - 1
    # five-year log-linear trend of commission volume per field (slope per year)
    year_back = np.floor(m / 12)
    last5 = year_back < 5
    counts = _counts(field[last5], year_back[last5].astype(int)).reindex(
        columns=range(5), fill_value=0
    )
    t = -np.arange(5, dtype=float)
    logc = np.log(counts.to_numpy(dtype=float) + 1)
    slope = ((logc - logc.mean(axis=1, keepdims=True)) @ (t - t.mean())) / np.sum(
        (t - t.mean()) ** 2
    )
    trend = pd.Series(slope, index=counts.index)
    peer_od = od[od["status"].isin(PURCHASED) & (_months(cutoff, od["ordered_on"]) < 36)]
    own = peer_od.groupby("client_id").size().reindex(cl.index, fill_value=0).astype(float)
    per_field_buys = own.groupby(client_field).sum()
    peer_rate = (client_field.map(per_field_buys) - own) / c.where(c > 0)
    return {
        "field_growth_5y": client_field.map(trend).astype(float).fillna(0.0),
        "field_peer_purchases": peer_rate,
        "field_momentum": client_field.map(momentum).astype(float).fillna(0.0),
        "field_growth_3y": client_field.map(growth).astype(float).fillna(0.0),
        "client_fields_momentum": weights.groupby(recent["client_id"]).mean(),
        "field_buyer_rate": (s / c).where(c > 0),
    }


def _semantic_features(
    semantic: Any, cm: pd.DataFrame, od: pd.DataFrame, cutoff: pd.Timestamp
) -> dict[str, pd.Series]:
    """Cosine similarity of a client's recent project texts to those of recent buyers.

    Client vectors are the mean embedding of the client's commission texts before the
    cutoff (never ``semantic.client_vectors``, which see the whole history).
    """
    recent = cm[_months(cutoff, cm["commissioned_on"]) < 36]
    if recent.empty:
        return {}
    vecs = commission_vectors(semantic, recent)
    frame = pd.DataFrame(vecs, index=recent["client_id"].to_numpy())
    client_vec = frame.groupby(level=0).mean()
    buyers = od[od["status"].isin(PURCHASED) & (_months(cutoff, od["ordered_on"]) < 24)][
        "client_id"
    ].unique()
    pool = client_vec.loc[client_vec.index.intersection(buyers)]
    if pool.empty:
        return {}
    centroid = pool.mean().to_numpy()
    cv = client_vec.to_numpy()
    denom = np.linalg.norm(cv, axis=1) * (np.linalg.norm(centroid) or 1.0)
    sim = cv @ centroid / np.where(denom > 0, denom, 1.0)
    return {"semantic_sim_buyers": pd.Series(sim, index=client_vec.index)}


def client_features(
    frames: Frames, cutoff: Any, semantic: Any = None, *, dormant_months: int = DORMANT_MONTHS
) -> pd.DataFrame:
    """Features of every client known before ``cutoff``, from data strictly before it.

    Args:
        frames: the store snapshot (``load_frames``); personal data is not in it.
        cutoff: the point in time T; only rows dated before T are read.
        semantic: an optional ``SemanticLayer`` (anything with ``embed(texts)``);
            without it the embedding features are left out.
        dormant_months: no business for this long puts a client in "dissolution".

    Returns:
        A float DataFrame indexed by ``client_id``; columns are documented in
        :data:`recsvc.features.FEATURES`.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    f = frames.as_of(cutoff)
    cl = f.clients.set_index("client_id")
    parts: dict[str, pd.Series] = {}
    for k in ClientKind:
        parts[f"kind_{k.value}"] = (cl["kind"].astype(str) == k.value).astype(float)
    parts.update(_rd(cl))
    parts.update(_commissions(f.commissions, cutoff))
    parts.update(_orders(f.orders, cutoff))
    parts.update(_interactions(f.interactions, cutoff))
    parts.update(_feedback(f.feedback, cutoff))
    parts.update(_complaints(f.complaints, cutoff))
    parts.update(_field_features(cl, f.commissions, f.orders, cutoff))
    parts.update(_decayed_activity(cl, f, cutoff))
    if semantic is not None:
        parts.update(_semantic_features(semantic, f.commissions, f.orders, cutoff))
    out = pd.DataFrame({k: v.reindex(cl.index) for k, v in parts.items()}, index=cl.index).astype(
        float
    )
    zero_fill = [
        c
        for c in out.columns
        if (c.startswith(("n_", "purpose_")) and not c.startswith("n_subject"))
        or c.startswith(("decayed_", "field_intensity", "home_field"))
        or c in ("fee_total", "fee_12m", "spend_value_added", "purchases_24m", "commission_trend")
    ]
    out[zero_fill] = out[zero_fill].fillna(0.0)
    out["spend_total"] = out["fee_total"] + out["spend_value_added"]
    out["months_since_registration"] = _months(cutoff, cl["registered_on"]).astype(float)
    out["months_since_last_activity"] = out[
        ["months_since_last_commission", "months_since_last_purchase"]
    ].min(axis=1)
    out["loyalty_score"] = (
        np.log1p(out["n_commissions"])
        + np.minimum(out["commissions_per_year"].fillna(0), 6) / 2
        + (out["recognition_mean"].fillna(3.0) - 3.0) / 2
        + (out["cooperation_mean"].fillna(3.0) - 3.0) / 2
        + 0.5 * np.log1p(out["n_purchases"])
    )
    out["relationship_stage"] = relationship_stage(out, dormant_months=dormant_months).astype(float)
    out.index.name = "client_id"
    return out
