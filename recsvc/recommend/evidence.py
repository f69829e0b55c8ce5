"""The evidence for one (client, product) pair, and where each piece comes from.

- the client's **own projects** most similar to the product (its commissions closest to
  the product's past cases and description, recent ones preferred), dated, with their
  purpose: :class:`~recsvc.recommend.client_lookups.ClientLookups`, over a snapshot's
  state (computed in batch or mapped from what training saved);
- the **ladder step** (a product it bought that leads to this one), dated by that
  purchase, and a recent commission's **purpose** after which the product sells more:
  the ladder and purpose sources (:mod:`recsvc.recommend.explain_inputs`);
- **similar past cases**, anonymised: the semantic layer's case summaries of the best
  own project's hits (a :class:`~recsvc.recommend.cases.CaseFinder`) or, without them,
  only the kind and field of the buyer in the past case most like the client's projects;
- the **model factors**: LightGBM contributions, or the strongest sources.

Each is worded by :mod:`recsvc.recommend.reasons`. A case sentence carries other
clients' text: :class:`~recsvc.recommend.guard.LeakGuard` says whether it names another
client or quotes its commission titles (:meth:`EvidenceFinder.leaks_for`), so that the
portal drops it. The :class:`~recsvc.recommend.explain.Explainer` decides what to say.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from recsvc.recommend import reasons
from recsvc.recommend.cases import CaseFinder
from recsvc.recommend.client_lookups import ClientLookups
from recsvc.recommend.context import RecContext
from recsvc.recommend.explain_inputs import CaseBase, LadderSteps, PurposeLifts
from recsvc.recommend.explain_state import PROJECT_FIELDS
from recsvc.recommend.guard import LeakGuard
from recsvc.recommend.offer import Evidence
from recsvc.recommend.signals import feature_value
from recsvc.recommend.sources import CandidateSource
from recsvc.store.enums import Surface
from recsvc.store.memo import column_arrays

__all__ = ["DEFAULT_MAX_AGE_YEARS", "MIN_TRIGGER_SIM", "EvidenceFinder"]

log = logging.getLogger(__name__)

#: Minimum text similarity for an own commission to count as a trigger.
MIN_TRIGGER_SIM = 0.05
#: ``reason_max_age_years`` of a context without settings.
DEFAULT_MAX_AGE_YEARS = 3.0


class EvidenceFinder:
    """Finds each piece of evidence for a (client, product) pair, worded.

    Args:
        lookups: what is looked up per client (the snapshot's state); its context is
            the serving context.
        cases: similar-case hits of trigger commissions.
        sources: the fitted candidate sources, by name.
        names: each product's ``(name_zh, name_en)``, by code.
    """

    def __init__(
        self,
        lookups: ClientLookups,
        cases: CaseFinder,
        sources: Mapping[str, CandidateSource],
        names: Mapping[str, tuple[str, str]],
    ) -> None:
        self.lookups = lookups
        self.cases = cases
        self.sources = sources
        self.names = names

    @property
    def context(self) -> RecContext:
        """The serving context (the lookups'; replaced when it gains clients)."""
        return self.lookups.context

    # -- what the finder reads of its sources -------------------------------------------
    @property
    def case_base(self) -> CaseBase | None:
        """The content source's past cases (``None``: no content source, or no cases)."""
        return self.lookups.case_base

    @cached_property
    def ladder(self) -> LadderSteps | None:
        return LadderSteps.of(self.sources.values())

    @cached_property
    def purpose_lifts(self) -> PurposeLifts | None:
        return PurposeLifts.of(self.sources.values())

    @cached_property
    def guard(self) -> LeakGuard:
        """Every client's name, external id and commission titles (built once)."""
        return LeakGuard.from_frames(self.context.history)

    def leaks_for(self, client_id: int, text: str) -> bool:
        """Whether ``text`` contains a string of any *other* client."""
        return bool(self.guard.owners(text) - {client_id})

    # -- the age rule -------------------------------------------------------------------
    @property
    def max_age(self) -> pd.Timedelta:
        """Evidence older than this is never the first reason (``reason_max_age_years``)."""
        years = getattr(self.context.settings, "reason_max_age_years", DEFAULT_MAX_AGE_YEARS)
        return pd.Timedelta(days=365.25 * float(years))

    def fresh(self, when: Any) -> bool:
        """Whether evidence dated ``when`` may be the first reason."""
        return bool(pd.notna(when)) and self.context.cutoff - pd.Timestamp(when) <= self.max_age

    # -- evidence -----------------------------------------------------------------------
    def own_projects(self, client_id: int, code: str, k: int = 2) -> list[Evidence]:
        """The client's own commissions most similar to the product's cases/description."""
        return [ev for ev, _ in self.dated_own_projects(client_id, code, k)]

    def dated_own_projects(
        self, client_id: int, code: str, k: int
    ) -> list[tuple[Evidence, pd.Timestamp]]:
        """:meth:`own_projects` with each commission's date."""
        comm = self.lookups.projects(client_id)
        sim = self.lookups.similarities(comm, code)
        if sim is None:
            return []
        sim = sim * self.lookups.recency(client_id, comm)  # prefer recent projects
        product = self.names.get(code, (code, code))
        out = []
        for i in np.argsort(-sim)[:k]:
            if sim[i] < MIN_TRIGGER_SIM:
                continue
            row = {c: comm[c][i] for c in (*PROJECT_FIELDS, "purpose") if c in comm}
            ev = reasons.own_project(row, float(sim[i]), product, self.context.cutoff)
            out.append((ev, pd.Timestamp(row["commissioned_on"])))
        return out

    def similar_cases(
        self, client_id: int, code: str, surface: Surface, trigger: int | None, k: int = 1
    ) -> list[Evidence]:
        """Anonymised past cases of the same product resembling the client's projects.

        ``trigger`` is one of the client's own commissions (:meth:`own_projects` chose
        it), so its hits may be found in librarian scope and shared by surfaces: the
        portal drops a case whose sentence would quote another client, and neither
        surface cites one of the client's own cases.
        """
        portal = surface == Surface.PORTAL
        out: list[Evidence] = []
        if self.cases.available and trigger is not None:
            try:
                hits = self.cases.matching(trigger, code, client_id)
            except Exception:
                log.info("semantic similar_cases unavailable for %s", client_id, exc_info=True)
                hits = iter(())
            for hit_id, score, _, _, en, zh in hits:
                if not en or (
                    portal and (self.leaks_for(client_id, en) or self.leaks_for(client_id, zh))
                ):
                    continue
                out.append(reasons.similar_case(zh, en, None if portal else hit_id, score))
                if len(out) >= k:
                    return out
        return out or self._own_case(client_id, code, k)

    def _own_case(self, client_id: int, code: str, k: int) -> list[Evidence]:
        """Fallback case sentence from the buyer's kind and field only (no text quoted)."""
        cases = self.case_base
        found = self.lookups.best_case(client_id, code) if cases is not None else None
        if cases is None or found is None:
            return []
        best, best_sim = found
        clients = self.context.clients
        at = clients.index.get_loc(int(cases.clients[best]))
        buyer = column_arrays(clients)
        value = buyer["industry_field"][at] if "industry_field" in buyer else None
        where = str(value) if isinstance(value, str) and value else ""
        name = self.names.get(code, (code, code))
        return [reasons.own_case(str(buyer["kind"][at]), where, name, best_sim)][:k]

    def factors(
        self,
        client_id: int,
        code: str,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]] = (),
        k: int = 2,
    ) -> list[Evidence]:
        """Top model factors as sentences (sources first, then other features)."""
        out: list[Evidence] = []
        for name in reasons.factor_names(contributions, source_scores, self.sources):
            ev = self._factor_sentence(client_id, code, name, source_scores.get(name))
            if ev is not None:
                out.append(ev)
            if len(out) >= k:
                break
        return out

    def _factor_sentence(
        self, client_id: int, code: str, name: str, value: float | None
    ) -> Evidence | None:
        product = self.names.get(code, (code, code))
        score = float(value) if value is not None and np.isfinite(value) else 0.0
        if name == "look-alike" and score > 0:
            return reasons.look_alike(product, score)
        if name == "ladder":
            return self.ladder_step(client_id, code)
        if name == "purpose":
            return self.purpose_step(client_id, code)
        if name == "content" and score > 0:
            return reasons.content_match(product, score)
        if name == "popular-in-segment":
            return reasons.popular_in_segment()
        if name in ("owned", "days_since_owned") and code in self.lookups.bought(client_id):
            return reasons.owned(product, self.lookups.one_off(code))
        if name == "value_proba":
            proba = self.context.value_proba
            if proba is None or client_id not in proba.index:
                return None
            population = self.context.population("value_proba")
            return reasons.feature_sentence(name, float(proba.loc[client_id]), population)
        if name.startswith(("cf_", "basic_")):
            feature = reasons.BASIC_FEATURES.get(name, name.removeprefix("cf_"))
            value, population = feature_value(self.context, client_id, feature)
            return reasons.feature_sentence(name, value, population)
        return None

    def ladder_step(self, client_id: int, code: str) -> Evidence | None:
        """The product the client bought that most often leads to ``code``, dated."""
        found = self.dated_ladder_step(client_id, code)
        return None if found is None else found[0]

    def dated_ladder_step(self, client_id: int, code: str) -> tuple[Evidence, Any] | None:
        """:meth:`ladder_step` with the date of that purchase (``None``: unknown)."""
        ladder = self.ladder
        prev = ladder.previous(self.lookups.bought(client_id), code) if ladder else None
        if prev is None:
            return None
        when = self.context.purchase_dates.get((int(client_id), prev))
        product = self.names.get(code, (code, code))
        return reasons.ladder_step(self.names.get(prev, (prev, prev)), product, when), when

    def purpose_step(self, client_id: int, code: str) -> Evidence | None:
        """A recent commission whose purpose makes ``code`` likelier, dated."""
        lifts = self.purpose_lifts
        if lifts is None:
            return None
        found = lifts.best(self.lookups.recent_purposes(client_id, lifts.lookback_days), code)
        if found is None:
            return None
        comm = self.lookups.projects(client_id)
        dates = [
            pd.Timestamp(d)
            for p, d in zip(comm.get("purpose", ()), comm.get("commissioned_on", ()), strict=False)
            if str(p) == found[0] and pd.notna(d)
        ]
        product = self.names.get(code, (code, code))
        return reasons.purpose_lift(*found, product, max(dates) if dates else None)
