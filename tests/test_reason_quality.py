"""Reasons a librarian can read (issue 17, item 2), over the trained demo.

Every reason of the whole demo worklist, and every evidence sentence of the offers of a
sample of clients (librarian and portal surfaces) and of their value scores, is read in
Chinese and in English. A reason fails on:

- a **raw decimal**: a number with two or more decimals (``7.00``, ``0.06``), once
  percentages (``90%``), amounts (``¥1,200``, ``CNY 1,200``), ISO dates and quoted text
  are set aside;
- **mixed scripts**: Chinese characters in an English sentence, or a Latin word in a
  Chinese one, outside “quoted” client-supplied text (a commission title, a field); an
  upper-case acronym of up to six letters (``SCI``, ``SLAM``, ``5G``) is a word of both;
- a **duplicated label**: a word repeated as a label ("客户特征 客户特征：…"), or a
  sentence that begins with the label of the badge the console puts before it;
- a **stale headline**: the worklist's one line citing a month older than
  ``reason_max_age_years`` before the business "now";
- a **contradicted sign**: a value-model factor whose words say it raises the chance
  when its contribution lowers it (or the reverse), a reference point ("higher than
  90% of clients") that the population does not bear out, or an offer factor (the
  ranker keeps only contributions in favour) worded as counting against.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recsvc.store.enums import Surface
from recsvc.usecases import scoring
from recsvc.usecases import worklist as uc_worklist
from tests.fixtures_api import ApiEnv

QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
ALLOWED_NUMBERS = re.compile(
    r"\d[\d,]*(?:\.\d+)?\s?%|(?:¥|CNY\s?)\d[\d,]*(?:\.\d+)?|\d{4}-\d{2}(?:-\d{2})?"
)
RAW_DECIMAL = re.compile(r"\d+\.\d{2,}")
HAN = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"\d*[A-Za-z][A-Za-z0-9'-]*")
#: SCI, SLAM, and technical names such as 5G or 3D (Chinese writes them in Latin too)
ACRONYM = re.compile(r"^(?:\d+[A-Z][A-Z0-9&]{0,4}|[A-Z][A-Z0-9&]{1,5})$")
REPEATED_LABEL = re.compile(r"(\w{2,})[\s:：]+\1[:：]")
ZH_MONTH = re.compile(r"(\d{4})(?:年|-)(\d{1,2})(?:月|\b)")
RAISES = ("提高了购买可能性", "raises the chance")
LOWERS = ("降低了购买可能性", "lowers the chance")
I18N = Path(__file__).resolve().parents[1] / "api" / "i18n"


def problems(text: str, lang: str, badge: str | None = None) -> list[str]:
    """What is wrong with one reason in ``lang`` (see the module docstring)."""
    found = []
    bare = QUOTED.sub("“”", text)
    if RAW_DECIMAL.search(ALLOWED_NUMBERS.sub("", bare)):
        found.append("raw decimal")
    if lang == "en" and HAN.search(bare):
        found.append("Chinese in an English reason")
    if lang == "zh":
        latin = [w for w in LATIN_WORD.findall(bare) if not ACRONYM.match(w)]
        if latin:
            found.append(f"Latin words in a Chinese reason: {latin}")
    if REPEATED_LABEL.search(text):
        found.append("duplicated label")
    if badge:
        head = re.split(r"[（( ]", badge)[0].lower()
        if head and text.lower().startswith(head):
            found.append(f"repeats its badge {badge!r}")
    return found


def test_the_rules_catch_what_main_printed() -> None:
    """The checks themselves, on sentences the console showed before issue 17."""
    assert problems("近期委托强度为7.00", "zh") == ["raw decimal"]
    assert problems("Mean satisfaction: 4.42 (lowers the value score)", "en")
    assert problems(
        "Similar case: An enterprise in 新能源汽车 with a novelty-search project on x", "en"
    )
    assert problems("来源: content, ladder", "zh")
    assert problems("客户特征 客户特征：近期委托强度", "zh")
    assert problems("客户特征：近期委托强度", "zh", badge="客户特征")
    assert problems("相似案例：一家企业", "zh", badge="相似案例（匿名）")
    # quoted client text, percentages, amounts, acronyms and one decimal are fine
    assert not problems("2025年9月委托的查新项目“基于SLAM的0.18μm工艺”", "zh")
    assert not problems("The project “基于SLAM定位的巡检机器人” (Aug 2025)", "en")
    assert not problems("高于90%的客户，累计¥21,525，满意度4.4分", "zh")
    assert not problems("bought 1.8 times as often; CNY 1,200; 12.5%", "en")


@pytest.mark.parametrize(
    ("feature", "value"),
    [
        ("n_commissions_12m", 7.0),
        ("decayed_commissions", 7.0),
        ("field_growth_5y", 0.0593),
        ("loyalty_score", 11.634),
        ("satisfaction_mean", 4.424),
        ("fee_total", 21525.4379),
        ("invention_share", 0.5381),
        ("months_since_first_commission", 173.24),
        ("purpose_project_approval_24m", 6.0),
        ("kind_university", 1.0),
        ("no_such_feature", 3.14159),
    ],
)
@pytest.mark.parametrize("contribution", [0.4, -0.4])
def test_a_factor_says_its_value_reference_and_sign(
    feature: str, value: float, contribution: float
) -> None:
    from recsvc.features.phrasing import factor_text

    population = np.linspace(0, 2 * value, 101)
    zh, en = factor_text(feature, value, contribution, population)
    said, other = (RAISES, LOWERS) if contribution > 0 else (LOWERS, RAISES)
    assert said[0] in zh and other[0] not in zh
    assert said[1] in en and other[1] not in en
    assert not problems(zh, "zh") and not problems(en, "en"), (zh, en)
    for share in re.findall(r"高于(\d+)%", zh):
        assert 100 * np.mean(population < value) >= int(share)


def test_why_now_signals_and_an_ended_cool_down() -> None:
    """Momentum and a satisfaction dip from the features, each against all clients;
    a decline whose cool-down ended within as long again (not before, not long after)."""
    from types import SimpleNamespace

    from recsvc.features.phrasing import Population
    from recsvc.recommend.signals import cooldown_ended, why_now

    feats = pd.DataFrame(
        {
            "client_fields_momentum": np.linspace(-1, 1, 100),
            "satisfaction_trend": np.linspace(-1, 1, 100),
        },
        index=range(100),
    )
    ctx: Any = SimpleNamespace(
        features=feats,
        feature=lambda feature, client_id: feats[feature].get(client_id),
        population=lambda feature: Population(feats[feature].to_numpy()),
        cutoff=pd.Timestamp("2025-12-01"),
        settings=SimpleNamespace(decline_cooldown_days=90),
        declines={
            (1, "P"): pd.Timestamp("2025-08-01"),  # 122 days: pause over
            (2, "P"): pd.Timestamp("2025-11-01"),  # still paused
            (3, "P"): pd.Timestamp("2024-01-01"),  # long ago
        },
    )
    top, bottom, middle = why_now(ctx, 99), why_now(ctx, 0), why_now(ctx, 50)
    assert [e.text_en for e in top] == [
        "The fields of its recent projects are gaining momentum: faster than 99% of clients"
    ]
    assert len(bottom) == 1 and "dipped" in bottom[0].text_en and "99%" in bottom[0].text_en
    assert middle == []
    ended = cooldown_ended(ctx, 1, "P")
    assert ended is not None and "2025年8月" in ended.text_zh and "Aug 2025" in ended.text_en
    assert cooldown_ended(ctx, 2, "P") is None and cooldown_ended(ctx, 3, "P") is None
    for e in [*top, *bottom, ended]:
        assert not problems(e.text_zh, "zh") and not problems(e.text_en, "en")


@pytest.fixture(scope="module")
def badges() -> dict[str, dict[str, str]]:
    """The console's badge before each kind of evidence, per language."""
    out = {}
    for lang in ("zh", "en"):
        labels = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
        out[lang] = {k.removeprefix("evidence."): v for k, v in labels.items() if "evidence." in k}
    return out


@pytest.fixture(scope="module")
def rows(api_demo: ApiEnv) -> list[Any]:
    """The whole demo worklist."""
    found = uc_worklist.worklist(
        api_demo.runtime, filters=uc_worklist.WorklistFilters(limit=100_000)
    ).rows
    assert len(found) >= 100
    return found


def _now_and_max_age(env: ApiEnv) -> tuple[pd.Timestamp, pd.Timedelta]:
    bundle = env.runtime.require_bundle()
    years = float(getattr(env.settings, "reason_max_age_years", 3.0))
    return bundle.recommender.context.cutoff, pd.Timedelta(days=365.25 * years)


def _sample(rows: list[Any]) -> list[int]:
    """Clients of the worklist's top, middle and bottom."""
    ids = [r.client_id for r in rows]
    return list(dict.fromkeys([*ids[:8], *ids[len(ids) // 2 :][:6], *ids[-6:]]))


def _evidence(env: ApiEnv, client_ids: list[int]) -> Iterator[tuple[str, Any]]:
    rec = env.runtime.require_bundle().recommender
    for surface in (Surface.LIBRARIAN, Surface.PORTAL):
        for cid in client_ids:
            for offer in rec.recommend(cid, surface, k=5):
                assert offer.evidence, (cid, offer.code)
                for e in offer.evidence:
                    yield f"{cid}/{offer.code}/{surface}", e


def test_every_worklist_reason_reads_well(rows: list[Any]) -> None:
    bad = []
    for r in rows:
        for lang, text in (("zh", r.reason_zh), ("en", r.reason_en)):
            assert text, r.client_id
            bad += [(r.client_id, text, p) for p in problems(text, lang)]
    assert not bad, bad[:10]


def test_no_headline_cites_stale_evidence(api_demo: ApiEnv, rows: list[Any]) -> None:
    """The worklist's one line never cites a month older than the setting; older
    evidence is still told, lower down and dated (the demo has some)."""
    now, max_age = _now_and_max_age(api_demo)
    stale = []
    for r in rows:
        for y, m in ZH_MONTH.findall(r.reason_zh):
            if now - pd.Timestamp(int(y), int(m), 1) > max_age + pd.Timedelta(days=31):
                stale.append((r.client_id, r.reason_zh))
    assert not stale, stale[:10]
    rec = api_demo.runtime.require_bundle().recommender
    told_later = [
        e.text_zh
        for r in rows[:60]
        for o in rec.recommend(r.client_id, Surface.LIBRARIAN, k=5)
        for e in o.evidence[1:]
        if e.kind == "own_project"
        and any(
            now - pd.Timestamp(int(y), int(m), 1) > max_age + pd.Timedelta(days=31)
            for y, m in ZH_MONTH.findall(e.text_zh)
        )
    ]
    assert told_later, "the demo has own projects older than the setting"


def test_every_offer_reason_reads_well(
    api_demo: ApiEnv, rows: list[Any], badges: dict[str, dict[str, str]]
) -> None:
    bad = []
    seen = 0
    for where, e in _evidence(api_demo, _sample(rows)):
        for lang, text in (("zh", e.text_zh), ("en", e.text_en)):
            seen += 1
            bad += [(where, text, p) for p in problems(text, lang, badges[lang].get(e.kind))]
            if e.kind == "factor" and any(w in text for w in LOWERS):
                bad.append((where, text, "an offer factor counted for the offer reads as against"))
    assert seen > 200
    assert not bad, bad[:10]


def test_value_reasons_follow_their_sign_and_population(api_demo: ApiEnv, rows: list[Any]) -> None:
    bundle = api_demo.runtime.require_bundle()
    features = bundle.features
    assert features is not None
    bad = []
    n = 0
    for cid in _sample(rows):
        score = scoring.client_score(api_demo.runtime, client_id=cid)
        assert score is not None and score.reasons
        for reason in score.reasons:
            n += 1
            up = reason.contribution > 0
            for lang, text in ((0, reason.text_zh), (1, reason.text_en)):
                said, other = (RAISES, LOWERS) if up else (LOWERS, RAISES)
                if said[lang] not in text or other[lang] in text:
                    bad.append((cid, text, f"contribution {reason.contribution:+.3f}"))
                bad += [(cid, text, p) for p in problems(text, ("zh", "en")[lang])]
            pop = features[reason.feature].to_numpy(dtype=float)
            pop = pop[np.isfinite(pop)]
            v = reason.value
            for share in re.findall(r"高于(\d+)%的客户", reason.text_zh):
                if v is None or 100 * np.mean(pop < v) < int(share):
                    bad.append((cid, reason.text_zh, f"value {v} is not above {share}%"))
            for share in re.findall(r"低于(\d+)%的客户", reason.text_zh):
                if v is None or 100 * np.mean(pop > v) < int(share):
                    bad.append((cid, reason.text_zh, f"value {v} is not below {share}%"))
    assert n >= len(_sample(rows))
    assert not bad, bad[:10]


def test_the_client_page_shows_the_reasons_as_sentences(api_demo: ApiEnv, rows: list[Any]) -> None:
    """What a librarian reads on the client page is the same checked sentences, one
    language at a time, never an object's repr."""
    from fastapi.testclient import TestClient

    from tests.fixtures_web import sign_in

    console = TestClient(api_demo.client.app)
    sign_in(console, api_demo.keys["librarian"])
    bad: list[tuple[str, str, str]] = []
    items = 0
    for r in rows[:4]:
        for lang in ("zh", "en"):
            console.post("/console/lang", data={"lang": lang, "csrf_token": _csrf(console)})
            page = console.get(f"/console/clients/{r.external_id}")
            assert page.status_code == 200
            for block in re.findall(r'<ul class="evidence">(.*?)</ul>', page.text, re.S):
                for li in re.findall(r"<li>(.*?)</li>", block, re.S):
                    text = html.unescape(re.sub(r"<[^>]+>", " ", li)).strip()
                    items += 1
                    if "kind=" in text or "text_zh=" in text:
                        bad.append((r.external_id, text[:80], "an object's repr"))
                    bad += [(r.external_id, text[:80], p) for p in problems(text, lang)]
    assert items >= 8
    assert not bad, bad[:10]


def _csrf(console: Any) -> str:
    page = console.get("/console/")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_a_sorted_population_places_a_client_as_a_pass_over_every_client_does() -> None:
    """Where a client stands (floored percent strictly below and above) from the sorted
    population equals counting over every value, ties and missing values included."""
    import math

    from recsvc.features.phrasing import Population, reference_point

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 29, 100, 1000):
        values = np.round(rng.standard_normal(n), 1)  # many ties
        values[::5] = np.nan
        finite = values[np.isfinite(values)]
        population = Population(values)
        assert len(population) == len(finite)
        for value in [*np.unique(finite), *rng.standard_normal(10), -9.0, 9.0]:
            below = math.floor(100 * float(np.mean(finite < value))) if len(finite) else 0
            above = math.floor(100 * float(np.mean(finite > value))) if len(finite) else 0
            assert (population.below(value), population.above(value)) == (below, above)
            assert reference_point(value, population) == reference_point(value, values)


def test_a_feature_value_is_the_frames_cell_or_none() -> None:
    """The context's feature lookup answers as the frame does: the cell (NaN kept), and
    ``None`` for a client or a column it does not have, or without features."""
    from recsvc.recommend.context import RecContext
    from recsvc.recommend.signals import feature_value

    feats = pd.DataFrame({"satisfaction_trend": [0.5, np.nan, -0.25]}, index=pd.Index([30, 10, 20]))
    ctx = RecContext(history=Any, cutoff=pd.Timestamp("2025-12-01"), text=Any, features=feats)
    for client_id in (30, 10, 20):
        cell = feats.loc[client_id, "satisfaction_trend"]
        got = ctx.feature("satisfaction_trend", client_id)
        assert got == cell or (np.isnan(cell) and np.isnan(got))
    assert ctx.feature("satisfaction_trend", 99) is None
    assert ctx.feature("no_such_feature", 30) is None
    assert feature_value(ctx, 10, "satisfaction_trend")[0] is None  # missing: no value
    assert feature_value(ctx, 20, "satisfaction_trend")[0] == -0.25
    bare = RecContext(history=Any, cutoff=pd.Timestamp("2025-12-01"), text=Any)
    assert bare.feature("satisfaction_trend", 30) is None
