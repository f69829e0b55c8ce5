"""Business rules as data (``rules.json`` beside this module, overridable by Settings).

- a one-off product bought within ``one_off_rebuy_days`` is not re-offered;
- a product the client declined is not re-offered within ``decline_cooldown_days``;
- a product is offered only to the client kinds in ``Product.eligible_kinds``;
- at most ``max_per_category`` offers per category (diversity);
- relationship actions come from the client's segment strategy, in their own slots.

Example:
    >>> rules = BusinessRules.load(settings=None)
    >>> rules.max_per_category
    2
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.store.memo import memo_per_frame
from recsvc.value.segments import STRATEGIES, Action

RULES_FILE = Path(__file__).with_name("rules.json")
#: The rules whose ``null`` in the JSON means "the setting of the same name".
_FROM_SETTINGS = ("one_off_rebuy_days", "decline_cooldown_days", "max_per_category")
#: A table as :meth:`BusinessRules.exclusions` reads it: a frame, or arrays by column.
Columns: TypeAlias = pd.DataFrame | Mapping[str, np.ndarray]
#: What :meth:`BusinessRules.exclusions` reads of the clients and of the orders.
EXCLUSION_COLUMNS = {
    "clients": ("client_id", "kind"),
    "orders": ("client_id", "product_code", "ordered_on"),
}


@dataclass
class BusinessRules:
    """The rules the recommender applies after ranking."""

    one_off_rebuy_days: int = 365
    decline_cooldown_days: int = 90
    max_per_category: int = 2
    enforce_eligible_kinds: bool = True
    cooldown_events: tuple[str, ...] = ("declined",)
    action_slots: int = 2

    @classmethod
    def load(cls, path: Path | None = None, settings: Settings | None = None) -> BusinessRules:
        """Read the JSON rules; ``null`` values come from ``settings`` (without them,
        from the defaults of :class:`~recsvc.config.Settings`)."""
        raw = json.loads(Path(path or RULES_FILE).read_text(encoding="utf-8"))
        if settings is not None:
            configured = settings.model_dump(include=set(_FROM_SETTINGS))
        else:
            configured = {k: Settings.model_fields[k].default for k in _FROM_SETTINGS}
        values: dict[str, Any] = {}
        for key in _FROM_SETTINGS:
            v = raw.get(key)
            values[key] = int(v if v is not None else configured[key])
        return cls(
            **values,
            enforce_eligible_kinds=bool(raw.get("enforce_eligible_kinds", True)),
            cooldown_events=tuple(raw.get("cooldown_events", ["declined"])),
            action_slots=int(raw.get("action_slots", 2)),
        )

    # -- exclusions ------------------------------------------------------------
    def exclusions(
        self,
        client_ids: Sequence[int] | np.ndarray,
        *,
        as_of: pd.Timestamp,
        clients: Columns,
        products: pd.DataFrame,
        orders: Columns,
        events: pd.DataFrame,
        events_as_of: pd.Timestamp | None = None,
        orders_as_of: pd.Timestamp | None = None,
    ) -> dict[int, set[str]]:
        """Products not to offer now, per client.

        Args:
            client_ids: whom to check.
            as_of: the business "now".
            clients: at least ``client_id, kind`` (a frame, or arrays by column name).
            products: at least ``code, one_off, eligible_kinds``.
            orders: ``client_id, product_code, ordered_on`` (purchases; a frame, or
                arrays by column name).
            events: recommendation events ``client_id, item_code, event, occurred_at``.
            events_as_of: "now" for cool-downs (events carry wall-clock time, which
                may run ahead of the business date of demo data); default ``as_of``.
            orders_as_of: orders up to this moment count (a live call reads orders
                placed today, after the business date); default ``as_of``.
        """
        as_of = pd.Timestamp(as_of)
        ids = [int(c) for c in client_ids]
        out: dict[int, set[str]] = {c: set() for c in ids}
        one_off, allowed_kinds = _catalogue_rules(products)
        # numpy masks, not pandas boolean indexing: a live call passes one client's
        # few rows, where pandas' per-operation overhead would dominate
        order_clients = np.asarray(orders["client_id"])
        if len(order_clients):
            since = as_of - pd.Timedelta(days=self.one_off_rebuy_days)
            on = np.asarray(orders["ordered_on"])
            bought = np.asarray(orders["product_code"])
            keep = (
                np.isin(order_clients, ids)
                & np.isin(bought, list(one_off))
                & (on >= since.to_datetime64())
                & (on < pd.Timestamp(orders_as_of or as_of).to_datetime64())
            )
            for cid, c in zip(order_clients[keep], bought[keep], strict=True):
                out[int(cid)].add(str(c))
        if len(events):
            now = pd.Timestamp(events_as_of) if events_as_of is not None else as_of
            since = now - pd.Timedelta(days=self.decline_cooldown_days)
            at = pd.to_datetime(events["occurred_at"]).to_numpy()
            keep = (
                np.isin(events["client_id"].to_numpy(), ids)
                & np.isin(events["event"].astype(str).to_numpy(), self.cooldown_events)
                & (at >= since.to_datetime64())
            )
            for cid, c in zip(
                events["client_id"].to_numpy()[keep],
                events["item_code"].to_numpy()[keep],
                strict=True,
            ):
                out[int(cid)].add(str(c))
        if self.enforce_eligible_kinds and allowed_kinds:
            cids = np.asarray(clients["client_id"])
            keep = np.isin(cids, ids)
            kinds = dict(
                zip(cids[keep].astype(int), np.asarray(clients["kind"])[keep], strict=True)
            )
            for cid in ids:
                kind = kinds.get(cid)
                if kind is None:
                    continue
                for code, allowed in allowed_kinds.items():
                    if str(kind) not in allowed:
                        out[cid].add(code)
        return out

    def diversify(
        self, codes: np.ndarray, scores: np.ndarray, categories: dict[str, str], k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep at most :attr:`max_per_category` per category, in score order, per row.

        Args:
            codes: ``(n, m)`` ranked codes (``""`` pads), ``m >= k`` to allow skipping.
            scores: matching scores.
            categories: product code → category.
            k: output width.
        """
        n = codes.shape[0]
        out_c = np.full((n, k), "", dtype=object)
        out_s = np.full((n, k), -np.inf)
        for i in range(n):
            used: dict[str, int] = {}
            j = 0
            for c, s in zip(codes[i], scores[i], strict=True):
                if not c or j >= k:
                    continue
                cat = categories.get(c, c)
                if used.get(cat, 0) >= self.max_per_category:
                    continue
                used[cat] = used.get(cat, 0) + 1
                out_c[i, j], out_s[i, j] = c, s
                j += 1
        return out_c, out_s

    def actions_for(self, segment: str | None) -> list[Action]:
        """The first ``action_slots`` relationship actions of a segment's strategy."""
        return STRATEGIES.get(segment, [])[: self.action_slots] if segment else []


@memo_per_frame
def _catalogue_rules(products: pd.DataFrame) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """One-off codes and each restricted product's eligible kinds."""
    one_off_rows = products["one_off"].fillna(True).astype(bool)
    one_off = frozenset(map(str, products.loc[one_off_rows, "code"]))
    allowed = {
        str(code): frozenset(kinds)
        for code, e in zip(products["code"], products["eligible_kinds"], strict=True)
        if (kinds := _as_list(e))
    }
    return one_off, allowed


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if value is not None else []
