"""The store on SQLite and PostgreSQL: round trip, constraints, cascades, migrations."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, StatementError

from recsvc.store import Database
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.enums import ClientKind, OrderStatus, Purpose, SearchScope, Severity
from recsvc.store.models import (
    ENTITIES,
    Client,
    Commission,
    Complaint,
    Contact,
    Order,
    Product,
)


def _client(ext: str = "C1", **kw: object) -> Client:
    return Client(external_id=ext, kind=kw.pop("kind", ClientKind.ENTERPRISE), **kw)


def _seed(db: Database) -> None:
    with db.session() as s:
        product = s.scalars(select(Product).where(Product.code == "trend_analysis")).one()
        client = _client("C1", name_zh="某科技有限公司", talent_count=3, extra={"k": [1, 2]})
        contact = Contact(external_id="P1", client=client, name="张三", email="z@example.com")
        s.add_all([client, contact])
        s.flush()
        commission = Commission(
            external_id="K1",
            client=client,
            contact_id=contact.id,
            title_zh="一种滤嘴添加剂",
            search_scope=SearchScope.DOMESTIC,
            purpose=Purpose.PROJECT_APPROVAL,
            fee=1200.0,
            commissioned_on=dt.date(2021, 5, 1),
        )
        s.add(commission)
        s.flush()
        s.add(
            Order(
                external_id="O1",
                client_id=client.id,
                product_id=product.id,
                commission_id=commission.id,
                ordered_on=dt.date(2021, 8, 1),
                amount=40000.0,
            )
        )
        s.add(
            Complaint(
                external_id="X1",
                client_id=client.id,
                commission_id=commission.id,
                severity=Severity.SERIOUS,
                opened_at=dt.datetime(2021, 6, 1, 9, 0, tzinfo=dt.UTC),
            )
        )


def test_round_trip(any_db: Database) -> None:
    _seed(any_db)
    with any_db.session() as s:
        client = s.scalars(select(Client)).one()
        assert client.kind is ClientKind.ENTERPRISE
        assert client.extra == {"k": [1, 2]}
        assert client.created_at is not None
        commission = s.scalars(select(Commission)).one()
        assert commission.commissioned_on == dt.date(2021, 5, 1)
        assert commission.purpose is Purpose.PROJECT_APPROVAL
        assert commission.client.external_id == "C1"
        order = s.scalars(select(Order)).one()
        assert order.status is OrderStatus.PAID  # the model default
        opened = s.scalars(select(Complaint)).one().opened_at
        assert opened.replace(tzinfo=None) == dt.datetime(2021, 6, 1, 9, 0)
    assert any_db.counts() == {
        "clients": 1,
        "contacts": 1,
        "commissions": 1,
        "orders": 1,
        "interactions": 0,
        "feedback": 0,
        "complaints": 1,
        "products": len(CATALOGUE),
    }


@pytest.mark.parametrize(
    ("table", "column"),
    [("clients", "kind"), ("commissions", "purpose"), ("orders", "status")],
)
def test_enum_check_constraint_rejects_bad_values(
    any_db: Database, table: str, column: str
) -> None:
    _seed(any_db)
    with pytest.raises(IntegrityError), any_db.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))


def test_model_refuses_a_bad_enum_before_the_database(any_db: Database) -> None:
    with pytest.raises((StatementError, LookupError)), any_db.session() as s:
        s.execute(update(Client).values(kind="bogus"))


def test_external_ids_are_unique(any_db: Database) -> None:
    _seed(any_db)
    with pytest.raises(IntegrityError), any_db.session() as s:
        s.add(_client("C1"))
    assert any_db.counts()["clients"] == 1


def test_deleting_a_client_cascades(any_db: Database) -> None:
    _seed(any_db)
    with any_db.session() as s:
        s.add(_client("C2"))
    with any_db.engine.begin() as conn:
        conn.execute(delete(Client.__table__).where(Client.__table__.c.external_id == "C1"))
    counts = any_db.counts()
    assert counts["clients"] == 1
    assert counts["contacts"] == counts["commissions"] == counts["orders"] == 0
    assert counts["complaints"] == 0
    assert counts["products"] == len(CATALOGUE)  # products are not owned by clients


def test_deleting_a_commission_keeps_its_order(any_db: Database) -> None:
    _seed(any_db)
    with any_db.engine.begin() as conn:
        conn.execute(delete(Commission.__table__))
    with any_db.session() as s:
        order = s.scalars(select(Order)).one()
        assert order.commission_id is None


def test_catalogue_synced_with_16_products(any_db: Database) -> None:
    assert len(CATALOGUE) == 16
    with any_db.session() as s:
        codes = set(s.scalars(select(Product.code)))
        s.execute(update(Product).where(Product.code == "trend_analysis").values(price=1.0))
    assert codes == {e.code for e in CATALOGUE}
    any_db.upgrade()  # re-sync restores the catalogue and adds nothing
    with any_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 16
        price = s.scalar(select(Product.price).where(Product.code == "trend_analysis"))
    assert price == 40000


def test_upgrade_twice_is_harmless(any_db: Database) -> None:
    _seed(any_db)
    before = any_db.counts()
    any_db.upgrade()
    any_db.upgrade()
    assert any_db.counts() == before


def test_downgrade_to_base_and_back(any_db: Database) -> None:
    _seed(any_db)
    cfg = any_db.alembic_config()
    command.downgrade(cfg, "base")
    tables = set(inspect(any_db.engine).get_table_names())
    assert not tables & {*(m.__tablename__ for m in ENTITIES.values()), "products"}
    any_db.upgrade()
    tables = set(inspect(any_db.engine).get_table_names())
    assert {m.__tablename__ for m in ENTITIES.values()} <= tables
    counts = any_db.counts()
    assert counts["products"] == 16
    assert counts["clients"] == 0
