"""The semantic layer's documents: saved as JSON, served from a file the workers map."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from recsvc.semantic.docstore import DocStore
from recsvc.semantic.documents import Doc


def _doc(key: int | str, title: str, client_id: int | None = 1) -> Doc:
    return Doc(key, f"text of {title}", title, f"summary {title}", client_id, {"n": str(key)})


def _saved(folder: Path, docs: list[Doc]) -> DocStore:
    DocStore(docs).save(folder)
    return DocStore.open(folder)


@pytest.mark.parametrize(
    "keys", [[30, 10, 20], [10, 20, 30], ["c-3", "a-1", "b-2"]], ids=["int", "int sorted", "str"]
)
def test_saved_documents_read_back_alike_in_their_order(tmp_path: Path, keys: list) -> None:
    docs = [_doc(k, f"t{k}", client_id=i) for i, k in enumerate(keys)]
    store = _saved(tmp_path, docs)
    assert not store._changed  # nothing decoded into memory up front
    assert list(store) == keys and len(store) == 3
    assert list(store.values()) == docs
    assert store[keys[1]] == docs[1] and keys[2] in store
    other = 99 if isinstance(keys[0], str) else "99"  # the other key type: absent, no error
    assert other not in store and store.get(other) is None and 12345 not in store
    with pytest.raises(KeyError):
        store[other]
    assert json.loads((tmp_path / "docs.json").read_text())[0]["title"] == docs[0].title


def test_changes_after_opening_behave_like_a_dict_and_are_saved(tmp_path: Path) -> None:
    docs = [_doc(k, f"t{k}") for k in (1, 2, 3)]
    store = _saved(tmp_path / "a", docs)
    expected = {d.key: d for d in docs}
    for mapping in (store, expected):
        mapping[2] = replace(docs[1], meta={"n": "changed"})  # keeps its place
        mapping[4] = _doc(4, "new")
        del mapping[1]
        mapping[5] = _doc(5, "five")
        del mapping[5]
    assert list(store.items()) == list(expected.items())
    assert len(store) == len(expected) == 3
    with pytest.raises(KeyError):
        del store[1]
    with pytest.raises(KeyError):
        store[1]
    store.save(tmp_path / "b")
    assert list(DocStore.open(tmp_path / "b").items()) == list(expected.items())


@pytest.mark.parametrize("keys", [[30, 10, 20, 40], ["c-3", "a-1", "b-2", "d-4"]])
def test_many_documents_at_once_are_each_one_alone(tmp_path: Path, keys: list) -> None:
    """``many`` finds the saved keys by one vectorised search and answers what one
    lookup per key does: repeats, changed and added documents included; a removed or
    unknown key is a KeyError."""
    docs = [_doc(k, f"t{k}", client_id=i) for i, k in enumerate(keys)]
    store = _saved(tmp_path, docs)
    store[keys[1]] = replace(docs[1], title="changed")
    new = "e-5" if isinstance(keys[0], str) else 50
    store[new] = _doc(new, "new")
    del store[keys[3]]
    asked = [keys[2], keys[1], new, keys[0], keys[2]]
    assert store.many(asked) == [store[k] for k in asked]
    assert store.many(asked)[1].title == "changed" and store.many([]) == []
    for absent in (keys[3], 12345, "zz"):
        with pytest.raises(KeyError):
            store.many([keys[0], absent])


def test_the_mapped_files_follow_docs_json(tmp_path: Path) -> None:
    """Built once, reused while docs.json is unchanged, rebuilt when it changes; an
    unwritable folder is read into memory instead."""
    _saved(tmp_path, [_doc(1, "one")])
    built = (tmp_path / "docs.map" / "docs.bin").stat().st_ino
    assert DocStore.open(tmp_path)[1].title == "one"
    assert (tmp_path / "docs.map" / "docs.bin").stat().st_ino == built  # reused

    (tmp_path / "docs.json").write_text(json.dumps([_doc(7, "seven").as_dict()]))
    store = DocStore.open(tmp_path)
    assert list(store) == [7] and store[7].title == "seven"

    (tmp_path / "docs.json").write_text(json.dumps([_doc(8, "eight").as_dict()]))
    (tmp_path / ".docs.lock").unlink(missing_ok=True)
    (tmp_path / ".docs.lock").mkdir()  # the lock cannot be taken (root ignores modes)
    store = DocStore.open(tmp_path)
    assert list(store) == [8] and store._changed  # read into memory, still served


def test_each_documents_commission_is_read_without_decoding_it(tmp_path: Path) -> None:
    """The commission column (how a commission's past cases are found at a start)
    follows the documents, including changes made after opening."""
    docs = [
        Doc("c-1", "t", "t", "s", 1, {"commission_id": 11}),
        Doc("c-2", "t", "t", "s", 1, {"commission_id": 12}),
        Doc("c-3", "t", "t", "s", 2, {}),
    ]
    store = _saved(tmp_path, docs)
    store._decode = None  # type: ignore[method-assign]  # decoding would fail the test
    keys, commissions = store.commissions()
    assert keys.tolist() == ["c-1", "c-2", "c-3"] and commissions.tolist() == [11, 12, -1]

    del store["c-1"]
    store["c-2"] = replace(docs[1], meta={"commission_id": 21})
    store["c-4"] = Doc("c-4", "t", "t", "s", 3, {"commission_id": 14})
    keys, commissions = store.commissions()
    assert dict(zip(keys.tolist(), commissions.tolist(), strict=True)) == {
        "c-2": 21,
        "c-3": -1,
        "c-4": 14,
    }
