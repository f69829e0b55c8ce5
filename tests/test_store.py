"""The store on SQLite and PostgreSQL: round trip, constraints, cascades, migrations."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, StatementError

from recsvc.store import Database, queries
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.enums import (
    ClientKind,
    DeclineReason,
    EventType,
    OrderStatus,
    Purpose,
    SearchScope,
    Severity,
    Surface,
)
from recsvc.store.frames import PERSONAL_COLUMNS
from recsvc.store.models import (
    ENTITIES,
    Base,
    Client,
    Commission,
    Complaint,
    Contact,
    Order,
    Product,
    RecommendationEvent,
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


def test_a_clients_rows_are_read_as_frames_without_personal_columns(any_db: Database) -> None:
    """What a live call reads of a client imported after the snapshot."""
    _seed(any_db)
    cid = queries.client_id(any_db, external_id="C1")
    assert cid is not None
    rows = queries.client_rows(any_db, client_id=cid)
    assert rows is not None
    assert list(rows.clients["client_id"]) == [cid]
    assert list(rows.clients["name_zh"]) == ["某科技有限公司"]
    assert list(rows.commissions["external_id"]) == ["K1"]
    assert list(rows.commissions["commission_id"]) == [
        queries.commission_id(any_db, external_id="K1")
    ]
    assert list(rows.orders["product_code"]) == ["trend_analysis"]
    assert rows.commissions["commissioned_on"].iloc[0] == pd.Timestamp("2021-05-01")
    assert rows.orders["ordered_on"].iloc[0] == pd.Timestamp("2021-08-01")
    for frame in (rows.clients, rows.commissions):
        assert not PERSONAL_COLUMNS & set(frame.columns)
    for frame, dates in (
        (rows.clients, ("registered_on",)),
        (rows.commissions, ("commissioned_on", "completed_on")),
        (rows.orders, ("ordered_on",)),
    ):
        for c in dates:
            assert pd.api.types.is_datetime64_any_dtype(frame[c]), c
    assert queries.client_rows(any_db, client_id=cid + 1000) is None


def test_recommendation_event_reads(any_db: Database) -> None:
    """A client's events (all, or of some types), its latest impression of a product,
    and every event for the rates."""
    _seed(any_db)
    cid = queries.client_id(any_db, external_id="C1")
    assert cid is not None
    at = dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)
    with any_db.session() as s:
        shown = [
            RecommendationEvent(
                event=EventType.IMPRESSION,
                client_id=cid,
                item_code="trend_analysis",
                surface=Surface.LIBRARIAN,
                model_version="v1",
                rank=1,
                occurred_at=at + dt.timedelta(hours=h),
            )
            for h in (0, 1)
        ]
        s.add_all(shown)
        s.flush()
        s.add(
            RecommendationEvent(
                event=EventType.DECLINED,
                client_id=cid,
                item_code="trend_analysis",
                surface=Surface.LIBRARIAN,
                impression_id=shown[1].id,
                reason=DeclineReason.NO_BUDGET,
                occurred_at=at + dt.timedelta(hours=2),
            )
        )
        later = shown[1].id
    with any_db.session() as s:
        found = queries.latest_impression(s, client_id=cid, item_code="trend_analysis")
        assert found is not None and found.id == later
        assert queries.latest_impression(s, client_id=cid, item_code="other") is None

    events = queries.client_events(any_db, client_ids=[cid])
    assert sorted(events["event"]) == ["declined", "impression", "impression"]
    assert events["occurred_at"].dt.tz is None
    assert events["occurred_at"].max() == pd.Timestamp("2025-01-02 05:04")
    declines = queries.client_events(any_db, client_ids=[cid], events=[EventType.DECLINED])
    assert list(declines["impression_id"]) == [later]
    assert list(declines["reason"].astype(str)) == ["no_budget"]
    none = queries.client_events(any_db, client_ids=[cid + 1000])
    assert none.empty and list(none.columns) == list(events.columns)

    rated = queries.rate_events(any_db)
    assert list(rated.columns) == [
        "event_id",
        "event",
        "item_code",
        "model_version",
        "impression_id",
    ]
    assert len(rated) == 3 and rated["impression_id"].notna().sum() == 1


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


def test_the_migrations_build_the_models_schema(any_db: Database) -> None:
    """What ``upgrade`` builds is what the models declare (indexes included): nothing
    for an autogenerated migration to add."""
    with any_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
