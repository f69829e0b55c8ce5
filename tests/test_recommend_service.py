"""The recommender facade on the synthetic world: cold start, rules, cool-downs,
portal privacy, feedback rates, worklist and its export, artifact round trip."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import openpyxl
import pandas as pd
import pytest

from recsvc.config import Settings
from recsvc.recommend import (
    BusinessRules,
    Ranker,
    Shown,
    export_worklist,
    rates,
    record_impressions,
    record_outcome,
    worklist,
)
from recsvc.recommend.context import build_context
from recsvc.recommend.scored import ScoredRanker
from recsvc.recommend.service import Recommender
from recsvc.serving.recommender import open_recommender
from recsvc.store import Database, queries
from recsvc.store.enums import EventType, Surface
from recsvc.store.frames import Frames
from recsvc.store.models import Client
from recsvc.value.segments import STRATEGIES
from tests.test_recommend_synth import CUTOFF, add_client, make_history

VACCINE_ZH = [("猪瘟疫苗免疫效果评价研究", None)]
VACCINE_EN = [(None, "Evaluation of a swine fever vaccine in piglets")]
RELEVANT = {"trend_analysis", "thematic_database", "key_tech_screening"}


def _settings(tmp: Path) -> Settings:
    return Settings(
        environment="test", data_dir=tmp, models_dir=tmp / "models", as_of_date=CUTOFF.date()
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A version folder with a ranker trained on the synthetic world."""
    folder = tmp_path_factory.mktemp("version")
    ctx = build_context(make_history(), CUTOFF, with_features=False)
    Ranker(n_cutoffs=3, n_estimators=40, min_child_samples=5).fit(ctx).save(folder / "ranker")
    return folder


@pytest.mark.parametrize("titles", [VACCINE_ZH, VACCINE_EN], ids=["zh", "en"])
@pytest.mark.parametrize("with_ranker", [False, True], ids=["chain", "ranker"])
def test_cold_start_single_title_gets_a_relevant_first_offer(
    tmp_path: Path, trained: Path, titles: list, with_ranker: bool
) -> None:
    frames, cid = add_client(make_history(), kind="enterprise", field=None, titles=titles)
    rec = open_recommender(
        _settings(tmp_path), None, None, trained if with_ranker else None, frames=frames
    )
    recs = rec.recommend(cid, Surface.LIBRARIAN, k=3)
    assert len(recs) == 3
    assert recs[0].code in RELEVANT, [r.code for r in recs]
    assert recs[0].reasons_en and recs[0].reasons_zh


def test_rules_take_null_values_from_settings_and_their_defaults(tmp_path: Path) -> None:
    """``null`` in the rules file means the setting; without settings, its default."""
    import json

    defaults = BusinessRules.load()
    for key in ("one_off_rebuy_days", "decline_cooldown_days", "max_per_category"):
        assert getattr(defaults, key) == Settings.model_fields[key].default
    configured = Settings(environment="test", max_per_category=4, decline_cooldown_days=30)
    rules = BusinessRules.load(settings=configured)
    assert (rules.max_per_category, rules.decline_cooldown_days) == (4, 30)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"max_per_category": 1}))
    assert BusinessRules.load(path, settings=configured).max_per_category == 1


def test_rules_eligibility_one_off_and_diversity(tmp_path: Path) -> None:
    frames, cid = add_client(
        make_history(),
        kind="university",
        field="materials",
        titles=[("高熵合金涂层制备方法", "High-entropy alloy coating preparation method")],
        purpose="patent_application",
        orders=(("patent_analysis", CUTOFF - pd.Timedelta(days=30)),),
    )
    rec = open_recommender(_settings(tmp_path), None, None, None, frames=frames)
    codes = [r.code for r in rec.recommend(cid, k=8)]
    assert "patent_analysis" not in codes  # one-off bought a month ago
    assert not {"industry_analysis", "market_research", "competitor_intelligence"} & set(codes)
    category = rec.products["category"]
    cats = pd.Series([category[r.code] for r in rec.recommend(cid, k=8)]).value_counts()
    assert cats.max() <= rec.rules.max_per_category


def _db_with(frames_client: pd.Series, tmp: Path) -> Database:
    db = Database.from_url(f"sqlite:///{tmp / 'store.db'}")
    db.upgrade()
    with db.session() as s:
        s.add(
            Client(
                id=int(frames_client["client_id"]),
                external_id=str(frames_client["external_id"]),
                name_zh=str(frames_client["name_zh"]),
                kind=str(frames_client["kind"]),
            )
        )
    return db


def test_declined_product_is_not_reoffered_within_cooldown(tmp_path: Path) -> None:
    frames, cid = add_client(
        make_history(), kind="enterprise", field="agriculture", titles=VACCINE_ZH
    )
    db = _db_with(frames.clients.set_index("client_id", drop=False).loc[cid], tmp_path)
    rec = open_recommender(_settings(tmp_path), db, None, None, frames=frames)
    first = rec.recommend(cid, k=3)
    top = first[0].code
    ids = record_impressions(
        db,
        cid,
        [Shown(r.code, r.rank, r.score) for r in first],
        surface=Surface.LIBRARIAN,
        model_version="v-test",
    )
    record_outcome(db, "declined", impression_id=ids[0], reason="no_budget", actor="t")
    again = [r.code for r in rec.recommend(cid, k=3)]
    assert top not in again
    # after the cool-down it may come back
    rules: BusinessRules = rec.rules
    later = pd.Timestamp.now() + pd.Timedelta(days=rules.decline_cooldown_days + 1)
    from recsvc.store.queries import client_events

    ex = rules.exclusions(
        [cid],
        as_of=CUTOFF,
        events_as_of=later,
        clients=frames.clients,
        products=rec.context.products,
        orders=rec.context.orders,
        events=client_events(db, client_ids=[cid]),
    )
    assert top not in ex[cid]


def test_portal_explanations_never_name_another_client(tmp_path: Path, trained: Path) -> None:
    frames, cid = add_client(
        make_history(), kind="enterprise", field="agriculture", titles=VACCINE_ZH
    )
    rec = open_recommender(_settings(tmp_path), None, None, trained, frames=frames)
    others_c = frames.clients[frames.clients["client_id"] != cid]
    others_m = frames.commissions[frames.commissions["client_id"] != cid]
    forbidden = {
        *others_c["name_zh"],
        *others_c["name_en"],
        *others_c["external_id"],
        *others_m["title_zh"].dropna(),
        *others_m["title_en"].dropna(),
    }
    recs = rec.recommend(cid, Surface.PORTAL, k=5)
    texts = [t for r in recs for t in (*r.reasons_zh, *r.reasons_en)]
    assert any(e.kind == "similar_case" for r in recs for e in r.evidence)  # cases are there …
    for t in texts:  # … but nobody else's name or commission text
        assert not [f for f in forbidden if f and f in t], t
    librarian = rec.recommend(cid, Surface.LIBRARIAN, k=5)
    assert any(e.kind == "own_project" for r in librarian for e in r.evidence)


def test_actions_come_from_segment_in_their_own_slots(tmp_path: Path) -> None:
    frames, cid = add_client(
        make_history(), kind="enterprise", field="agriculture", titles=VACCINE_ZH
    )
    rec = open_recommender(_settings(tmp_path), None, None, None, frames=frames)
    rec.context.segments = pd.Series({cid: "key"})
    nb = rec.next_best(cid, k=5)
    assert len(nb.products) == 5 and all(not p.code.startswith("action") for p in nb.products)
    expected = STRATEGIES["key"][: rec.rules.action_slots]
    assert [a.code for a in nb.actions] == [a.code for a in expected]
    assert [a.name_zh for a in nb.actions] == [a.name_zh for a in expected]
    assert all(a.item_code == f"action:{a.code}" and a.segment == "key" for a in nb.actions)


def test_feedback_rates_per_product_and_version(db: Database) -> None:
    with db.session() as s:
        s.add(Client(id=1, external_id="C1", kind="enterprise"))
    a = record_impressions(
        db,
        1,
        [Shown("trend_analysis", 1, 0.4), Shown("patent_analysis", 2, 0.2)],
        surface=Surface.PORTAL,
        model_version="v1",
    )
    b = record_impressions(
        db, 1, [Shown("trend_analysis", 1, 0.5)], surface="librarian", model_version="v2"
    )
    record_outcome(db, EventType.ACCEPTED, impression_id=a[0])
    record_outcome(db, "purchased", impression_id=b[0])
    record_outcome(db, "declined", client_id=1, item_code="patent_analysis", reason="not_relevant")
    by_p = rates(db, by="product")
    assert by_p.loc["trend_analysis", "impressions"] == 2
    assert by_p.loc["trend_analysis", "acceptance_rate"] == 1.0
    assert by_p.loc["trend_analysis", "conversion_rate"] == 0.5
    assert by_p.loc["patent_analysis", "decline_rate"] == 1.0
    by_v = rates(db, by="model_version")
    assert by_v.loc["v1", "impressions"] == 2 and by_v.loc["v1", "accepted"] == 1
    assert by_v.loc["v2", "purchased"] == 1
    with pytest.raises(Exception, match="reason"):
        record_outcome(db, "accepted", impression_id=a[1], reason="no_budget")


def test_worklist_filters_pages_and_exports(tmp_path: Path, trained: Path) -> None:
    frames = make_history()
    rec = open_recommender(_settings(tmp_path), None, None, trained, frames=frames)
    page1 = worklist(rec, limit=5)
    page2 = worklist(rec, limit=5, offset=5)
    assert [r.rank for r in page1] == [1, 2, 3, 4, 5] and page2[0].rank == 6
    value = [r.expected_value or 0.0 for r in [*page1, *page2]]
    assert value == sorted(value, reverse=True)  # ranked by expected value
    by_p = worklist(rec, limit=10, sort="probability")
    assert [r.score for r in by_p] == sorted((r.score for r in by_p), reverse=True)
    assert {r.client_id for r in page1}.isdisjoint({r.client_id for r in page2})
    assert all(r.reason_zh and r.reason_en for r in page1)
    env = worklist(rec, field="environment", limit=50)
    assert env and all(r.industry_field == "environment" for r in env)
    assert all(r.account_manager == "李" for r in worklist(rec, staff="李", limit=50))
    only = worklist(rec, product="patent_navigation", limit=50)
    assert only and all(r.product_code == "patent_navigation" for r in only)
    xlsx = export_worklist(page1, tmp_path / "w.xlsx")
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet.max_row == 6 and sheet.cell(1, 2).value == "客户编号"
    csv = export_worklist(page1, tmp_path / "w.csv")
    assert len(pd.read_csv(csv)) == 5


def test_ranker_artifact_round_trip(tmp_path: Path, trained: Path) -> None:
    frames = make_history()
    ctx = build_context(frames, CUTOFF, with_features=False)
    a = ScoredRanker(Ranker.load(trained / "ranker")).bind(ctx)
    b = ScoredRanker(Ranker.load(trained / "ranker")).bind(ctx)
    ids = np.array([1, 40, 70])
    np.testing.assert_allclose(a.scores(ids), b.scores(ids))
    assert a.ranker.config_["cutoffs"] and a.ranker.config_["calibration"]["cond"]
    probs = a.scores(ids)
    assert np.nanmax(probs) <= 1.0 and np.nanmin(probs) >= 0.0


def test_training_writes_every_active_clients_portal_list(
    tmp_path: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each client's list is stored as the served bytes: one JSON array of offers,
    computed with the text space training holds, not a second copy mapped from the
    files it has just saved."""
    import shutil

    from recsvc.recommend import OFFERS, dump_offers
    from recsvc.recommend.text import TextSpace
    from recsvc.serving.build import write_version_files
    from recsvc.serving.layout import PORTAL
    from recsvc.serving.portal import PortalLists

    folder = tmp_path / "v"
    shutil.copytree(trained, folder)
    frames = make_history(n_per_group=10)

    def load_again(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the lists mapped a second copy of the text space")

    with monkeypatch.context() as m:
        m.setattr(TextSpace, "load", load_again)
        n = write_version_files(_settings(tmp_path), frames, None, folder)
    lists = PortalLists.open(folder / PORTAL)
    assert n == len(lists) == 30
    assert set(lists) == set(frames.clients["client_id"])
    rec = open_recommender(_settings(tmp_path), None, None, folder, frames=frames)
    for cid in list(lists)[:5]:
        count, blob = lists[cid]
        offers = OFFERS.validate_json(blob)
        assert count == len(offers) > 0
        assert all(o.code and o.reasons_en for o in offers)
        # what a live call over the same snapshot would serve, byte for byte
        assert blob == dump_offers(rec.recommend_many([cid], Surface.PORTAL, live=False)[cid])


@pytest.mark.parametrize("surface", [Surface.LIBRARIAN, Surface.PORTAL])
def test_batch_and_single_client_paths_agree(
    tmp_path: Path, trained: Path, surface: Surface
) -> None:
    """One code path: a batch of clients gets exactly what each client gets alone."""
    settings = _settings(tmp_path)
    frames = make_history()
    batch = open_recommender(settings, None, None, trained, frames=frames)
    ids = [int(c) for c in batch.context.clients.index[:12]]
    many = batch.recommend_many(ids, surface, 5, live=False)
    single = open_recommender(settings, None, None, trained, frames=frames)
    for cid in reversed(ids):  # a different order, one client at a time
        alone = single.recommend_many([cid], surface, 5, live=False)[cid]
        assert alone == many[cid]


def test_a_batch_finds_its_similar_cases_once_and_explains_as_one_client_alone(
    tmp_path: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Explaining a batch finds each offer's own projects once and the similar cases of
    all their triggers in one comparison with the case base, none one by one; each
    client asking alone afterwards gets the same offers from the hits remembered (the
    same triggers: nothing found again)."""
    from recsvc.semantic import FakeEmbedder, build_semantic

    settings = _settings(tmp_path)
    frames = make_history()
    layer = build_semantic(frames, settings, FakeEmbedder())
    ids = [int(c) for c in frames.commissions["client_id"].unique()]
    rec = _in_memory(open_recommender(settings, None, layer, trained, frames=frames))
    calls: list[int] = []
    looked: list[tuple[int, str]] = []
    finder = rec.explainer.cases
    search, own_projects = finder.search, rec.explainer.finder.dated_own_projects
    assert search is not None

    def counted_search(triggers: np.ndarray, owners: np.ndarray, documents: Any) -> Any:
        calls.append(len(triggers))
        return search(triggers, owners, documents)

    def counted(client_id: int, code: str, k: int) -> Any:
        looked.append((client_id, code))
        return own_projects(client_id, code, k)

    monkeypatch.setattr(finder, "search", counted_search)
    monkeypatch.setattr(rec.explainer.finder, "dated_own_projects", counted)
    together = {
        s: rec.recommend_many(ids, s, 5, live=False) for s in (Surface.LIBRARIAN, Surface.PORTAL)
    }
    assert len(calls) == 1 and calls[0] > 1, calls  # the portal's batch found them all remembered
    offered = [(c, o.code) for s in together for c in ids for o in together[s][c]]
    assert sorted(looked) == sorted(offered)  # once per offer
    for s, offers in together.items():
        for cid in ids:
            assert rec.recommend_many([cid], s, 5, live=False)[cid] == offers[cid]
    assert len(calls) == 1, calls
    cited = [e for o in together[Surface.LIBRARIAN].values() for r in o for e in r.evidence]
    assert any(e.kind == "similar_case" and e.ref for e in cited), "no past case cited"


def test_treeshap_takes_every_core_only_while_recording(tmp_path: Path, trained: Path) -> None:
    """A server's TreeSHAP stays on one thread (its few rows would spin threads against
    the other workers); the portal precomputation's, a third of its time, takes all."""
    rec = open_recommender(_settings(tmp_path), None, None, trained, frames=make_history())
    assert rec.ranker is not None
    booster = rec.ranker.model_
    threads: list[int] = []
    real = booster.predict

    def predict(X: Any, **kw: Any) -> Any:
        if kw.get("pred_contrib"):
            threads.append(kw["num_threads"])
        return real(X, **kw)

    booster.predict = predict  # type: ignore[method-assign]
    ids = [int(c) for c in rec.context.clients.index[:4]]
    rec.recommend_many(ids, Surface.WORKLIST, 5, live=False)
    rec.record_explanations()
    rec.recommend_many(ids, Surface.PORTAL, 5, live=False)
    assert threads == [1, 0]


def test_live_calls_are_safe_from_several_threads(tmp_path: Path, trained: Path) -> None:
    """No per-call state: concurrent calls return what sequential calls return."""
    from concurrent.futures import ThreadPoolExecutor

    rec = open_recommender(_settings(tmp_path), None, None, trained, frames=make_history())
    ids = [int(c) for c in rec.context.clients.index[:16]]
    want = {c: [r.model_dump() for r in rec.recommend(c, Surface.LIBRARIAN, 5)] for c in ids}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda c: rec.recommend(c, Surface.LIBRARIAN, 5), ids * 3))
    for c, recs in zip(ids * 3, got, strict=True):
        assert [r.model_dump() for r in recs] == want[c]


def test_calibrated_scores_stay_below_one_and_untied(trained: Path) -> None:
    ctx = build_context(make_history(), CUTOFF, with_features=False)
    scored = ScoredRanker(Ranker.load(trained / "ranker")).bind(ctx, precompute=True)
    frame = scored.predict_frame(ctx.clients.index.to_numpy())
    proba = frame["proba"].dropna().to_numpy()
    assert proba.max() < 1.0
    top = np.sort(proba)[-20:]
    assert len(np.unique(top)) == len(top)


def test_project_title_falls_back_instead_of_nan() -> None:
    from recsvc.recommend.reasons import first_text as _title

    row = pd.Series({"title_zh": "猪瘟疫苗评价", "title_en": np.nan, "keywords": "疫苗"})
    assert _title(row, ("title_en", "title_zh", "keywords")) == "猪瘟疫苗评价"
    row = pd.Series({"title_zh": None, "title_en": "nan", "keywords": "vaccine; swine"})
    assert _title(row, ("title_en", "title_zh", "keywords")) == "vaccine; swine"


def test_days_before_the_cutoff_count_like_pandas() -> None:
    """The explainer's numpy day counts (recency weights) equal ``Series.dt.days``:
    whole days, floored, negative after the cutoff, missing for a missing date."""
    from recsvc.recommend.client_lookups import days_before as _days_before

    when = pd.Series(
        pd.to_datetime(
            ["2024-01-01", "2024-06-30 12:00", None, "2025-02-01", "2024-12-31 23:59"],
            format="mixed",
        )
    )
    cutoff = pd.Timestamp("2025-01-01")
    np.testing.assert_array_equal(
        _days_before(cutoff, when.to_numpy()), (cutoff - when).dt.days.to_numpy(dtype=float)
    )


def test_a_version_keeps_its_text_space_and_explanation_arrays(
    tmp_path: Path, trained: Path
) -> None:
    """Training saves a version's text space and, for its snapshot, the explanation
    arrays and ranker scores; a later open of that snapshot (each server worker, each
    restart) maps them instead of fitting and computing, and serves exactly what a
    fresh computation serves. Another snapshot computes them in memory and writes
    nothing."""
    import shutil

    from recsvc.serving.build import write_snapshot_files, write_version_files
    from recsvc.serving.layout import EXPLAINER_ARRAYS, RANKER_SCORES

    folder = tmp_path / "v"
    shutil.copytree(trained, folder, ignore=shutil.ignore_patterns("text", "portal", "kept"))
    settings = _settings(tmp_path)
    frames = make_history()
    saved = tmp_path / "serving" / "v"
    write_version_files(settings, frames, None, folder, snapshot=saved)
    assert (folder / "text" / "config.json").exists()
    assert (saved / EXPLAINER_ARRAYS / "config.json").exists()
    assert (saved / RANKER_SCORES / "config.json").exists()
    before = {p: p.read_bytes() for p in sorted(saved.rglob("*")) if p.is_file()}
    first = open_recommender(settings, None, None, folder, frames=frames)  # computes
    assert not isinstance(first.explainer.state.sims, np.memmap)
    second = open_recommender(settings, None, None, folder, frames=frames, saved=saved)
    assert isinstance(second.context.text.commissions_.lexical, np.memmap)
    assert isinstance(second.explainer.state.sims, np.memmap)
    assert second.ranker is not None and second.ranker.mapped
    for name, fitted in (("look-alike", "buyer_vectors_"), ("content", "case_vectors_")):
        mapped, computed = (getattr(_source(rec, name), fitted) for rec in (second, first))
        assert isinstance(mapped.lexical, np.memmap) and len(mapped) > 0
        np.testing.assert_array_equal(mapped.lexical, computed.lexical)
    # the content source's cases and the purpose lifts are read, not fitted: no merge
    # of every commission with the orders (the context's value-added cases)
    assert "value_added" not in vars(second.context) and "value_added" in vars(first.context)
    read, fitted = (_source(rec, "content").cases_ for rec in (second, first))
    pd.testing.assert_frame_equal(read, fitted)
    read, fitted = (_source(rec, "purpose") for rec in (second, first))
    pd.testing.assert_frame_equal(read.lift_, fitted.lift_)
    pd.testing.assert_series_equal(read.support_, fitted.support_)
    ids = [int(c) for c in first.context.clients.index[::7]]
    for surface in (Surface.LIBRARIAN, Surface.PORTAL):
        want = first.recommend_many(ids, surface, 5, live=False)
        got = second.recommend_many(ids, surface, 5, live=False)
        for c in ids:
            assert got[c] == want[c]

    # a client imported since: its title is encoded with the saved vocabulary, and the
    # explanation arrays and scores (another snapshot's) are computed in memory
    grown, cid = add_client(make_history(), kind="enterprise", field=None, titles=VACCINE_ZH)
    third = open_recommender(settings, None, None, folder, frames=grown, saved=saved)
    assert not isinstance(third.explainer.state.sims, np.memmap)
    assert third.ranker is not None and not third.ranker.mapped
    assert not isinstance(_source(third, "look-alike").buyer_vectors_.lexical, np.memmap)

    # the same clients with one more purchase: other scores, so computed again
    bought = make_history()
    bought.orders = pd.concat([bought.orders, bought.orders.iloc[[0]]], ignore_index=True)
    bought.orders.loc[len(bought.orders) - 1, "ordered_on"] = bought.orders["ordered_on"].max()
    fourth = open_recommender(settings, None, None, folder, frames=bought, saved=saved)
    assert fourth.ranker is not None and not fourth.ranker.mapped
    recs = third.recommend(cid, Surface.LIBRARIAN, k=3)
    assert recs[0].code in RELEVANT and recs[0].reasons_en
    assert {p: p.read_bytes() for p in sorted(saved.rglob("*")) if p.is_file()} == before

    # building them for that snapshot (``recsvc serving build``) makes it map them
    write_snapshot_files(third, saved)
    again = open_recommender(settings, None, None, folder, frames=grown, saved=saved)
    assert isinstance(again.explainer.state.sims, np.memmap)
    assert again.ranker is not None and again.ranker.mapped
    assert again.recommend(cid, Surface.LIBRARIAN, k=3) == recs


def _source(rec: Recommender, name: str) -> Any:
    """The candidate source ``name`` the recommender's ranker fitted."""
    assert rec.ranker is not None
    return next(s for s in rec.ranker.sources_ if s.name == name)


def test_a_saved_text_space_re_encodes_changed_titles(tmp_path: Path) -> None:
    from recsvc.recommend.text import TextSpace
    from recsvc.recommend.vectors import commission_text

    frames = make_history()
    space = TextSpace().fit(frames.commissions, frames.products)
    space.save(tmp_path / "text")
    changed = frames.commissions.copy()
    changed.loc[changed.index[3], "title_zh"] = "猪瘟疫苗免疫效果评价研究"
    cid = int(changed["commission_id"].iloc[3])
    loaded = TextSpace.load(tmp_path / "text", changed, frames.products)
    fresh = space.encode(commission_text(changed.iloc[[3]]))
    np.testing.assert_allclose(loaded.commissions([cid]).lexical, fresh.lexical, atol=1e-6)
    unchanged = int(changed["commission_id"].iloc[4])
    np.testing.assert_allclose(
        loaded.commissions([unchanged]).lexical, space.commissions([unchanged]).lexical
    )
    # the saved file itself is untouched (the change lives in this process's pages)
    again = TextSpace.load(tmp_path / "text", frames.commissions, frames.products)
    np.testing.assert_allclose(again.commissions([cid]).lexical, space.commissions([cid]).lexical)


def test_portal_lists_are_served_from_one_mapped_file(tmp_path: Path) -> None:
    """Saved once (by training), then mapped: every client's stored bytes come back as
    they were written, with their count; a version without lists has none, nor one
    whose lists are of another layout."""
    import json

    from recsvc.serving.portal import PortalLists

    rows = [(7, 2, b'[{"a":1},{"b":2}]'), (3, 1, '["查新"]'.encode()), (11, 0, b"[]")]
    folder = tmp_path / "v" / "portal"
    assert PortalLists.write(folder, iter(rows)) == 3
    lists = PortalLists.open(folder)
    assert list(lists) == [3, 7, 11] and len(lists) == 3
    for cid, count, blob in rows:
        assert lists[cid] == (count, blob)
    assert 10**9 not in lists and lists.get(10**9) is None and "7" not in lists
    assert len(PortalLists.open(tmp_path / "elsewhere")) == 0
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "portal"
    (folder / "config.json").write_text(json.dumps({**config, "format": 1}))
    assert len(PortalLists.open(folder)) == 0


def _offers(rec: Recommender, ids: list[int]) -> dict:
    """Every client's offers (with their evidence) on both surfaces, as plain data."""
    return {
        s: {
            c: [r.model_dump() for r in recs]
            for c, recs in rec.recommend_many(ids, s, 5, live=False).items()
        }
        for s in Surface
    }


def _assert_alike(got: Any, want: Any, at: str = "") -> None:
    """``got`` equals ``want`` but for numbers within 1e-5: a kept similar-case score is
    the float64 its search returned, one computed in memory comes from float32 vectors
    (they differ in the 6th decimal, which no page shows and no ranking feels)."""
    if isinstance(want, float) and isinstance(got, float):
        assert math.isclose(got, want, abs_tol=1e-5), f"{at}: {got} != {want}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), at
        for key in want:
            _assert_alike(got[key], want[key], f"{at}/{key}")
    elif isinstance(want, list | tuple):
        assert isinstance(got, list | tuple) and len(got) == len(want), at
        for n, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_alike(g, w, f"{at}/{n}")
    else:
        assert got == want, f"{at}: {got!r} != {want!r}"


def _assert_explained_with_evidence(offers: dict) -> None:
    """Explanations that cite the client's projects, a past case and a model factor
    (an equality of two empty explanations would prove nothing)."""

    def of(surface: Surface) -> list[dict]:
        return [e for recs in offers[surface].values() for r in recs for e in r["evidence"]]

    evidence = of(Surface.LIBRARIAN)
    assert any(e["kind"] == "own_project" and e["ref"] for e in evidence), "no project cited"
    assert any(e["kind"] == "similar_case" and e["ref"] for e in evidence), "no past case cited"
    assert any(e["kind"] == "factor" for e in evidence), "no model factor cited"
    portal = of(Surface.PORTAL)
    assert portal and not any(e["kind"] == "similar_case" and e["ref"] for e in portal)


def _in_memory(rec: Recommender) -> Recommender:
    """``rec`` recomputing what a version keeps: every case search and TreeSHAP runs."""
    rec.explainer.case_table = rec.contributions.table = None
    return rec


def test_live_calls_read_what_the_portal_lists_computed(
    tmp_path: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Computing the portal lists keeps every trigger commission's similar-case hits
    (``kept/cases/``) and every offered row's model contributions
    (``kept/contributions/``); a later load looks them up (and maps the snapshot's
    explanation arrays) instead of searching, running TreeSHAP and computing, and
    explains exactly as those would. Hits of another index are not used, nor
    contributions of a row whose features changed."""
    import shutil

    from recsvc.semantic import FakeEmbedder, build_semantic
    from recsvc.serving.build import write_version_files
    from recsvc.serving.layout import CASE_HITS, CONTRIBUTIONS

    folder = tmp_path / "v"
    shutil.copytree(trained, folder)
    settings = _settings(tmp_path)
    frames = make_history()
    layer = build_semantic(frames, settings, FakeEmbedder())
    saved = tmp_path / "serving" / "v"
    write_version_files(settings, frames, layer, folder, snapshot=saved)
    assert (folder / CASE_HITS / "config.json").exists()
    assert (folder / CONTRIBUTIONS / "config.json").exists()
    ids = [int(c) for c in frames.commissions["client_id"].unique()]

    def explained(history: Frames, *, kept: bool) -> dict:
        rec = open_recommender(
            settings, None, layer, folder, frames=history, saved=saved if kept else None
        )
        assert rec.explainer.case_table is not None and rec.contributions.table is not None
        assert isinstance(rec.explainer.state.sims, np.memmap) == kept
        return _offers(rec if kept else _in_memory(rec), ids)

    want = explained(frames, kept=False)
    _assert_explained_with_evidence(want)

    def no_search(*args: object, **kw: object) -> None:
        raise AssertionError("cases compared although the version keeps the hits")

    shap_rows: list[int] = []
    predict = lightgbm.Booster.predict

    def counted(self: lightgbm.Booster, X: np.ndarray, *args: object, **kw: object) -> np.ndarray:
        if kw.get("pred_contrib"):
            shap_rows.append(len(X))
        return predict(self, X, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(lightgbm.Booster, "predict", counted)
    with monkeypatch.context() as m:
        m.setattr("recsvc.recommend.client_lookups.closest_cases", no_search)
        _assert_alike(explained(frames, kept=True), want)
    assert not shap_rows, "TreeSHAP ran although the version keeps every offered row"

    # one more purchase: the rows whose features it changed are computed again
    bought = make_history()
    bought.orders = pd.concat([bought.orders, bought.orders.iloc[[0]]], ignore_index=True)
    shap_rows.clear()
    partly = explained(bought, kept=True)
    recomputed = sum(shap_rows)
    shap_rows.clear()
    _assert_alike(partly, explained(bought, kept=False))
    assert 0 < recomputed < sum(shap_rows), (recomputed, sum(shap_rows))

    rebuilt = build_semantic(frames, settings, FakeEmbedder())
    assert rebuilt.signature() != layer.signature()
    assert (
        open_recommender(settings, None, rebuilt, folder, frames=frames).explainer.case_table
        is None
    )


def test_the_demo_store_explains_alike_from_kept_files_and_in_memory(
    api_demo_bundle: Path, tmp_path: Path
) -> None:
    """The served version of the demo store (trained by the pipeline, with its semantic
    index and value model) explains every client on both surfaces exactly as the same
    version does when it computes everything in memory: the mapped explanation arrays,
    ranker scores, kept case hits and contributions change no offer nor sentence."""
    from tests.fixtures_api import open_demo

    settings, runtime = open_demo(api_demo_bundle, tmp_path)
    try:
        bundle = runtime.require_bundle()
        served = bundle.recommender
        assert isinstance(served.explainer.state.sims, np.memmap)
        assert served.explainer.case_table is not None and served.contributions.table is not None
        ids = [int(c) for c in served.context.clients.index]
        fresh = open_recommender(
            settings,
            runtime.db,
            served.explainer.semantic,
            bundle.path,
            frames=served.context.history,
            features=bundle.features,
        )
        assert not isinstance(fresh.explainer.state.sims, np.memmap)
        want = _offers(_in_memory(fresh), ids)
        _assert_explained_with_evidence(want)
        _assert_alike(_offers(served, ids), want)
    finally:
        runtime.close()


def test_a_client_imported_after_the_snapshot_without_orders_is_recommended(
    api_demo_bundle: Path, tmp_path: Path
) -> None:
    """A live call for a client the version's snapshot has not seen reads it from the
    store (cold start); one with a commission and no orders yet must still be ranked."""
    from recsvc.ingest import import_dir
    from tests.fixtures_api import open_demo

    _, runtime = open_demo(api_demo_bundle, tmp_path)
    try:
        served = runtime.require_bundle().recommender
        files = tmp_path / "new"
        files.mkdir()
        (files / "clients.csv").write_text(
            "external_id,kind,name_zh,industry_field\nNEW-1,enterprise,新客户有限公司,biomedicine\n",
            encoding="utf-8",
        )
        (files / "commissions.csv").write_text(
            "external_id,client_external_id,title_zh,title_en,purpose,commissioned_on\n"
            "NEWC-1,NEW-1,猪瘟活疫苗研制,Development of a live swine fever vaccine,"
            "patent_application,2025-11-01\n",
            encoding="utf-8",
        )
        import_dir(runtime.db, files)
        new_id = queries.client_id(runtime.db, external_id="NEW-1")
        assert new_id is not None and new_id not in served.context.clients.index
        offers = served.recommend(new_id, Surface.LIBRARIAN, k=3)
        assert len(offers) == 3 and all(o.reasons_en for o in offers)
        history = served.context.history
        assert history.orders["amount"].dtype.kind == "f"  # the snapshot's types are kept
    finally:
        runtime.close()
