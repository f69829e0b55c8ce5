"""The deterministic demo-data generator (docs/demo-data.md).

:func:`generate` draws a synthetic clientele of a novelty-search station, simulates
2011-2025 month by month, and writes the seven import files (``clients.csv`` …
``complaints.csv``) plus ``truth/`` (latent traits, order triggers, ``rules.json``),
which is never imported. The same seed and block size always give byte-identical files.

Clients never interact, so the clientele is drawn and simulated in blocks of
``block_size`` clients, each from its own random stream derived from the seed; each
block's rows are appended to the files before the next block starts. Memory therefore
grows with the block size, not with the number of clients. A dataset of one block (the
default demo of 2,000 clients) is what the generator wrote before it streamed.

Example:
    >>> from pathlib import Path
    >>> import tempfile
    >>> m = generate(Path(tempfile.mkdtemp()), n_clients=50, seed=1)
    >>> sorted(m.files)[:2]
    ['clients', 'commissions']
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recsvc.demo import rules
from recsvc.demo import tables as T
from recsvc.demo.simulate import simulate
from recsvc.demo.sink import CsvSink
from recsvc.demo.world import Numbering, make_world

__all__ = ["DEFAULT_BLOCK_SIZE", "DEFAULT_SEED", "IMPORT_FILES", "DemoManifest", "generate"]

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240601
DEFAULT_BLOCK_SIZE = 20_000
"""Clients drawn and simulated at once: about 0.5 GB of peak memory (measured in
benchmarks/README.md); 1,000,000 clients are 50 blocks."""
#: Import files in dependency order (the ingest entity names).
IMPORT_FILES: tuple[str, ...] = (
    "clients",
    "contacts",
    "commissions",
    "orders",
    "interactions",
    "feedback",
    "complaints",
)
_TRUTH_FILES = ("truth/clients_truth", "truth/orders_truth")


@dataclass
class DemoManifest:
    """What :func:`generate` wrote."""

    out_dir: Path
    seed: int
    n_clients: int
    files: dict[str, int] = field(default_factory=dict)
    """Rows per import file (entity name → rows)."""
    truth_dir: Path | None = None
    seconds: float = 0.0
    block_size: int = DEFAULT_BLOCK_SIZE
    blocks: list[int] = field(default_factory=list)
    """Clients of each block, in the order they were drawn and written."""

    def path(self, entity: str) -> Path:
        """The CSV file of one entity."""
        return self.out_dir / f"{entity}.csv"


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of one block: block 0 draws from ``seed`` itself (so a dataset
    of one block is what the one-shot generator wrote), block ``b`` from the ``b``-th
    child stream of the seed's :class:`~numpy.random.SeedSequence`."""
    spawn_key = (block,) if block else ()
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))


def generate(
    out_dir: Path,
    n_clients: int = 2000,
    seed: int = DEFAULT_SEED,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
) -> DemoManifest:
    """Write the demo import files and ground truth into ``out_dir``, block by block.

    Args:
        out_dir: Target folder (created); existing files of the same names are replaced.
        n_clients: Number of clients; 1,000,000 fits in the memory of one block.
        seed: Random seed; the same seed and block size give byte-identical files.
        block_size: Clients drawn and simulated at once (peak memory grows with it).

    Returns:
        A :class:`DemoManifest` with the row count of each file and the block sizes.

    Raises:
        ValueError: ``n_clients`` or ``block_size`` is not positive.
    """
    if n_clients < 1:
        raise ValueError("n_clients must be positive")
    if block_size < 1:
        raise ValueError("block_size must be positive")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    manifest = DemoManifest(out_dir, seed, n_clients, truth_dir=truth_dir, block_size=block_size)
    n_blocks = math.ceil(n_clients / block_size)
    with CsvSink(out_dir) as sink:
        for b in range(n_blocks):
            n = min(block_size, n_clients - b * block_size)
            _write_block(sink, n, block_rng(seed, b), n_clients)
            manifest.blocks.append(n)
            if n_blocks > 1:
                log.info("demo: block %d/%d written (%d clients)", b + 1, n_blocks, n)
    manifest.files = {name: sink.rows[name] for name in IMPORT_FILES}
    (truth_dir / "rules.json").write_text(
        json.dumps(rules.rules_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    manifest.seconds = time.perf_counter() - t0
    log.info("demo: wrote %s in %.1fs", manifest.files, manifest.seconds)
    return manifest


def _write_block(sink: CsvSink, n: int, rng: np.random.Generator, total: int) -> None:
    """Draw, simulate and append one block of ``n`` clients (ids after ``sink.rows``)."""
    before = dict(sink.rows)
    numbering = Numbering(
        first_client=before.get("clients", 0),
        first_contact=before.get("contacts", 0),
        total_clients=total,
    )
    world = make_world(n, rng, numbering)
    log.info("demo: %d clients drawn, simulating 2011-2025", n)
    history = simulate(world, rng)
    first_comm = before.get("commissions", 0)
    comm, cdate, cdone = T.commissions_table(world, history, rng, first_comm)
    comm_month = np.concatenate(history.commissions["month"]) if len(comm) else np.array([])
    orders, orders_truth = T.orders_table(
        world, history, comm, comm_month, rng, before.get("orders", 0)
    )
    tables = {
        "clients": world.clients,
        "contacts": world.contacts,
        "commissions": comm,
        "orders": orders,
        "interactions": T.interactions_table(world, history, rng, before.get("interactions", 0)),
        "feedback": T.feedback_table(world, history, comm, cdone, rng, before.get("feedback", 0)),
        "complaints": T.complaints_table(
            world, history, comm, cdate, cdone, before.get("complaints", 0)
        ),
    }
    for name in IMPORT_FILES:
        sink.append(name, tables[name])
    sink.append(_TRUTH_FILES[0], T.clients_truth(world, history))
    sink.append(_TRUTH_FILES[1], orders_truth)
