"""Explanations grounded in evidence, as short sentences in Chinese and English.

Evidence says why this product and why now; the first sentence is the headline:

1. the client's **own projects** that triggered it (its commissions most similar to
   the product's past cases and description), dated, with their purpose; the
   **ladder step** (a product it bought that leads to this one), dated;
2. **why now**: a recent commission's purpose, a decline whose cool-down ended, the
   fields of its projects gaining momentum, a satisfaction dip
   (:mod:`recsvc.recommend.signals`);
3. **similar past cases**, anonymised ("an agricultural enterprise … bought field trend
   analysis"), from the semantic layer's case summaries or, without one, from the
   kind and field of the buyer only;
4. the **top model factors** (LightGBM contributions, or the strongest sources).

Evidence older than ``reason_max_age_years`` is never the headline: it comes last,
with its date.

The :class:`Explainer` looks evidence up per client in
:class:`~recsvc.recommend.client_lookups.ClientLookups` (over a snapshot's state,
computed in batch or mapped from what training saved), asks a
:class:`~recsvc.recommend.cases.CaseFinder` for similar cases, and words it with
:mod:`recsvc.recommend.reasons`. The portal variant never names another client nor
quotes another client's commission text: :class:`~recsvc.recommend.guard.LeakGuard`
checks every sentence against other clients' names and titles and drops a sentence that
would.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.recommend import reasons
from recsvc.recommend.cases import CASE_HITS_CACHED, CaseFinder
from recsvc.recommend.client_lookups import ClientLookups
from recsvc.recommend.context import RecContext
from recsvc.recommend.explain_inputs import CaseBase, LadderSteps, PurposeLifts
from recsvc.recommend.explain_state import PROJECT_FIELDS, ExplainerState
from recsvc.recommend.guard import LeakGuard
from recsvc.recommend.kept import CaseHitTable
from recsvc.recommend.offer import Evidence
from recsvc.recommend.signals import cooldown_ended, feature_value, why_now
from recsvc.recommend.sources import CandidateSource
from recsvc.store.enums import Surface
from recsvc.store.memo import column_arrays

__all__ = [
    "CASE_HITS_CACHED",
    "MIN_TRIGGER_SIM",
    "Explainer",
    "Explanation",
]

log = logging.getLogger(__name__)

#: Minimum text similarity for an own commission to count as a trigger.
MIN_TRIGGER_SIM = 0.05
#: ``reason_max_age_years`` of a context without settings.
DEFAULT_MAX_AGE_YEARS = 3.0
#: Sentences an offer carries at most.
MAX_REASONS = 5


@dataclass
class Explanation:
    """Evidence and the reasons (sentences) built from it."""

    evidence: list[Evidence] = field(default_factory=list)

    @property
    def reasons_zh(self) -> list[str]:
        return [e.text_zh for e in self.evidence]

    @property
    def reasons_en(self) -> list[str]:
        return [e.text_en for e in self.evidence]


class Explainer:
    """Builds :class:`Explanation` objects from fitted sources and a context.

    Args:
        context: the serving context.
        sources: the fitted candidate sources (by name).
        semantic: the semantic layer for anonymised case summaries (optional).

    Attributes:
        lookups: what the explainer looks up per client (the snapshot's state).
    """

    def __init__(
        self, context: RecContext, sources: Sequence[CandidateSource], semantic: Any | None = None
    ) -> None:
        self.sources = {s.name: s for s in sources}
        self.semantic = semantic
        self.cases = CaseFinder(semantic)
        self.lookups = ClientLookups(context, CaseBase.of(self.sources.values()))
        products = context.products.set_index("code")
        self.names = {c: (str(r["name_zh"]), str(r["name_en"])) for c, r in products.iterrows()}

    @property
    def context(self) -> RecContext:
        """The serving context (replaced when it gains clients added since the snapshot)."""
        return self.lookups.context

    @context.setter
    def context(self, context: RecContext) -> None:
        self.lookups.context = context

    # -- what the explainer reads of its sources --------------------------------------
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

    # -- the precomputed state ----------------------------------------------------------
    @property
    def case_table(self) -> CaseHitTable | None:
        """The version's kept similar-case hits (``None``: searched live)."""
        return self.cases.table

    @case_table.setter
    def case_table(self, table: CaseHitTable | None) -> None:
        self.cases.table = table

    @property
    def state(self) -> ExplainerState:
        """The per-client lookups of the snapshot (computed on first use)."""
        return self.lookups.state

    def prepare(self, saved: str | Path | None = None) -> Explainer:
        """Precompute what explanations look up, for every client at once
        (:meth:`ClientLookups.prepare`: ``saved`` arrays of this snapshot are mapped)."""
        self.lookups.prepare(saved)
        return self

    def fingerprint(self) -> str:
        """What the precomputed arrays depend on (:meth:`ClientLookups.fingerprint`)."""
        return self.lookups.fingerprint()

    def save_state(self, folder: str | Path) -> Path:
        """Write the arrays :meth:`prepare` computed, for this snapshot, into ``folder``
        (replaced whole): training and ``recsvc serving build`` do, servers never."""
        return self.lookups.save_state(folder)

    # -- evidence -----------------------------------------------------------------------
    def own_projects(self, client_id: int, code: str, k: int = 2) -> list[Evidence]:
        """The client's own commissions most similar to the product's cases/description."""
        return [ev for ev, _ in self._own_projects(client_id, code, k)]

    def _own_projects(
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

    @property
    def max_age(self) -> pd.Timedelta:
        """Evidence older than this is never the first reason (``reason_max_age_years``)."""
        years = getattr(self.context.settings, "reason_max_age_years", DEFAULT_MAX_AGE_YEARS)
        return pd.Timedelta(days=365.25 * float(years))

    def fresh(self, when: Any) -> bool:
        """Whether evidence dated ``when`` may be the first reason."""
        return bool(pd.notna(when)) and self.context.cutoff - pd.Timestamp(when) <= self.max_age

    def similar_cases(
        self, client_id: int, code: str, surface: Surface, trigger: int | None, k: int = 1
    ) -> list[Evidence]:
        """Anonymised past cases of the same product resembling the client's projects.

        ``trigger`` is one of the client's own commissions (:meth:`own_projects` chose
        it), so its hits may be searched in librarian scope and shared by surfaces: the
        portal drops a case whose sentence would quote another client, and neither
        surface cites one of the client's own cases.
        """
        portal = surface == Surface.PORTAL
        out: list[Evidence] = []
        if self.semantic is not None and trigger is not None:
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

    def record_case_hits(self) -> None:
        """Keep the hits of every trigger searched from now on, for :meth:`save_case_hits`."""
        self.cases.record()

    def save_case_hits(self, folder: Path) -> None:
        """Write the searches recorded since :meth:`record_case_hits` as a table."""
        self.cases.save(folder)

    def use_case_table(self, folder: Path) -> None:
        """Read similar-case hits from a version's saved table when it is of this index."""
        self.cases.use_table(folder)

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
        found = self._ladder(client_id, code)
        return None if found is None else found[0]

    def _ladder(self, client_id: int, code: str) -> tuple[Evidence, Any] | None:
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

    # -- the whole explanation ------------------------------------------------------------
    def explain(
        self,
        client_id: int,
        code: str,
        *,
        surface: Surface,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]] = (),
    ) -> Explanation:
        """Why this product and why now, the first sentence being the headline.

        In order: the client's own project and the ladder step (what it bought before)
        when not older than ``reason_max_age_years``, with a recent commission's
        purpose second; the similar case; timing signals (momentum, a satisfaction
        dip); up to two model factors; and last, with their dates, a project or a
        purchase too old to lead.
        """
        return self.explain_many(
            [(client_id, code)],
            surface=surface,
            source_scores=[source_scores],
            contributions=[contributions],
        )[0]

    def explain_many(
        self,
        pairs: Sequence[tuple[int, str]],
        *,
        surface: Surface,
        source_scores: Sequence[Mapping[str, float]],
        contributions: Sequence[Sequence[tuple[str, float]]],
    ) -> list[Explanation]:
        """:meth:`explain` of each ``(client id, product code)`` pair, with its sources'
        scores and model contributions at the same position.

        Each pair's own projects are found once; the similar cases of every pair's
        trigger (its best own project) are searched in one batch, not one search per
        pair (the portal precomputation explains every client).
        """
        own = [self._own_projects(int(c), str(p), k=1) for c, p in pairs]
        triggers = [self._trigger(o) for o in own]
        if len(pairs) > 1:
            self.cases.prefetch(t for t in triggers if t is not None)
        return [
            self._explain(int(c), str(p), o, t, surface, s, k)
            for (c, p), o, t, s, k in zip(
                pairs, own, triggers, source_scores, contributions, strict=True
            )
        ]

    def _trigger(self, own: list[tuple[Evidence, Any]]) -> int | None:
        """The commission of the best own project, whose similar cases are searched."""
        if own and own[0][0].ref:
            found = self.lookups.commission_of(str(own[0][0].ref))
            return int(found) if found is not None else None
        return None

    def _explain(
        self,
        client_id: int,
        code: str,
        own: list[tuple[Evidence, Any]],
        trigger: int | None,
        surface: Surface,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]],
    ) -> Explanation:
        """:meth:`explain` given the pair's own projects and their trigger."""
        own = list(own)
        ladder = self._ladder(client_id, code)
        if ladder is not None:
            own.append(ladder)
        fresh = [ev for ev, when in own if when is None or self.fresh(when)]
        stale = [ev for ev, when in own if when is not None and not self.fresh(when)]
        purpose = self.purpose_step(client_id, code)  # within the source's lookback
        paused = cooldown_ended(self.context, client_id, code)
        now = [e for e in (purpose, paused) if e is not None]
        steps = [*fresh[:1], *now, *fresh[1:]]
        cases = self.similar_cases(client_id, code, surface, trigger, k=1)
        facts = self.factors(client_id, code, source_scores, contributions, k=2)
        ordered = [*steps[:2], *cases, *steps[2:], *why_now(self.context, client_id), *facts]
        # a factor may repeat a step (the ranker named the ladder): each sentence once;
        # stale evidence last, with its date, and never first
        seen = {e.text_zh for e in stale}
        evidence = list({e.text_zh: e for e in ordered if e.text_zh not in seen}.values())
        if stale and not evidence:  # something current leads
            evidence = [reasons.popular_in_segment()]
        evidence = [*evidence[:MAX_REASONS], *stale]
        if surface == Surface.PORTAL:
            # own projects are the client's own text and factors are our templates; case
            # sentences carry text from other clients' records and must not leak
            evidence = [
                e
                for e in evidence
                if e.kind != "similar_case"
                or not (
                    self.leaks_for(client_id, e.text_zh) or self.leaks_for(client_id, e.text_en)
                )
            ]
        if not evidence:  # always say something true: the segment-popularity factor
            evidence = [reasons.popular_in_segment()]
        return Explanation(evidence)
