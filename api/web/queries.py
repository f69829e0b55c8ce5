"""Small read-only queries the console needs and :class:`~recsvc.services.Services` does
not offer (yet). Each one is a plain function of the store; none writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from recsvc.store.db import Database
from recsvc.store.models import ApiKey, Client, Product

__all__ = ["filter_options", "key_is_active"]


def key_is_active(db: Database, key_id: int) -> bool:
    """Whether the key a session was opened with still exists and is not revoked."""
    with db.session() as s:
        row = s.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    return row is not None and row[0] is None


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
