"""The demo data reads true: its titles and profiles have none of the tells of issue 17.

A visitor reads the demo first. These tests sample a deterministic demo (2,000 clients)
and read its text against the generator's own vocabulary (``recsvc/demo/fields.json``,
``recsvc/demo/names.py``) as ground truth: which terms belong to which field and topic,
which institutes and universities work in which fields. They read the written files,
not the generator's choices, so they catch what a reader would see:

- a word doubled where parts join (猪瘟活疫苗疫苗研制, "vaccine vaccine"), or an
  object's head noun said twice (污水处理设备成套设备);
- title parts from different fields or topics (a surgical robot for substation
  inspection, a virus "developed" with qPCR …);
- a research group at an institute or university that does not work in its field (a
  crop-breeding group at an oceanography institute);
- core technologies or products from outside the client's own field (an environmental
  firm with wafer-level packaging), or products that are studied, not made (a virus).

Each check returns the offending rows as text, so a failure shows what reads false.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from recsvc.demo import generate
from recsvc.demo import organisations as org
from recsvc.demo.fields import FIELDS, TERM_LISTS, Field

CLIENTS = 2000
SEED = 20240601

Unit = tuple[str, str]
"""(field code, topic name): terms that belong together."""

_FIELD_BY_NAME: dict[str, Field] = {f.name_zh: f for f in FIELDS}
_CJK_DOUBLED = re.compile(r"([\u4e00-\u9fff]{2,})\1")
_EN_DOUBLED = re.compile(r"(?<![\w-])([\w-]+)\s+\1(?![\w-])", re.IGNORECASE)


def _text(term: str, lang: str) -> str:
    return term.lstrip("*") if lang == "zh" else term.lower()


@cache
def _units(lang: str) -> dict[str, frozenset[Unit]]:
    """Every vocabulary term (any slot) → the topics it belongs to."""
    out: dict[str, set[Unit]] = {}
    for f in FIELDS:
        for t in f.topics:
            for slot in TERM_LISTS:
                for zh, en in t.terms(slot):
                    out.setdefault(_text(zh if lang == "zh" else en, lang), set()).add(
                        (f.code, t.name)
                    )
    return {k: frozenset(v) for k, v in out.items()}


@cache
def _objects(lang: str) -> frozenset[str]:
    return frozenset(_text(zh if lang == "zh" else en, lang) for f in FIELDS for zh, en in f.obj)


@cache
def _processes(lang: str) -> frozenset[str]:
    """What titles say is done to their objects (a method, a process, equipment)."""
    return frozenset(_text(zh if lang == "zh" else en, lang) for f in FIELDS for zh, en in f.proc)


@cache
def _matcher(lang: str) -> re.Pattern[str]:
    """Finds vocabulary terms in a text, the longest one at each position."""
    alt = "|".join(map(re.escape, sorted(_units(lang), key=len, reverse=True)))
    return re.compile(f"(?:{alt})" if lang == "zh" else rf"(?<![\w-])(?:{alt})(?![\w-])")


def _terms_in(text: str, lang: str) -> list[re.Match[str]]:
    return list(_matcher(lang).finditer(text if lang == "zh" else text.lower()))


def _head(obj: str, lang: str) -> str:
    """An object's head noun: its last two characters, or its last English word.

    Said again in the title's process, it reads twice (污水处理设备成套设备, "an
    intelligent source-grid-load-storage system and its control system")."""
    return obj[-2:] if lang == "zh" else obj.split()[-1]


def title_tells(commissions: pd.DataFrame) -> list[str]:
    """Titles that double a word, say an object's head noun twice, mix terms of
    different fields or topics, or hold no object of the commission's field."""
    bad: list[str] = []
    for field_zh, title_zh, title_en in commissions[
        ["industry_type", "title_zh", "title_en"]
    ].itertuples(index=False):
        code = _FIELD_BY_NAME[field_zh].code
        for lang, title in (("zh", title_zh), ("en", title_en)):
            if not title:
                continue
            doubled = (_CJK_DOUBLED if lang == "zh" else _EN_DOUBLED).search(title)
            if doubled:
                bad.append(f"doubled {doubled.group(0)!r}: {title}")
                continue
            found = _terms_in(title, lang)
            objs = [m for m in found if m.group(0) in _objects(lang)]
            if not objs:
                bad.append(f"no object of the vocabulary: {title}")
                continue
            heads = {_head(m.group(0), lang) for m in objs}
            again = [
                (h, m.group(0))
                for m in found
                if m not in objs and m.group(0) in _processes(lang)
                for h in heads
                if h in (m.group(0) if lang == "zh" else m.group(0).split())
            ]
            if again:
                bad.append(f"head noun {again[0][0]!r} again in {again[0][1]!r}: {title}")
                continue
            common = frozenset.intersection(*(_units(lang)[m.group(0)] for m in found))
            if not {c for c, _ in common} & {code}:
                parts = {m.group(0): sorted(_units(lang)[m.group(0)])[:2] for m in found}
                bad.append(f"parts of different fields/topics ({field_zh}): {title} {parts}")
    return bad


Org = tuple[str, str, tuple[str, ...]]
"""An institute or university: (zh, en, codes of the fields it works in)."""


def _fits(orgs: Iterable[Org], name_zh: str, name_en: str) -> Org | None:
    """The organisation a group's name starts with (zh) and ends with (en)."""
    for zh, en, codes in sorted(orgs, key=lambda o: -len(o[0])):
        if name_zh.startswith(zh) and name_en.endswith(", " + en):
            return zh, en, codes
    return None


def name_tells(clients: pd.DataFrame) -> list[str]:
    """Organisation names that do not fit the client's field: the enterprise's industry
    word, the academy's field, a research group at an institute (or a team at a
    university) that does not work in the group's field."""
    bad: list[str] = []
    for kind, name_zh, name_en, field_zh in clients[
        ["kind", "name_zh", "name_en", "industry_field"]
    ].itertuples(index=False):
        f = _FIELD_BY_NAME[field_zh]
        label = f"{kind} {name_zh} / {name_en} ({f.code})"
        if kind == "enterprise":
            iz, ie = org.INDUSTRY_WORDS[f.code]
            if iz not in name_zh or ie.lower() not in name_en.lower():
                bad.append(f"industry word of another field: {label}")
        elif kind == "research_institute":
            if f.name_zh not in name_zh or f.name_en.lower() not in name_en.lower():
                bad.append(f"academy of another field: {label}")
        elif kind in ("in_house_institute", "university"):
            orgs = org.ACADEMY_INSTITUTES if kind == "in_house_institute" else org.UNIVERSITIES
            found = _fits(orgs, name_zh, name_en)
            if found is None:
                bad.append(f"unknown organisation: {label}")
                continue
            zh, en, codes = found
            group_zh = name_zh[len(zh) :]
            group_en = name_en[: -len(", " + en)].lower()
            if kind == "in_house_institute":
                said = group_zh == f"{f.name_zh}研究组" and group_en == f"{f.name_en} group".lower()
            else:
                said = group_zh == f"{f.subject_zh}研究团队" and (
                    group_en == f"{f.name_en} research team".lower()
                )
            if not said:
                bad.append(f"group's field is not the client's: {label}")
            elif f.code not in codes:
                bad.append(f"{zh} does not work in {f.name_zh}: {label}")
    return bad


def profile_tells(clients: pd.DataFrame) -> list[str]:
    """Core technologies that are not techniques of the client's own field; core
    products that are not its objects, or are objects studied rather than made."""
    bad: list[str] = []
    for name_zh, field_zh, techs, prods in clients[
        ["name_zh", "industry_field", "core_technologies", "core_products"]
    ].itertuples(index=False):
        f = _FIELD_BY_NAME[field_zh]
        own_tech = {zh for zh, _ in f.tech}
        made = {zh for t in f.topics if t.made for zh, _ in t.obj} or {zh for zh, _ in f.obj}
        for tech in filter(None, techs.split(";")):
            if tech not in own_tech:
                bad.append(f"core technology {tech!r} is not {field_zh}: {name_zh}")
        for prod in filter(None, prods.split(";")):
            if prod not in made:
                bad.append(f"core product {prod!r} is not made in {field_zh}: {name_zh}")
    return bad


def read_demo(folder: Path) -> dict[str, pd.DataFrame]:
    """The clients and commissions files of a demo dataset, as text."""
    return {
        name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("clients", "commissions")
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("tells")
    generate(out, n_clients=CLIENTS, seed=SEED)
    return read_demo(out)


def _show(bad: list[str]) -> str:
    return f"{len(bad)} tells, e.g.\n" + "\n".join(bad[:15])


def test_the_sample_is_large_and_bilingual(demo: dict[str, pd.DataFrame]) -> None:
    c = demo["commissions"]
    assert len(demo["clients"]) == CLIENTS and len(c) > 10_000
    assert (c["title_zh"] != "").sum() > 10_000 and (c["title_en"] != "").sum() > 10_000
    assert c["industry_type"].nunique() == len(FIELDS)


def test_titles_read_true(demo: dict[str, pd.DataFrame]) -> None:
    bad = title_tells(demo["commissions"])
    assert not bad, _show(bad)


def test_organisation_names_fit_their_field(demo: dict[str, pd.DataFrame]) -> None:
    clients = demo["clients"]
    assert {"enterprise", "in_house_institute", "university", "research_institute"} <= set(
        clients["kind"]
    )
    bad = name_tells(clients)
    assert not bad, _show(bad)


def test_core_technologies_and_products_come_from_the_clients_field(
    demo: dict[str, pd.DataFrame],
) -> None:
    clients = demo["clients"]
    assert (clients["core_technologies"] != "").all() and (clients["core_products"] != "").all()
    bad = profile_tells(clients)
    assert not bad, _show(bad)


@pytest.mark.parametrize(
    ("field", "title_zh", "title_en"),
    [
        ("兽用疫苗", "面向规模化猪场的猪瘟活疫苗疫苗研制", ""),
        ("兽用疫苗", "", "Vaccine development of live classical swine fever vaccine"),
        ("机器人", "面向变电站的高精度手术机器人运动控制", ""),
        ("机器人", "", "Motion control of high-precision surgical robot for substations"),
        ("污水处理", "MBR膜生物反应器成套化设计研究", "Research on MBR MBR membrane bioreactor"),
        ("兽用疫苗", "基于荧光定量PCR的变异猪瘟病毒疫苗研制", ""),
    ],
)
def test_the_title_check_catches_the_tells_of_the_issue(
    field: str, title_zh: str, title_en: str
) -> None:
    """The check is not vacuous: titles with the issue's tells fail it (the fifth
    fails in English only, the last pairs a detection technique with vaccine work)."""
    row = pd.DataFrame({"industry_type": [field], "title_zh": [title_zh], "title_en": [title_en]})
    assert title_tells(row)


def test_the_profile_checks_catch_the_tells_of_the_issue() -> None:
    clients = pd.DataFrame(
        {
            "kind": ["in_house_institute", "enterprise"],
            "name_zh": ["中国科学院海洋研究所作物育种研究组", "江苏绿源环保科技有限公司"],
            "name_en": [
                "Crop Breeding Group, Institute of Oceanology, CAS",
                "Jiangsu Lvyuan Environmental Technology Co., Ltd.",
            ],
            "industry_field": ["作物育种", "污水处理"],
            "core_technologies": ["基因编辑", "晶圆级封装;厌氧氨氧化"],
            "core_products": ["水稻", "猪瘟病毒"],
        }
    )
    assert len(name_tells(clients)) == 1
    assert len(profile_tells(clients)) == 2
