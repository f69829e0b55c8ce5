"""The state a demo simulation carries from month to month, and what it records.

:class:`State` holds each client's dynamic state (decayed counts, pointers to the
latest commissions, open needs); :class:`History` collects everything that happened as
column arrays per entity, which :mod:`recsvc.demo.tables` turns into import files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from recsvc.demo import rules as R
from recsvc.demo.fields import FIELDS
from recsvc.demo.world import World
from recsvc.store.catalogue import CATALOGUE

PRODUCTS: tuple[str, ...] = tuple(e.code for e in CATALOGUE)
TRIGGERS: tuple[str, ...] = tuple(R.TRIGGER_WEIGHTS)
P_INDEX = {c: i for i, c in enumerate(PRODUCTS)}


@dataclass
class History:
    """Everything that happened, as column arrays per entity (see tables.py)."""

    commissions: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    titles: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    orders: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    feedback: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    complaints: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    interactions: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    dormant_month: np.ndarray | None = None


class State:
    """Per-client dynamic state (decayed counts, pointers to the latest commissions)."""

    def __init__(self, w: World) -> None:
        n, nf = w.n, len(FIELDS)
        self.active = np.zeros(n, dtype=bool)
        self.arrived = np.zeros(n, dtype=bool)
        self.dormant_month = np.full(n, -1, dtype=np.int64)
        self.intensity = np.zeros((n, nf), dtype=np.float32)
        self.last_field = np.full((n, nf), -1, dtype=np.int64)
        self.dec = {
            k: np.zeros(n)
            for k in (
                "patent",
                "development",
                "process",
                "entry",
                "award",
                "complaints",
                "contact",
                "recent",
            )
        }
        self.last = {
            k: np.full(n, -1, dtype=np.int64)
            for k in ("patent", "development", "process", "entry", "award")
        }
        self.sat = R.SAT_MEAN + R.SAT_LATENT_COEF * w.sat_latent
        self.n_bought = np.zeros(n, dtype=np.int64)
        self.just_bought = np.zeros(n)
        self.bought_month = np.full((n, len(PRODUCTS)), -999, dtype=np.int64)
        self.n_pending = np.zeros(n, dtype=np.int64)
        self.pending_prod = np.zeros((n, len(PRODUCTS)), dtype=bool)
        self.pending: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        """Open needs by due month: client, product, link, reason, need month, p."""

    def decay(self) -> None:
        self.intensity *= np.float32(R.DECAY)
        for v in self.dec.values():
            v *= R.DECAY
        self.just_bought *= 0.5 ** (1.0 / R.JUST_BOUGHT_HALF_LIFE)


#: Every column of every History table with its dtype and trailing shape, so tiny
#: worlds (a handful of clients, maybe no orders at all) still give complete tables.
COLUMNS: dict[str, dict[str, tuple[type, tuple[int, ...]]]] = {
    "commissions": {
        **{k: (np.int64, ()) for k in ("gid", "client", "month", "field", "purpose")},
        **{k: (float, ()) for k in ("u_lang", "u_scope", "recognition", "cooperation")},
    },
    "titles": {k: (object, ()) for k in ("title_zh", "title_en", "kw_zh", "kw_en")},
    "orders": {
        **{
            k: (np.int64, ())
            for k in ("client", "month", "product", "link", "reason", "need_month")
        },
        "cancelled": (bool, ()),
        "u": (float, (3,)),
        "p": (float, ()),
    },
    "feedback": {
        **{k: (np.int64, ()) for k in ("client", "commission", "month")},
        "quarterly": (bool, ()),
        **{k: (float, ()) for k in ("overall", "experience", "quality", "attitude")},
    },
    "interactions": {k: (np.int64, ()) for k in ("client", "month", "kind")},
}


def ensure_columns(h: History) -> None:
    """Give every table every column, empty where nothing happened."""
    for table, cols in COLUMNS.items():
        parts = getattr(h, table)
        for key, (dtype, shape) in cols.items():
            if not parts[key]:
                parts[key].append(np.empty((0, *shape), dtype=dtype))
