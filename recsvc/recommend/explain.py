"""Explanations grounded in evidence, as short sentences in Chinese and English.

An explanation says why this product and why now; the first sentence is the headline:

1. the client's **own projects** that triggered it, dated, with their purpose; the
   **ladder step** (a product it bought that leads to this one), dated;
2. **why now**: a recent commission's purpose, a decline whose cool-down ended, the
   fields of its projects gaining momentum, a satisfaction dip
   (:mod:`recsvc.recommend.signals`);
3. a **similar past case**, anonymised;
4. the **top model factors**.

Evidence older than ``reason_max_age_years`` is never the headline: it comes last,
with its date. Each sentence is said once, at most :data:`MAX_REASONS` besides the
stale ones.

The :class:`Explainer` asks an :class:`~recsvc.recommend.evidence.EvidenceFinder` for
each piece of evidence and puts the pieces in this order. The portal variant never
names another client nor quotes another client's commission text: a case sentence that
would is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsvc.recommend import reasons
from recsvc.recommend.cases import CASE_HITS_CACHED, CaseFinder
from recsvc.recommend.client_lookups import ClientLookups
from recsvc.recommend.context import RecContext
from recsvc.recommend.evidence import MIN_TRIGGER_SIM, EvidenceFinder
from recsvc.recommend.explain_inputs import CaseBase
from recsvc.recommend.explain_state import ExplainerState
from recsvc.recommend.kept import CaseHitTable
from recsvc.recommend.offer import Evidence
from recsvc.recommend.signals import cooldown_ended, why_now
from recsvc.recommend.sources import CandidateSource
from recsvc.store.enums import Surface

__all__ = [
    "CASE_HITS_CACHED",
    "MIN_TRIGGER_SIM",
    "Explainer",
    "Explanation",
]

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
        cases: the similar-case hits of trigger commissions (kept or found).
        finder: what finds each piece of evidence, over ``lookups`` and ``cases``.
    """

    def __init__(
        self, context: RecContext, sources: Sequence[CandidateSource], semantic: Any | None = None
    ) -> None:
        self.sources = {s.name: s for s in sources}
        self.semantic = semantic
        self.lookups = ClientLookups(context, CaseBase.of(self.sources.values()))
        self.cases = CaseFinder(semantic, self.lookups.closest_cases)
        products = context.products.set_index("code")
        names = {c: (str(r["name_zh"]), str(r["name_en"])) for c, r in products.iterrows()}
        self.finder = EvidenceFinder(self.lookups, self.cases, self.sources, names)

    @property
    def context(self) -> RecContext:
        """The serving context (replaced when it gains clients added since the snapshot)."""
        return self.lookups.context

    @context.setter
    def context(self, context: RecContext) -> None:
        self.lookups.context = context

    # -- the precomputed state ----------------------------------------------------------
    @property
    def case_table(self) -> CaseHitTable | None:
        """The version's kept similar-case hits (``None``: found live)."""
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

    def record_case_hits(self) -> None:
        """Keep the hits of every trigger found from now on, for :meth:`save_case_hits`."""
        self.cases.record()

    def save_case_hits(self, folder: Path) -> None:
        """Write the hits recorded since :meth:`record_case_hits` as a table."""
        self.cases.save(folder)

    def use_case_table(self, folder: Path) -> None:
        """Read similar-case hits from a version's saved table when it is of this index."""
        self.cases.use_table(folder)

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
        trigger (its best own project) are found in one batch, not one product per
        pair (the portal precomputation explains every client).
        """
        own = [self.finder.dated_own_projects(int(c), str(p), k=1) for c, p in pairs]
        triggers = [self._trigger(o) for o in own]
        if len(pairs) > 1:
            self.cases.prefetch(
                (t, c) for (c, _), t in zip(pairs, triggers, strict=True) if t is not None
            )
        return [
            self._explain(int(c), str(p), o, t, surface, s, k)
            for (c, p), o, t, s, k in zip(
                pairs, own, triggers, source_scores, contributions, strict=True
            )
        ]

    def _trigger(self, own: list[tuple[Evidence, Any]]) -> int | None:
        """The commission of the best own project, whose similar cases are cited."""
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
        finder = self.finder
        own = list(own)
        ladder = finder.dated_ladder_step(client_id, code)
        if ladder is not None:
            own.append(ladder)
        fresh = [ev for ev, when in own if when is None or finder.fresh(when)]
        stale = [ev for ev, when in own if when is not None and not finder.fresh(when)]
        purpose = finder.purpose_step(client_id, code)  # within the source's lookback
        paused = cooldown_ended(self.context, client_id, code)
        now = [e for e in (purpose, paused) if e is not None]
        steps = [*fresh[:1], *now, *fresh[1:]]
        cases = finder.similar_cases(client_id, code, surface, trigger, k=1)
        facts = finder.factors(client_id, code, source_scores, contributions, k=2)
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
                    finder.leaks_for(client_id, e.text_zh) or finder.leaks_for(client_id, e.text_en)
                )
            ]
        if not evidence:  # always say something true: the segment-popularity factor
            evidence = [reasons.popular_in_segment()]
        return Explanation(evidence)
