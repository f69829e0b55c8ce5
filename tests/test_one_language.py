"""One language at a time: every console page, the portal and both exports, rendered in
Chinese and in English, show no words of the other language and no internal codes.

Client-supplied text (names, titles, keywords, notes, regions, people …, everything the
centre imported about its clients except the words its glossary translates) is shown as
it is, so it is taken out of a page before the page is read. What is left must be:

- in Chinese: no Latin words but a few proper names (LightGBM, NDCG@5, CSV …);
- in English: no Chinese characters but the language switch's own "中文";
- in both: no ``snake_case`` or ``dotted.catalogue.keys``, no source codes
  (``look-alike``), no Python values (``None``, ``True``, ``nan``).

The plots are checked by their texts: every title, axis label, tick label and legend
entry of each figure, drawn in each language.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, Text, inspect, select

from recsvc.store.labels import VOCABULARIES
from recsvc.store.models import ENTITIES, ApiKey
from recsvc.usecases import worklist as uc_worklist
from tests.fixtures_api import ApiEnv
from tests.fixtures_web import csrf_of, sign_in

LANGS = ("zh", "en")
HAN = re.compile(r"[\u3400-\u9fff\uff01-\uff5e]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
#: Names a Chinese page writes in Latin letters: products, metrics, formats, the switch.
LATIN_IN_CHINESE = {
    "LightGBM",
    "NDCG",
    "AUC",
    "PR",
    "RFM",
    "Brier",
    "CSV",
    "Excel",
    "API",
    "UTC",
    "recsvc",
    "English",
    "ID",
    "SHAP",
    "PNG",
    "PR-AUC",
}
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z_]+\.[a-z_.]+\b|\b(?:None|True|False|nan)\b")
#: Glossary-backed profile columns: our words, translated, so never stripped.
TRANSLATED_COLUMNS = {"industry_field", "enterprise_type"}
SPLIT = re.compile(r"\s*[;；|·,，、/]\s*")


class _Text(HTMLParser):
    """Visible text and the attributes people read (title, alt, placeholder, aria-label)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "alt", "placeholder", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible(page: str) -> list[str]:
    parser = _Text()
    parser.feed(page)
    return parser.parts


def client_supplied(env: ApiEnv) -> list[str]:
    """Every string the store holds about clients (longest first), and its parts."""
    found: set[str] = set()
    with env.runtime.db.session() as s:
        for model in [*ENTITIES.values(), ApiKey]:
            cols = [
                c
                for c in inspect(model).columns
                if isinstance(c.type, String | Text)
                and not hasattr(c.type, "enums")
                and c.name not in TRANSLATED_COLUMNS
                and c.name not in ("key_hash", "prefix")
            ]
            for row in s.execute(select(*cols)):
                for value in row:
                    if isinstance(value, str) and value.strip():
                        # as stored, and as the search index normalises it (NFKC)
                        for form in {value.strip(), unicodedata.normalize("NFKC", value).strip()}:
                            found.add(form)
                            found.update(p for p in SPLIT.split(form) if len(p) > 1)
    return sorted(found, key=len, reverse=True)


def offences(parts: list[str], lang: str, supplied: list[str]) -> list[str]:
    """What in ``parts`` is neither ``lang`` nor client-supplied, nor a proper name."""
    bad = []
    for part in parts:
        text = part
        for s in supplied:
            if s in text:
                text = text.replace(s, " ")
        if lang == "zh":
            words = [w for w in LATIN_WORD.findall(text) if w not in LATIN_IN_CHINESE]
        else:
            words = [w for w in HAN.findall(text) if w != "中文"]
        words += CODE.findall(text)
        words += [c for c in SOURCE_CODES if c in text]
        if words:
            bad.append(f"{words} in {part[:160]!r}")
    return bad


SOURCE_CODES = [c for c in VOCABULARIES["source"] if "-" in c]


def _console(env: ApiEnv, who: str, lang: str, home: str = "/console/") -> TestClient:
    client = TestClient(env.client.app)
    sign_in(client, env.keys[who])
    page = client.get(home)
    switched = client.post(
        "/console/lang",
        data={"lang": lang, "next": home, "csrf_token": csrf_of(page.text)},
    )
    assert switched.status_code in (200, 303)
    return client


@pytest.fixture(scope="module")
def supplied(api_demo: ApiEnv) -> list[str]:
    return client_supplied(api_demo)


@pytest.fixture(scope="module")
def clients(api_demo: ApiEnv) -> list[str]:
    """The clients of the top worklist rows (each page has offers, evidence, timeline)."""
    rows = api_demo.get("/api/v1/worklist?limit=5", "librarian").json()["data"]
    return list(dict.fromkeys(r["client_external_id"] for r in rows))[:3]


def staff_pages(clients: list[str], version: str) -> Iterator[str]:
    yield "/console/"
    yield "/console/?sort=probability&segment=key"
    for ext in clients:
        yield f"/console/clients/{ext}"
        yield f"/console/portal/{ext}"
    for q in ("疫苗", "vaccine", "锂电池 正极材料"):
        yield f"/console/search?q={q}"
    yield "/console/models"
    yield f"/console/models?version={version}"
    yield "/console/audit"
    yield "/console/audit?action=search"
    yield "/console/clients/NO-SUCH-CLIENT"
    yield "/console/no-such-page"


@pytest.mark.parametrize("lang", LANGS)
def test_every_staff_page_speaks_one_language(
    api_demo: ApiEnv, supplied: list[str], clients: list[str], lang: str
) -> None:
    version = api_demo.path_params()["version"]
    console = _console(api_demo, "admin", lang)
    seen: dict[str, list[str]] = {}
    for path in staff_pages(clients, version):
        page = console.get(path)
        assert page.status_code in (200, 404), (path, page.status_code)
        assert f'<html lang="{lang}' in page.text, path
        bad = offences(visible(page.text), lang, supplied)
        if bad:
            seen[path] = bad[:8]
    assert seen == {}, json.dumps(seen, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("lang", LANGS)
def test_the_portal_speaks_one_language(api_demo: ApiEnv, supplied: list[str], lang: str) -> None:
    ext = api_demo.clients["A"]
    portal = _console(api_demo, "portal", lang, home=f"/console/portal/{ext}")
    page = portal.get(f"/console/portal/{ext}")
    assert page.status_code == 200
    assert offences(visible(page.text), lang, supplied) == []


def _export_cells(env: ApiEnv, lang: str, fmt: str) -> tuple[list[str], list[list[Any]]]:
    console = _console(env, "librarian", lang)
    resp = console.get(f"/console/worklist.{fmt}")
    assert resp.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", LANGS)
def test_both_exports_speak_one_language(
    api_demo: ApiEnv, supplied: list[str], lang: str, fmt: str
) -> None:
    head, rows = _export_cells(api_demo, lang, fmt)
    assert rows, "an empty export proves nothing"
    ids = {
        uc_worklist.heading(api_demo.runtime, c, lang)
        for c in ("client_external_id", "product_code")
    }
    keep = [i for i, h in enumerate(head) if h not in ids]
    cells = [str(r[i]) for r in rows for i in keep if isinstance(r[i], str)]
    assert offences(head, lang, supplied) == []
    assert offences(cells, lang, supplied) == []


def _figure_texts(fig: Any) -> list[str]:
    texts = []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


@pytest.mark.parametrize("lang", LANGS)
def test_every_plot_speaks_one_language(lang: str) -> None:
    from training.plots import calibration_figure, importance_figure, lift_figure

    rng = np.random.default_rng(0)
    backtest = pd.DataFrame(
        {
            "y": rng.integers(0, 2, 400),
            "p_model": rng.random(400),
            "p_logistic": rng.random(400),
            "p_rfm": rng.random(400),
        }
    )
    importance = pd.Series(
        [9.0, 5.0, 2.0], index=["decayed_purchases", "n_commissions", "semantic_sim_buyers"]
    )
    figures = [
        lift_figure(backtest, lang),
        calibration_figure(backtest, lang),
        importance_figure(importance, lang),
    ]
    texts = [t for fig in figures for t in _figure_texts(fig)]
    assert any(HAN.search(t) for t in texts) == (lang == "zh")
    assert offences(texts, lang, []) == []


def _plot_inputs() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    backtest = pd.DataFrame({"y": rng.integers(0, 2, 200), "p_model": rng.random(200)})
    return backtest, pd.Series([3.0, 1.0], index=["decayed_purchases", "n_commissions"])


def test_without_a_cjk_font_the_plots_say_so_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Matplotlib warns once per missing glyph (hundreds per training); the plots log one
    line naming the package to install, and are still written."""
    import warnings

    from training import plots

    monkeypatch.setattr(plots, "FONTS", ["No Such CJK Font", "DejaVu Sans"])
    for memo in (plots.has_cjk_font, plots._say_no_cjk_font):
        memo.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            written = plots.write_plots(*_plot_inputs(), [tmp_path])
    finally:
        plots.has_cjk_font.cache_clear()
    assert len(written) == 6 and all(p.stat().st_size > 1000 for p in written)
    assert not [w for w in seen if "Glyph" in str(w.message)]
    assert len([r for r in caplog.records if "fonts-noto-cjk" in r.getMessage()]) == 1


def test_the_models_page_shows_the_plots_of_its_language(api_demo: ApiEnv) -> None:
    version = api_demo.path_params()["version"]
    for lang in LANGS:
        page = _console(api_demo, "analyst", lang).get(f"/console/models?version={version}")
        shown = set(re.findall(r"/plots/([\w.-]+\.png)", page.text))
        assert shown, "no plot on the models page"
        assert all(name.endswith(f".{lang}.png") for name in shown), shown
