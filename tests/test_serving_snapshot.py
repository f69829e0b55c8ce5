"""One store snapshot shared by the versions a runtime opens, re-read when the store changes."""

from __future__ import annotations

import datetime as dt

import pytest

import recsvc.serving.snapshot as snapshot
from recsvc.serving import SnapshotHolder
from recsvc.store import Database
from recsvc.store.enums import ClientKind
from recsvc.store.frames import data_stamp
from recsvc.store.models import Client, Commission


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the store was read whole."""
    count: list[int] = []
    real = snapshot.load_frames

    def counting(db: Database):  # type: ignore[no-untyped-def]
        count.append(1)
        return real(db)

    monkeypatch.setattr(snapshot, "load_frames", counting)
    return count


def _add_client(db: Database, external_id: str) -> int:
    with db.session() as s:
        client = Client(external_id=external_id, name_zh="测试", kind=ClientKind.ENTERPRISE)
        s.add(client)
        s.flush()
        s.add(
            Commission(
                external_id=f"{external_id}-1",
                client_id=client.id,
                title_zh="石墨烯传感器",
                commissioned_on=dt.date(2025, 1, 2),
            )
        )
        s.commit()
        return int(client.id)


def test_an_unchanged_store_is_read_once(db: Database, reads: list[int]) -> None:
    holder = SnapshotHolder(db)
    first = holder.current()
    assert holder.current() is first and len(reads) == 1


def test_a_change_to_the_store_is_read_again(db: Database, reads: list[int]) -> None:
    holder = SnapshotHolder(db)
    before = holder.current()
    cid = _add_client(db, "C-NEW")
    after = holder.current()
    assert len(reads) == 2 and after is not before
    assert cid in set(after.clients["client_id"]) and cid not in set(before.clients["client_id"])
    holder.forget()
    holder.current()
    assert len(reads) == 3


def test_an_edit_changes_the_stamp(db: Database) -> None:
    cid = _add_client(db, "C-EDIT")
    stamp = data_stamp(db)
    assert data_stamp(db) == stamp
    with db.session() as s:
        client = s.get(Client, cid)
        assert client is not None
        client.industry_field = "新材料"
        client.updated_at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        s.commit()
    assert data_stamp(db) != stamp
