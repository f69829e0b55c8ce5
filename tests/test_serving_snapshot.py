"""One store snapshot shared by the versions a runtime opens, re-read when the store changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import update

import recsvc.serving.snapshot as snapshot
import recsvc.store.stamp as stamp_module
from recsvc.serving import SnapshotHolder
from recsvc.serving.snapshot import recall_digest, record_snapshot, saved_frames
from recsvc.store import Database
from recsvc.store.enums import ClientKind
from recsvc.store.frames import Frames, load_frames
from recsvc.store.models import Client, Commission
from recsvc.store.stamp import SNAPSHOT_TABLES, data_stamp, snapshot_digest

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


def _no_hashing(*_: object) -> None:
    raise AssertionError("every cell hashed")


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
    record_snapshot(tmp_path, written)
    monkeypatch.setattr(stamp_module, "_DIGESTS", {})  # a fresh process
    read = load_frames(db)
    with monkeypatch.context() as patched:
        patched.setattr(stamp_module, "digest_tables", _no_hashing)
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
    record_snapshot(tmp_path, read)
    assert not (tmp_path / "snapshot.json").exists()
    assert not (tmp_path / "snapshot.pkl").exists()
    assert not recall_digest(tmp_path, read)


def _assert_same_frames(got: Frames, want: Frames) -> None:
    for name, table in want.tables().items():
        pd.testing.assert_frame_equal(getattr(got, name), table)


def test_a_holder_loads_the_frames_saved_at_the_stores_stamp(
    db: Database, tmp_path: Path, reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_client(db, "C-ONE")
    _settle(db)
    written = load_frames(db)
    record_snapshot(tmp_path / "v1", written)
    monkeypatch.setattr(stamp_module, "_DIGESTS", {})  # a fresh process
    holder = SnapshotHolder(db, tmp_path)
    loaded = holder.current()
    assert not reads, "the store was read although its frames were saved at its stamp"
    _assert_same_frames(loaded, written)
    assert loaded.stamp == data_stamp(db) and holder.current() is loaded
    monkeypatch.setattr(stamp_module, "digest_tables", _no_hashing)
    assert (
        snapshot_digest(loaded)
        == json.loads((tmp_path / "v1" / "snapshot.json").read_text())["digest"]
    )


def test_frames_saved_at_another_stamp_are_not_used(
    db: Database, tmp_path: Path, reads: list[int]
) -> None:
    _add_client(db, "C-ONE")
    _settle(db)
    record_snapshot(tmp_path / "v1", load_frames(db))
    cid = _add_client(db, "C-TWO")
    _settle(db)
    reads.clear()
    current = SnapshotHolder(db, tmp_path).current()
    assert len(reads) == 1 and cid in set(current.clients["client_id"])


def test_frames_pickled_by_other_library_versions_are_not_used(
    db: Database, tmp_path: Path, reads: list[int]
) -> None:
    _add_client(db, "C-ONE")
    _settle(db)
    record_snapshot(tmp_path / "v1", load_frames(db))
    record = tmp_path / "v1" / "snapshot.json"
    older = json.loads(record.read_text())
    older["frames"]["pandas"] = "1.5.3"
    record.write_text(json.dumps(older))
    reads.clear()
    SnapshotHolder(db, tmp_path).current()
    assert len(reads) == 1


def test_only_the_newest_saved_frames_are_kept(db: Database, tmp_path: Path) -> None:
    _add_client(db, "C-ONE")
    _settle(db)
    record_snapshot(tmp_path / "v1", load_frames(db))
    _add_client(db, "C-TWO")
    _settle(db)
    record_snapshot(tmp_path / "v2", load_frames(db))
    assert sorted(p.parent.name for p in tmp_path.glob("*/snapshot.pkl")) == ["v2"]
    assert (tmp_path / "v1" / "snapshot.json").exists()  # its digest still keys its files


def test_a_copy_replaced_under_its_record_is_not_taken_for_it(db: Database, tmp_path: Path) -> None:
    """A writer replaced the frames after a server read the record beside them: the
    frames carry their own stamp, and another stamp's are not used for this one."""
    _add_client(db, "C-ONE")
    _settle(db)
    record_snapshot(tmp_path / "v1", load_frames(db))
    _add_client(db, "C-TWO")
    _settle(db)
    newer = tmp_path / "elsewhere"
    record_snapshot(newer, load_frames(db))
    old_record = json.loads((tmp_path / "v1" / "snapshot.json").read_text())
    (newer / "snapshot.json").write_text(json.dumps(old_record))  # the old record, new frames
    assert saved_frames(tmp_path, old_record["stamp"]) is None
