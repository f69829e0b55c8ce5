"""One place for the words of every closed vocabulary (:mod:`recsvc.store.labels`)."""

from __future__ import annotations

import inspect
import re
from enum import StrEnum
from pathlib import Path

import pytest

from recsvc.features import STAGE_LABELS, STAGES
from recsvc.ingest.schema import SCHEMAS
from recsvc.store import enums
from recsvc.store.enums import ClientKind, InteractionKind, Purpose, Severity
from recsvc.store.labels import (
    CASE_KIND_PHRASES,
    ENUM_VOCABULARIES,
    KIND_PHRASES,
    PURPOSE_PHRASES,
    SEGMENT_CODES,
    STAGE_CODES,
    VOCABULARIES,
    import_spellings,
    label,
)
from recsvc.value import SEGMENT_LABELS, SEGMENTS

CJK = re.compile(r"[\u4e00-\u9fff]")
ALL_ENUMS = [
    obj
    for _, obj in inspect.getmembers(enums, inspect.isclass)
    if issubclass(obj, StrEnum) and obj is not StrEnum
]


def test_every_enum_is_a_vocabulary() -> None:
    covered = {enum for enum, _ in ENUM_VOCABULARIES.values()}
    assert set(ALL_ENUMS) == covered


@pytest.mark.parametrize("enum", ALL_ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_a_zh_and_en_label(enum: type[StrEnum]) -> None:
    name = next(n for n, (e, _) in ENUM_VOCABULARIES.items() if e is enum)
    labels = VOCABULARIES[name]
    assert set(labels) == {m.value for m in enum}
    for member in enum:
        zh, en = label(name, member, "zh"), label(name, member.value, "en")
        assert zh and CJK.search(zh), (member, zh)
        assert en and not CJK.search(en), (member, en)


def test_segments_and_stages_are_labelled_in_their_order() -> None:
    assert tuple(VOCABULARIES["segment"]) == SEGMENT_CODES == SEGMENTS
    assert tuple(VOCABULARIES["stage"]) == STAGE_CODES == STAGES
    assert SEGMENT_LABELS["dormant"] == ("休眠用户", "dormant client")
    assert SEGMENT_LABELS["potential"] == ("潜在重点用户", "potential key client")
    assert STAGE_LABELS["awareness"] == ("认知", "awareness")


def test_unknown_vocabulary_or_code_has_no_label() -> None:
    assert label("nope", "enterprise", "zh") is None
    assert label("kind", "spaceship", "en") is None


def test_import_accepts_every_spelling_and_the_zh_label() -> None:
    spell = import_spellings(InteractionKind)
    assert spell["visit"] == ("走访", "拜访", "回访")
    assert spell["call"] == ("电话",)
    col = SCHEMAS["interactions"].column("kind")
    assert col.labels() == spell
    for member in InteractionKind:
        assert col.parse_enum(label("interaction", member, "zh") or "") == member.value
    assert SCHEMAS["complaints"].column("severity").parse_enum("重大") == Severity.CRITICAL
    assert import_spellings(StrEnum) == {}


def test_explanation_phrases_cover_every_code() -> None:
    codes = {k.value for k in ClientKind}
    assert set(KIND_PHRASES) == codes == set(CASE_KIND_PHRASES)
    assert set(PURPOSE_PHRASES) == {p.value for p in Purpose}
    assert KIND_PHRASES["enterprise"] == ("企业", "an enterprise")
    assert PURPOSE_PHRASES["other"] == ("其他", "other purposes")
    assert PURPOSE_PHRASES["market_entry"] == ("市场进入", "market entry")


def test_the_glossary_translates_every_profile_word_the_demo_writes() -> None:
    """Industry fields and enterprise types are the centre's words: each one the demo
    generator writes has its English in the glossary, so an English page never shows
    them in Chinese; a word not in the glossary is shown as imported."""
    import json

    from recsvc.demo.names import ENTERPRISE_TYPES

    demo_fields = json.loads(
        (Path(__file__).resolve().parent.parent / "recsvc/demo/fields.json").read_text("utf-8")
    )
    for f in demo_fields:
        assert label("field", f["name_zh"], "en") == f["name_en"], f["code"]
        assert label("field", f["name_zh"], "zh") == f["name_zh"]
    assert all(label("enterprise_type", t, "en") for t in ENTERPRISE_TYPES)
    assert label("field", "某个未登记的领域", "en") is None
    en = [lab.en for name in ("field", "enterprise_type") for lab in VOCABULARIES[name].values()]
    assert not [w for w in en if re.search(r"[\u3400-\u9fff]", w)]


def test_every_candidate_source_has_words() -> None:
    from recsvc.recommend import sources as src

    for source in (
        src.ContentSource,
        src.LookAlikeSource,
        src.LadderSource,
        src.PurposeSource,
        src.PopularInSegmentSource,
        src.PopularSource,
        src.RandomSource,
        src.SourceChain,
    ):
        assert label("source", source.name, "zh"), source.name
        assert label("source", source.name, "en") != source.name
