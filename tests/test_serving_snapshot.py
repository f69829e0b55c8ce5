"""One store snapshot shared by the versions a runtime opens, re-read when the store changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import update

import recsvc.serving.snapshot as snapshot
import recsvc.store.frames as frames_module
from recsvc.serving import SnapshotHolder
from recsvc.serving.snapshot import recall_digest, record_digest
from recsvc.store import Database
from recsvc.store.enums import ClientKind
from recsvc.store.frames import SNAPSHOT_TABLES, data_stamp, load_frames, snapshot_digest
from recsvc.store.models import Client, Commission

_LONG_AGO = dt.datetime(2020, 1, 1)


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


def _settle(db: Database) -> None:
    """Date every edit of the store back to 2020, as if it had been made then."""
    with db.session() as s:
        for model in SNAPSHOT_TABLES:
            if hasattr(model, "updated_at"):
                s.execute(update(model).values(updated_at=_LONG_AGO))
        s.commit()


def test_an_unchanged_store_is_read_once(db: Database, reads: list[int]) -> None:
    _settle(db)
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


def test_an_edit_changes_the_stamp(any_db: Database) -> None:
    db = any_db
    cid = _add_client(db, "C-EDIT")
    _settle(db)
    stamp = load_frames(db).stamp
    assert stamp is not None and data_stamp(db) == stamp
    with db.session() as s:  # no row added: only updated_at tells
        client = s.get(Client, cid)
        assert client is not None
        client.industry_field = "新材料"
        s.commit()
    assert data_stamp(db) != stamp


def test_a_store_edited_a_moment_ago_is_not_stamped_and_is_read_again(
    any_db: Database, reads: list[int]
) -> None:
    db = any_db
    _add_client(db, "C-FRESH")  # within the second: another edit now could keep the stamp
    holder = SnapshotHolder(db)
    first = holder.current()
    assert first.stamp is None
    assert holder.current() is not first and len(reads) == 2
    _settle(db)
    settled = holder.current()
    assert settled.stamp == data_stamp(db) and holder.current() is settled


def test_a_recorded_digest_keys_a_new_read_of_the_same_store(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_client(db, "C-ONE")
    _settle(db)
    written = load_frames(db)
    digest = snapshot_digest(written)
    record_digest(tmp_path, written)
    monkeypatch.setattr(frames_module, "_DIGESTS", {})  # a fresh process
    read = load_frames(db)

    def no_hashing(*_: object) -> None:
        raise AssertionError("every cell hashed")

    with monkeypatch.context() as patched:
        patched.setattr(frames_module, "digest_tables", no_hashing)
        assert recall_digest(tmp_path, read)
        assert snapshot_digest(read) == digest

    _add_client(db, "C-TWO")
    _settle(db)
    changed = load_frames(db)
    assert not recall_digest(tmp_path, changed)
    assert snapshot_digest(changed) != digest  # hashed: the record was of another read


def test_frames_read_from_an_unsettled_store_record_nothing(db: Database, tmp_path: Path) -> None:
    _add_client(db, "C-NEW")
    read = load_frames(db)
    assert read.stamp is None
    record_digest(tmp_path, read)
    assert not (tmp_path / "snapshot.json").exists()
    assert not recall_digest(tmp_path, read)
