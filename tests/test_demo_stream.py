"""The demo generator streams: blocks of clients, bounded memory, ids across blocks."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from recsvc.demo import IMPORT_FILES, generate
from recsvc.ingest import import_dir
from recsvc.store import Database

_TABLES = (*IMPORT_FILES, "truth/clients_truth", "truth/orders_truth")


def _lines(folder: Path, name: str) -> list[str]:
    return (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()


def test_blocks_continue_ids_and_every_reference_resolves(tmp_path: Path) -> None:
    m = generate(tmp_path, n_clients=250, seed=4, block_size=100)
    assert m.blocks == [100, 100, 50]
    clients = pd.read_csv(m.path("clients"), dtype=str)
    assert clients["external_id"].tolist() == [f"C{i:06d}" for i in range(1, 251)]
    for name in IMPORT_FILES:
        ids = pd.read_csv(m.path(name), dtype=str, keep_default_na=False)["external_id"]
        assert ids.is_unique and len(ids) == m.files[name], name
    db = Database.from_url("sqlite://")
    db.upgrade()
    reports = import_dir(db, tmp_path)  # rejects dangling or cross-client references
    assert {r.entity: r.inserted for r in reports} == m.files


def test_the_first_block_is_the_dataset_of_one_block(tmp_path: Path) -> None:
    """Blocks share nothing but numbering: block 0 of 250 clients equals 100 clients in
    one block, row for row; what follows it is new rows only. This independence is what
    lets the generator forget a block once it is written."""
    whole = generate(tmp_path / "whole", n_clients=250, seed=9, block_size=100)
    one = generate(tmp_path / "one", n_clients=100, seed=9, block_size=100)
    for name in _TABLES:
        head = _lines(one.out_dir, name)
        assert _lines(whole.out_dir, name)[: len(head)] == head, name
    for name in IMPORT_FILES:
        assert whole.files[name] > one.files[name], name


def test_same_seed_and_block_size_give_byte_identical_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", n_clients=90, seed=2, block_size=40)
    b = generate(tmp_path / "b", n_clients=90, seed=2, block_size=40)
    c = generate(tmp_path / "c", n_clients=90, seed=2, block_size=45)
    for name in _TABLES:
        assert _lines(a.out_dir, name) == _lines(b.out_dir, name), name
    assert _lines(a.out_dir, "commissions") != _lines(c.out_dir, "commissions")


def _peak_bytes(folder: Path, n_clients: int, block_size: int) -> int:
    tracemalloc.start()  # numpy reports its buffers to tracemalloc too
    try:
        generate(folder, n_clients=n_clients, seed=5, block_size=block_size)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_follows_the_block_size_not_the_clientele(tmp_path: Path) -> None:
    """Four blocks of 150 clients peak at about what one block of 150 needs, far below
    one block of all 600: nothing of a written block is kept."""
    blocks = _peak_bytes(tmp_path / "blocks", 600, 150)
    one_block = _peak_bytes(tmp_path / "one-block", 150, 150)
    whole = _peak_bytes(tmp_path / "whole", 600, 600)
    assert blocks < 1.5 * one_block, (blocks, one_block)
    assert blocks < 0.5 * whole, (blocks, whole)


def test_block_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="block_size"):
        generate(tmp_path, n_clients=10, block_size=0)
