"""Reads of the values callers check against or offer: the catalogue's product codes and
the worklist's filter choices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from recsvc.store.db import Database
from recsvc.store.models import Client, Product

__all__ = ["filter_options", "product_codes"]


def product_codes(db: Database) -> set[str]:
    """Every product code in the catalogue."""
    with db.session() as s:
        return set(s.scalars(select(Product.code)))


def filter_options(db: Database) -> dict[str, list[Any]]:
    """Choices for the worklist filters: account managers, industry fields, products."""
    with db.session() as s:
        staff = [
            v
            for (v,) in s.execute(
                select(Client.account_manager).distinct().order_by(Client.account_manager)
            )
            if v
        ]
        fields = [
            v
            for (v,) in s.execute(
                select(Client.industry_field).distinct().order_by(Client.industry_field)
            )
            if v
        ]
        products = [
            {"code": c, "name_zh": zh, "name_en": en}
            for c, zh, en in s.execute(
                select(Product.code, Product.name_zh, Product.name_en)
                .where(Product.active.is_(True))
                .order_by(Product.id)
            )
        ]
    return {"staff": staff, "fields": fields, "products": products}
