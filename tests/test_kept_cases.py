"""The kept similar-case hits: saved once, mapped, filtered by product and owner
without decoding every case at open, and rewritten by an erasure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsvc.recommend import kept as kept_module
from recsvc.recommend.contributions import ContributionRecorder
from recsvc.recommend.kept import CaseHit, CaseHitRecorder, CaseHitTable, erase_case_hits

SIGNATURE = "index-a"


def _hit(case: str, score: float, product: str | None, owner: int | None) -> CaseHit:
    return (case, score, product, owner, f"summary {case}", f"摘要 {case}")


@pytest.fixture
def table_dir(tmp_path: Path) -> Path:
    recorder = CaseHitRecorder()
    recorder.add(
        101,
        (
            _hit("K1", 0.9, "patent_analysis", 1),
            _hit("K2", 0.8, "trend_analysis", 2),
            _hit("K3", 0.7, "patent_analysis", 3),
            _hit("K4", 0.6, None, None),
        ),
    )
    recorder.add(
        102, (_hit("K3", 0.5, "patent_analysis", 3), _hit("K5", 0.4, "patent_analysis", 1))
    )
    return recorder.save(tmp_path / "cases", SIGNATURE)


def test_a_lookup_keeps_the_offered_products_cases_of_other_clients(table_dir: Path) -> None:
    table = CaseHitTable.open(table_dir, SIGNATURE)
    assert table is not None and len(table) == 2
    hits = table.matching(101, "patent_analysis", owner=1)
    assert hits is not None
    assert [(h[0], h[1], h[2], h[3]) for h in hits] == [("K3", 0.7, "patent_analysis", 3)]
    trend = table.matching(101, "trend_analysis", owner=9)
    assert trend is not None and [h[0] for h in trend] == ["K2"]
    none = table.matching(101, "competitor_intelligence", owner=9)
    assert none is not None and list(none) == []
    assert table.matching(999, "patent_analysis", owner=1) is None  # never searched
    assert CaseHitTable.open(table_dir, "index-b") is None  # another index's hits


def test_opening_decodes_no_case(table_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []
    real = CaseHitTable._record

    def counting(self: CaseHitTable, row: int) -> list[object]:
        decoded.append(row)
        return real(self, row)

    monkeypatch.setattr(CaseHitTable, "_record", counting)
    table = CaseHitTable.open(table_dir, SIGNATURE)
    assert table is not None and decoded == []
    hits = table.matching(102, "patent_analysis", owner=3)
    assert hits is not None and [h[0] for h in hits] == ["K5"] and len(decoded) == 1


def test_an_erasure_rewrites_products_and_owners_too(table_dir: Path) -> None:
    removed = erase_case_hits(table_dir, owner=3, case_ids=set(), triggers={102})
    assert removed == 3  # trigger 102's two hits, and K3 among 101's
    table = CaseHitTable.open(table_dir, SIGNATURE)
    assert table is not None and len(table) == 1
    hits = table.matching(101, "patent_analysis", owner=2)
    assert hits is not None and [h[0] for h in hits] == ["K1"]


def test_an_erasure_drops_a_table_of_an_older_layout(table_dir: Path) -> None:
    config = json.loads((table_dir / "config.json").read_text())
    config["format"] = kept_module.CASE_FILES.format - 1
    (table_dir / "config.json").write_text(json.dumps(config))
    assert CaseHitTable.open(table_dir, SIGNATURE) is None  # ignored by servers
    assert erase_case_hits(table_dir, owner=3, case_ids=set(), triggers=set()) == 0
    assert not table_dir.exists()


def test_recorders_of_two_client_parts_merge_into_the_table_of_one(tmp_path: Path) -> None:
    """The portal lists written over client partitions: each worker records the
    triggers it searched, the training process merges them; the merged table answers
    every lookup as one recorder fed every search would, each case kept once."""
    searches = {
        101: (_hit("K1", 0.9, "patent_analysis", 1), _hit("K3", 0.7, "patent_analysis", 3)),
        102: (_hit("K3", 0.5, "patent_analysis", 3), _hit("K5", 0.4, "trend_analysis", 1)),
        103: (_hit("K5", 0.3, "trend_analysis", 1), _hit("K6", 0.2, None, None)),
    }
    whole, first, second = CaseHitRecorder(), CaseHitRecorder(), CaseHitRecorder()
    for trigger, hits in searches.items():
        whole.add(trigger, hits)
        (first if trigger < 102 else second).add(trigger, hits)
    first.merge(second)
    tables = [
        CaseHitTable.open(r.save(tmp_path / name, SIGNATURE), SIGNATURE)
        for r, name in ((whole, "whole"), (first, "merged"))
    ]
    assert all(t is not None and len(t) == 3 for t in tables)
    for trigger in searches:
        for product in ("patent_analysis", "trend_analysis"):
            found = [list(t.matching(trigger, product, owner=9) or ()) for t in tables if t]
            assert found[0] == found[1], (trigger, product)
    assert first._parts == whole._parts  # K3 and K5 once, in first-seen order


def test_contribution_recorders_merge_row_by_row() -> None:
    first, second = ContributionRecorder(), ContributionRecorder()
    first.add(3, 11, [(0, 0.5)])
    second.add(7, 12, [(2, 0.25), (1, 0.1)])
    first.merge(second)
    assert first._rows == {3: (11, [(0, 0.5)]), 7: (12, [(2, 0.25), (1, 0.1)])}
