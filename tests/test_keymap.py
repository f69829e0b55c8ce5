"""The vector index's key map: keys by label and labels by key, answered from a loaded
index's arrays until a lookup by key builds the dicts (a server's start skips them)."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import pytest

from recsvc.semantic.keymap import KeyMap

#: What ``VectorIndex.save`` writes the keys as: int64, or fixed-width strings.
KINDS = {"int": np.int64, "str": np.str_}


def _keys(kind: str, n: int) -> list[Hashable]:
    return [i * 7 for i in range(n)] if kind == "int" else [f"c{i}" for i in range(n)]


def _loaded(kind: str, n: int = 10) -> KeyMap:
    """A map as ``VectorIndex.load`` builds it: labels 0, 2, 4, … (gaps: keys removed)."""
    keys = _keys(kind, n)
    labels = np.arange(0, 2 * n, 2, dtype=np.int64)
    return KeyMap.from_arrays(labels, np.asarray(keys, dtype=KINDS[kind]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_new_map_puts_and_pops_keys_both_ways(kind: str) -> None:
    keys = _keys(kind, 5)
    km = KeyMap()
    km.put(keys, [10, 11, 12, 13, 14])
    assert len(km) == 5 and km.unpacked
    assert km.label(keys[2]) == 12 and km.label("nope") is None
    assert keys[0] in km and "nope" not in km
    assert km.labels_of([keys[4], "nope", keys[1]]) == [14, 11]
    assert km.keys_of([13, 10]) == [keys[3], keys[0]]

    assert km.pop([keys[1], "nope", keys[3], keys[1]]) == [11, 13]  # present ones, once
    assert len(km) == 3 and keys[1] not in km and km.label(keys[3]) is None
    with pytest.raises(KeyError):
        km.keys_of([11])  # a popped label is no live label
    km.put([keys[1]], [15])  # a replaced key comes back last, under a new label
    assert km.keys() == [keys[0], keys[2], keys[4], keys[1]]
    assert km.arrays()[0].tolist() == [10, 12, 14, 15]

    km.clear()
    assert len(km) == 0 and km.keys() == [] and keys[0] not in km


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_loaded_map_answers_from_its_arrays_until_a_lookup_by_key(kind: str) -> None:
    km = _loaded(kind)
    keys = _keys(kind, 10)
    labels = [8, 0, 18, 4]
    from_arrays = km.keys_of(labels)
    assert from_arrays == [keys[4], keys[0], keys[9], keys[2]]
    assert len(km) == 10 and km.keys() == keys and km.keys_of([]) == []
    assert km.labels_of([]) == [] and km.pop([]) == []  # no key looked up
    saved_labels, saved_keys = km.arrays()
    assert saved_labels.tolist() == list(range(0, 20, 2)) and list(saved_keys) == keys
    assert not km.unpacked, "answering by label built the dicts"

    assert km.label(keys[3]) == 6 and km.unpacked
    assert km.keys_of(labels) == from_arrays
    assert len(km) == 10 and km.keys() == keys
    assert all(type(k) is type(keys[0]) for k in [*from_arrays, *km.keys()])  # not numpy's


def test_clear_forgets_a_loaded_maps_arrays() -> None:
    km = _loaded("int")
    km.clear()
    assert len(km) == 0 and km.keys() == [] and km.arrays()[0].tolist() == []
    km.put([1], [30])
    assert km.keys() == [1] and km.keys_of([30]) == [1]


@pytest.mark.parametrize(
    "lookup",
    [
        lambda km, key: key in km,
        lambda km, key: km.label(key),
        lambda km, key: km.labels_of([key]),
        lambda km, key: km.pop([key]),
        lambda km, key: km.put(["new"], [99]),
    ],
    ids=["in", "label", "labels_of", "pop", "put"],
)
def test_every_lookup_by_key_builds_the_dicts(
    lookup: Callable[[KeyMap, Hashable], object],
) -> None:
    km = _loaded("str")
    lookup(km, "c3")
    assert km.unpacked
    assert km.keys_of([0, 18]) == ["c0", "c9"] and ("c0" in km) and km.label("c9") == 18


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_arrays_round_trip_through_a_save(kind: str) -> None:
    """What :meth:`KeyMap.arrays` gives, written as ``VectorIndex.save`` writes it, loads
    back to the same map: from a new map's dicts and from a loaded map's arrays."""
    keys = _keys(kind, 6)
    km = KeyMap()
    km.put(keys, [0, 1, 2, 3, 4, 5])
    km.pop([keys[2]])
    km.put([keys[2]], [6])
    for source in (km, _as_saved(km, kind)):
        again = _as_saved(source, kind)
        assert not again.unpacked
        assert again.keys() == km.keys() == [keys[0], keys[1], *keys[3:], keys[2]]
        assert again.keys_of([6, 0]) == [keys[2], keys[0]]
        assert again.label(keys[5]) == 5 and again.label(keys[2]) == 6
        labels, saved = again.arrays()
        assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 3, 4, 5, 6]
        assert list(saved) == km.keys()


def _as_saved(km: KeyMap, kind: str) -> KeyMap:
    labels, keys = km.arrays()
    return KeyMap.from_arrays(
        np.asarray(labels, dtype=np.int64), np.asarray(keys, dtype=KINDS[kind])
    )


def test_unsorted_loaded_labels_are_sorted_with_their_keys() -> None:
    """Format 1 saved the keys by insertion, as JSON: lookups by label search sorted
    labels, so the map sorts them (keys as the JSON's objects: ints stay ints)."""
    km = KeyMap.from_arrays(np.array([5, 1, 3], dtype=np.int64), np.array([50, 10, 30], object))
    keys = km.keys()
    assert keys == [10, 30, 50] and km.keys_of([5, 1]) == [50, 10]
    assert km.arrays()[0].tolist() == [1, 3, 5] and not km.unpacked
    assert all(type(k) is int for k in keys)
    assert km.label(50) == 5 and km.keys_of([3]) == [30]
    assert km.keys() == [10, 30, 50]  # label order, also from the dicts
