"""`recsvc worklist`, the last step of `make demo`, prints a readable worklist."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recsvc.cli import _common, app
from tests.fixtures_api import open_demo


def test_worklist_prints_one_card_per_client_with_offer_reason_and_action(
    api_demo_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, runtime = open_demo(api_demo_bundle, tmp_path)
    monkeypatch.setattr(_common, "runtime", lambda **_: runtime)

    result = CliRunner().invoke(app, ["worklist", "--limit", "3"], terminal_width=80)

    assert result.exit_code == 0, result.output
    out = result.output
    assert f"model {runtime.bundle.version}" in out
    cards = [line for line in out.splitlines() if line.lstrip()[:2].strip().isdigit()]
    assert len(cards) == 3, out
    assert out.count("offer   ") == 3 and out.count("why     ") == 3
    assert "action  " in out
    # every card names a catalogue product in both languages
    products = runtime.bundle.recommender.products
    for line in out.splitlines():
        if line.strip().startswith("offer"):
            zh, en = line.split("offer", 1)[1].strip().split(" / ")
            assert zh in set(products["name_zh"]) and en in set(products["name_en"])


def test_brief_worklist_is_one_line_and_still_exports(
    api_demo_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` runs `recsvc --brief worklist`: one line naming whom to call first."""
    _, runtime = open_demo(api_demo_bundle, tmp_path)
    monkeypatch.setattr(_common, "runtime", lambda **_: runtime)
    target = tmp_path / "week.csv"
    try:
        result = CliRunner().invoke(
            app, ["--brief", "worklist", "--limit", "5", "--export", str(target)]
        )
    finally:
        _common.set_brief(False)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("worklist of 5 ranked by expected value · first C")
    assert "offer   " not in result.output
    assert lines[-1] == f"exported 5 rows to {target}" and len(lines) == 2
    assert len(target.read_text(encoding="utf-8-sig").strip().splitlines()) == 6
