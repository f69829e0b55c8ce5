"""Row positions of ids, by one sort and a searchsorted per batch."""

from __future__ import annotations

import numpy as np
import pytest

from recsvc.recommend.rows import RowIndex


def test_rows_of_ids_in_any_order() -> None:
    ids = np.array([50, 10, 40, 20, 30])
    index = RowIndex(ids)
    assert index.rows(np.array([10, 30, 99, 50, -1])).tolist() == [1, 4, -1, 0, -1]
    assert dict(index) == {50: 0, 10: 1, 40: 2, 20: 3, 30: 4}
    assert index[40] == 2 and 40 in index and 41 not in index and "40" not in index
    with pytest.raises(KeyError):
        index[41]
    assert RowIndex(np.zeros(0, dtype=np.int64)).rows(np.array([1, 2])).tolist() == [-1, -1]


def test_appended_rows_follow_and_an_id_keeps_its_first_row() -> None:
    rng = np.random.default_rng(3)
    base = rng.permutation(1_000)[:600]
    more = np.array([2_000, -7, 1_500, int(base[0])])  # the last one is indexed already
    grown = RowIndex(base).appended(more)
    want: dict[int, int] = {}
    for row, cid in enumerate([*base.tolist(), *more.tolist()]):
        want.setdefault(int(cid), row)
    probe = np.arange(-10, 2_100)
    assert grown.rows(probe).tolist() == [want.get(int(c), -1) for c in probe]
    assert grown.rows(more).tolist() == [600, 601, 602, 0]
    assert len(grown) == 604 and RowIndex(base).rows(more).tolist()[:3] == [-1, -1, -1]


@pytest.mark.parametrize("shuffle", [False, True], ids=["in order", "shuffled"])
def test_ids_in_order_or_not_find_the_first_row_of_each(shuffle: bool) -> None:
    """Ids already in order (most are: commissions by id) are not sorted again, and
    find the same rows as any order does, repeats at their first row; appending to
    them keeps working."""
    ids = np.repeat(np.arange(0, 300, 3), 2)  # 0 0 3 3 6 6 ...: in order, each twice
    if shuffle:
        ids = np.random.default_rng(5).permutation(ids)
    index = RowIndex(ids)
    want: dict[int, int] = {}
    for row, cid in enumerate(ids.tolist()):
        want.setdefault(int(cid), row)
    probe = np.arange(-2, 305)
    assert index.rows(probe).tolist() == [want.get(int(c), -1) for c in probe]
    grown = index.appended(np.array([1, 0]))
    assert grown.rows(np.array([1, 0])).tolist() == [len(ids), want[0]]
