"""index updated_at: the store's stamp reads the latest of every table

The store's stamp (``recsvc.store.stamp.data_stamp``) takes the latest ``updated_at``
of each table a snapshot reads; without an index that is a scan of the whole table
(3.6 s over the 100,000-client demo store on SQLite), paid by every version a server
opens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The tables with ``updated_at`` (``recsvc.store.models.TimestampMixin``).
TABLES = (
    "clients",
    "contacts",
    "commissions",
    "products",
    "orders",
    "interactions",
    "feedback",
    "complaints",
)


def upgrade() -> None:
    for table in TABLES:
        op.create_index(op.f(f"ix_{table}_updated_at"), table, ["updated_at"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_updated_at"), table_name=table)
