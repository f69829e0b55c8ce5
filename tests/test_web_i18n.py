"""Both label catalogues hold the same keys, and every label a page asks for exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api.web.i18n import CATALOGUE_DIR, LANGS, Translator, catalogue
from recsvc.store.enums import (
    ClientKind,
    DeclineReason,
    FeedbackKind,
    InteractionKind,
    JobStatus,
    Purpose,
    Role,
    Severity,
)
from recsvc.store.labels import VOCABULARIES

TEMPLATES = Path(__file__).resolve().parent.parent / "api" / "templates"
WEB = Path(__file__).resolve().parent.parent / "api" / "web"
LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([a-z0-9_.]+)['"]""")
PREFIXED_KEY = re.compile(r"""t\.opt\(\s*['"]([a-z_]+)['"]""")
CONCAT_KEY = re.compile(r"""t\(\s*['"]([a-z0-9_.]+\.)['"]\s*~""")


def _template_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.html"))


def test_catalogues_have_the_same_keys() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en), {
        "only zh": sorted(set(zh) - set(en)),
        "only en": sorted(set(en) - set(zh)),
    }
    for lang in LANGS:
        raw = json.loads((CATALOGUE_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert all(isinstance(v, str) and v.strip() for v in raw.values()), lang


def test_every_literal_key_used_by_a_page_exists() -> None:
    used = set(LITERAL_KEY.findall(_template_text()))
    for py in WEB.glob("*.py"):
        used |= set(re.findall(r'"((?:error|models|login)\.[a-z0-9_.]+)"', py.read_text()))
    assert used, "no label found: the pattern is broken"
    used = {k for k in used if not k.endswith((".", ".html"))}
    missing = sorted(k for k in used if k not in catalogue("en"))
    assert not missing


@pytest.mark.parametrize(
    ("prefix", "codes"),
    [
        ("kind", [k.value for k in ClientKind]),
        ("decline", [d.value for d in DeclineReason]),
        ("purpose", [p.value for p in Purpose]),
        ("feedback", [f.value for f in FeedbackKind]),
        ("interaction", [i.value for i in InteractionKind]),
        ("severity", [s.value for s in Severity]),
        ("job", [j.value for j in JobStatus]),
        ("role", [r.value for r in Role]),
        ("segment", ["key", "potential", "general", "new", "dormant"]),
        ("stage", ["awareness", "exploration", "expansion", "commitment", "dissolution"]),
        ("outcome.recorded", ["accepted", "declined", "purchased"]),
        ("timeline", ["commission", "order", "feedback", "complaint", "interaction"]),
        ("search.kind", ["commissions", "clients", "cases"]),
    ],
)
def test_every_enum_label_exists(prefix: str, codes: list[str]) -> None:
    for lang in LANGS:
        t = Translator(lang)
        assert [c for c in codes if t.opt(prefix, c, "\0") == "\0"] == [], lang
        assert [c for c in codes if t(f"{prefix}.{c}") == f"{prefix}.{c}"] == [], lang


def test_catalogues_hold_no_vocabulary_codes() -> None:
    """Enum, segment and stage labels live only in :mod:`recsvc.store.labels`."""
    for lang in LANGS:
        clash = sorted(k for k in catalogue(lang) if k.rsplit(".", 1)[0] in VOCABULARIES)
        assert clash == [], lang


def test_templates_use_only_known_prefixes() -> None:
    text = _template_text()
    prefixes = set(PREFIXED_KEY.findall(text)) | {p.rstrip(".") for p in CONCAT_KEY.findall(text)}
    known = {k.rsplit(".", 1)[0] for k in catalogue("en")} | set(VOCABULARIES)
    assert prefixes <= known | {"error"}, prefixes - known


def test_chinese_labels_are_chinese_and_translator_fills_values() -> None:
    zh = Translator("zh")
    assert zh("nav.worklist") == "工作清单"
    assert Translator("en")("common.page", page=3) == "Page 3"
    assert zh("common.page", page=3) == "第 3 页"
    assert Translator("fr").lang == "zh"
    assert zh.opt("segment", "key") == "重点用户"
    assert zh.opt("segment", "unknown-code") == "unknown-code"
    assert Translator("en").opt("kind", "enterprise") == "Enterprise"
    assert Translator("en")("role.admin") == "admin"
    assert zh("role.nobody") == "role.nobody"
    cjk = re.compile(r"[\u4e00-\u9fff]")
    english_only = {"lang.en"}
    untranslated = [
        k for k, v in catalogue("zh").items() if k not in english_only and not cjk.search(v)
    ]
    assert untranslated == []
