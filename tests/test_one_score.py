"""One score: the same client shows the same probability and expected value on the
worklist (JSON), the client page (console HTML), the recommendations API and both
exports (CSV and ``.xlsx``), each parsed back and compared at the shown rounding."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from recsvc import quantities
from recsvc.usecases import worklist as uc_worklist
from tests.fixtures_api import ApiEnv
from tests.fixtures_web import sign_in


def _heading(name: str, lang: str = "zh") -> str:
    return uc_worklist.COLUMNS[name].text(lang).format(months=12)


def _text(block: str, cls: str) -> str:
    """The text of the first element of class ``cls`` in ``block``."""
    found = re.search(rf'class="(?:[^"]*\s)?{cls}(?:\s[^"]*)?"[^>]*>([^<]*)<', block)
    assert found, f"no .{cls} in {block[:300]}"
    return html.unescape(found.group(1)).strip()


def _offer_card(page: str, product_name: str) -> str:
    """The client page's offer card of ``product_name``."""
    cards = [html.unescape(c) for c in page.split('<article class="rec"')[1:]]
    mine = [c for c in cards if product_name in c.split("</h3>", 1)[0]]
    assert mine, f"no card for {product_name}"
    return mine[0]


@pytest.fixture(scope="module")
def top(api_demo: ApiEnv) -> dict[str, Any]:
    """The worklist's first row (ranked by expected value), as the API answers it."""
    resp = api_demo.get("/api/v1/worklist?limit=3", "librarian")
    assert resp.status_code == 200, resp.text
    row = resp.json()["data"][0]
    assert row["expected_value"] is not None and row["client_probability"] is not None
    return row


def test_one_client_shows_one_probability_and_value_everywhere(
    api_demo: ApiEnv, top: dict[str, Any]
) -> None:
    ext, code = top["client_external_id"], top["product_code"]
    p, ev, p_any = top["probability"], top["expected_value"], top["client_probability"]
    assert top["score"] == p
    shown_p, shown_ev, shown_any = (
        quantities.percent(p),
        quantities.yuan(ev),
        quantities.percent(p_any),
    )

    # the recommendations API: the same offer, the same numbers
    recs = api_demo.get(f"/api/v1/clients/{ext}/recommendations", "librarian")
    assert recs.status_code == 200, recs.text
    offer = next(o for o in recs.json()["data"] if o["code"] == code)
    assert quantities.percent(offer["score"]) == shown_p
    assert quantities.yuan(offer["expected_value"]) == shown_ev
    profile = api_demo.get(f"/api/v1/clients/{ext}", "librarian").json()
    assert quantities.percent(profile["score"]["client_probability"]) == shown_any

    # the client page (console, zh): client probability and the offer card
    console = TestClient(api_demo.client.app)
    sign_in(console, api_demo.keys["librarian"])
    page = console.get(f"/console/clients/{ext}")
    assert page.status_code == 200
    assert _text(page.text, "client-probability") == shown_any
    card = _offer_card(page.text, top["product_name_zh"])
    assert _text(card, "probability") == shown_p
    assert _text(card, "expected-value") == shown_ev

    # the worklist page shows the same strings in its row
    listing = console.get("/console/").text
    row = next(r for r in listing.split("<tr>") if f"/clients/{ext}" in r)
    assert _text(row, "probability") == shown_p and _text(row, "expected-value") == shown_ev

    # both exports (API, zh): rounded numbers; xlsx numbers carry the shown format
    csv_resp = api_demo.get("/api/v1/worklist?limit=3&format=csv", "librarian")
    table = list(csv.reader(io.StringIO(csv_resp.content.decode("utf-8-sig"))))
    head, first = table[0], table[1]
    assert first[head.index(_heading("client_external_id"))] == ext
    assert float(first[head.index(_heading("probability"))]) == quantities.round_probability(p)
    assert int(first[head.index(_heading("expected_value"))]) == quantities.round_value(ev)
    got_any = float(first[head.index(_heading("client_probability"))])
    assert quantities.percent(got_any) == shown_any

    xlsx = api_demo.get("/api/v1/worklist?limit=3&format=xlsx", "librarian")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    names = [c.value for c in sheet[1]]
    cells = {n: sheet.cell(row=2, column=i + 1) for i, n in enumerate(names)}
    assert cells[_heading("client_external_id")].value == ext
    prob, value = cells[_heading("probability")], cells[_heading("expected_value")]
    assert quantities.percent(prob.value) == shown_p and prob.number_format == "0.0%"
    assert quantities.yuan(value.value) == shown_ev and value.number_format == '"¥"#,##0'
    assert quantities.percent(cells[_heading("client_probability")].value) == shown_any


def _column(page: str, cls: str) -> list[str]:
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    return [_text(r, cls) for r in rows]


def _number(shown: str) -> float:
    return float(shown.strip("¥%").replace(",", "")) if shown != "—" else 0.0


def test_worklist_page_sorts_by_value_or_probability_with_a_legend(api_demo: ApiEnv) -> None:
    console = TestClient(api_demo.client.app)
    sign_in(console, api_demo.keys["librarian"])
    by_value = console.get("/console/").text
    assert 'name="sort"' in by_value and "按期望价值排序" in by_value
    assert "score-legend" in by_value and "这些数字的含义" in by_value
    values = [_number(v) for v in _column(by_value, "expected-value")]
    assert values and values == sorted(values, reverse=True)
    by_p = console.get("/console/?sort=probability").text
    assert "按购买概率排序" in by_p
    p = [_number(v) for v in _column(by_p, "probability")]
    assert (
        p
        and p == sorted(p, reverse=True)
        and p != [_number(v) for v in _column(by_value, "probability")]
    )
