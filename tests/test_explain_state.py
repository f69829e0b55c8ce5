"""The explainer's per-client best cases, looked up in a mapped table without a dict
entry per client, and overlaid (never copied) for clients added live."""

from __future__ import annotations

from collections import ChainMap

import numpy as np
import pandas as pd
import pytest

from recsvc.recommend.explain_state import (
    ExplainerState,
    TableRows,
    TakenRows,
    comm_columns,
    latest_rows,
    projects,
    rows_of,
)
from recsvc.recommend.rows import RowSpans


def test_rows_are_found_by_id_whatever_the_order_of_the_ids() -> None:
    table = np.arange(4 * 3 * 2, dtype=np.float64).reshape(4, 3, 2)
    rows = TableRows(np.array([40, 10, 30, 20]), table)
    assert len(rows) == 4 and list(rows) == [40, 10, 30, 20]
    for i, cid in enumerate([40, 10, 30, 20]):
        assert np.array_equal(rows[cid], table[i]) and cid in rows
    assert np.array_equal(rows[np.int64(30)], table[2])
    assert 25 not in rows and 99 not in rows and "10" not in rows
    assert rows.get(25) is None
    with pytest.raises(KeyError):
        rows[5]


def _state(best: TableRows) -> ExplainerState:
    empty = pd.DataFrame()
    return ExplainerState(
        latest=empty,
        at=np.zeros(0, dtype=np.int64),
        columns={},
        positions={},
        bought={},
        one_off={},
        codes={},
        best=best,
    )


def test_clients_added_live_are_laid_over_the_table_not_copied_into_it() -> None:
    table = np.zeros((2, 3, 2))
    mapped = TableRows(np.array([1, 2]), table)
    state = _state(mapped)
    one = state.with_best_cases({7: np.ones((3, 2))})
    two = one.with_best_cases({8: np.full((3, 2), 2.0), 1: np.full((3, 2), 5.0)})
    assert isinstance(two.best, ChainMap) and len(two.best.maps) == 2
    assert two.best.maps[1] is mapped  # the table itself, under one layer of live clients
    assert float(two.best[7][0, 0]) == 1.0 and float(two.best[8][0, 0]) == 2.0
    assert float(two.best[1][0, 0]) == 5.0  # a client computed again wins
    assert float(two.best[2][0, 0]) == 0.0 and 9 not in two.best
    assert 7 not in state.best and 8 not in one.best  # earlier states unchanged


def test_the_latest_commissions_are_pandas_sort_and_tail() -> None:
    rng = np.random.default_rng(7)
    n = 5_000
    dates = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    frame = pd.DataFrame(
        {
            "commission_id": rng.permutation(n) + 1,
            "client_id": rng.integers(1, 300, n),
            "commissioned_on": pd.Series(dates).where(rng.random(n) > 0.02),  # some undated
        },
        index=rng.permutation(n) * 3,  # labels are kept as they are
    )
    seconds = frame.assign(commissioned_on=frame["commissioned_on"].astype("datetime64[s]"))
    for table in (frame, seconds):  # the store's dates are read in seconds
        for keep in (1, 3, 30):
            want = (
                table.sort_values(["client_id", "commissioned_on"], kind="stable")
                .groupby("client_id", sort=False)
                .tail(keep)
            )
            pd.testing.assert_frame_equal(table.take(latest_rows(table, keep)), want)
    assert len(latest_rows(frame.iloc[:0], 30)) == 0


def test_each_clients_rows_are_those_grouping_finds() -> None:
    rng = np.random.default_rng(3)
    clients = np.sort(rng.integers(0, 400, size=2000))
    rows = RowSpans(clients)
    expected = pd.Series(clients).groupby(clients).indices
    assert list(rows) == sorted(expected) and len(rows) == len(expected)
    for client, at in expected.items():
        np.testing.assert_array_equal(rows[int(client)], at)
    absent = next(c for c in range(400) if c not in expected)
    assert absent not in rows and rows.get(absent) is None and "7" not in rows
    assert len(RowSpans(np.zeros(0, dtype=np.int64))) == 0


def test_a_clients_projects_from_the_held_columns_are_those_of_its_rows() -> None:
    """The state leaves its latest commissions' text in the frame's columns, and a
    client's projects taken from them are the arrays of its own rows, missing text
    kept."""
    rng = np.random.default_rng(11)
    n = 600
    titles = pd.Series([f"课题 {i} project" for i in range(n)], dtype="str")
    commissions = pd.DataFrame(
        {
            "client_id": rng.integers(1, 60, n),
            "commission_id": np.arange(n) + 1,
            "title_zh": titles.where(rng.random(n) > 0.1),
            "purpose": pd.Series(rng.choice(["申报", "鉴定"], n), dtype="str"),
            "commissioned_on": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        }
    )
    at = latest_rows(commissions, 30)
    frame = commissions.take(at)
    held = comm_columns(commissions, at)
    assert isinstance(held["title_zh"], TakenRows)  # text is not gathered up front
    spans = RowSpans(frame["client_id"].to_numpy(np.int64))
    for client in spans:
        rows = spans[client]
        got, want = rows_of(held, rows), projects(frame.iloc[rows])
        assert set(got) == set(want)
        for field, values in want.items():
            assert got[field].dtype == values.dtype, field
            assert pd.Series(got[field]).equals(pd.Series(values)), field
    assert {k: len(v) for k, v in rows_of(held, np.zeros(0, np.int64)).items()} == dict.fromkeys(
        held, 0
    )
