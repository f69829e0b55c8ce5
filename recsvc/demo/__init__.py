"""The deterministic demo-data generator (docs/demo-data.md).

:func:`generate` draws a synthetic clientele of a novelty-search station, simulates
2011-2025 month by month, and writes the seven import files (``clients.csv`` …
``complaints.csv``) plus ``truth/`` (latent traits, order triggers, ``rules.json``),
which is never imported. The same seed always gives byte-identical files.

Example:
    >>> from pathlib import Path
    >>> import tempfile
    >>> m = generate(Path(tempfile.mkdtemp()), n_clients=50, seed=1)
    >>> sorted(m.files)[:2]
    ['clients', 'commissions']
"""

from __future__ import annotations

import csv
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recsvc.demo import rules
from recsvc.demo import tables as T
from recsvc.demo.simulate import simulate
from recsvc.demo.world import make_world

__all__ = ["DEFAULT_SEED", "IMPORT_FILES", "DemoManifest", "generate"]

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240601
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

    def path(self, entity: str) -> Path:
        """The CSV file of one entity."""
        return self.out_dir / f"{entity}.csv"


def _write(df: pd.DataFrame, path: Path) -> None:
    """CSV with minimal quoting; numbers via numpy's shortest repr (stable across pandas)."""
    cols = []
    for name in df.columns:
        values = df[name].to_numpy()
        if values.dtype.kind in "iufb":
            cols.append(values.astype(str).tolist())
        else:
            cols.append(["" if v is None else str(v) for v in values.tolist()])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(df.columns))
        writer.writerows(zip(*cols, strict=True))


def generate(out_dir: Path, n_clients: int = 2000, seed: int = DEFAULT_SEED) -> DemoManifest:
    """Write the demo import files and ground truth into ``out_dir``.

    Args:
        out_dir: Target folder (created); existing files of the same names are replaced.
        n_clients: Number of clients; 100,000+ is fine for benchmarks.
        seed: Random seed; the same seed gives byte-identical files.

    Returns:
        A :class:`DemoManifest` with the row count of each file.
    """
    if n_clients < 1:
        raise ValueError("n_clients must be positive")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    world = make_world(n_clients, rng)
    log.info("demo: %d clients drawn, simulating 2011-2025", n_clients)
    history = simulate(world, rng)
    comm, cdate, cdone = T.commissions_table(world, history, rng)
    comm_month = np.concatenate(history.commissions["month"]) if len(comm) else np.array([])
    orders, orders_truth = T.orders_table(world, history, comm, comm_month, rng)
    tables = {
        "clients": world.clients,
        "contacts": world.contacts,
        "commissions": comm,
        "orders": orders,
        "interactions": T.interactions_table(world, history, rng),
        "feedback": T.feedback_table(world, history, comm, cdone, rng),
        "complaints": T.complaints_table(world, history, comm, cdate, cdone),
    }
    manifest = DemoManifest(out_dir, seed, n_clients, truth_dir=truth_dir)
    for name in IMPORT_FILES:
        _write(tables[name], manifest.path(name))
        manifest.files[name] = len(tables[name])
    _write(T.clients_truth(world, history), truth_dir / "clients_truth.csv")
    _write(orders_truth, truth_dir / "orders_truth.csv")
    (truth_dir / "rules.json").write_text(
        json.dumps(rules.rules_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    manifest.seconds = time.perf_counter() - t0
    log.info("demo: wrote %s in %.1fs", manifest.files, manifest.seconds)
    return manifest
