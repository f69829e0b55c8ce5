"""``load_frames`` never lets personal data out; ``Frames.as_of`` is a strict cutoff."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import select

from recsvc.store import Database, load_frames
from recsvc.store.enums import (
    ClientKind,
    EventType,
    FeedbackKind,
    InteractionKind,
    Severity,
    Surface,
)
from recsvc.store.frames import PERSONAL_COLUMNS, Frames
from recsvc.store.models import (
    Client,
    Commission,
    Complaint,
    Contact,
    Feedback,
    Interaction,
    Order,
    Product,
    RecommendationEvent,
)

NAME, REG_NAME, EMAIL, PHONE = "王秘密", "wangmimi", "secret.wang@example.cn", "13900001111"
SECRETS = (NAME, REG_NAME, EMAIL, PHONE)


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def _fill(db: Database) -> None:
    """One client with activity on both sides of 2022-01-01, a contact full of secrets,
    and free text (note, comment, description) that names the contact."""
    with db.session() as s:
        product_id = s.scalar(select(Product.id).where(Product.code == "patent_analysis"))
        old = Client(
            external_id="C1", kind=ClientKind.ENTERPRISE, registered_on=dt.date(2020, 1, 1)
        )
        late = Client(
            external_id="C2", kind=ClientKind.UNIVERSITY, registered_on=dt.date(2022, 1, 1)
        )
        s.add_all([old, late])
        s.flush()
        contact = Contact(
            external_id="P1",
            client_id=old.id,
            name=NAME,
            registered_name=REG_NAME,
            email=EMAIL,
            phone=PHONE,
        )
        s.add(contact)
        s.flush()
        before = Commission(
            external_id="K1",
            client_id=old.id,
            contact_id=contact.id,
            title_zh="一种疫苗佐剂",
            commissioned_on=dt.date(2021, 12, 1),
            completed_on=dt.date(2022, 1, 10),
        )
        on_cutoff = Commission(
            external_id="K2",
            client_id=old.id,
            contact_id=contact.id,
            commissioned_on=dt.date(2022, 1, 1),
        )
        s.add_all([before, on_cutoff])
        s.flush()
        s.add_all(
            [
                Order(
                    external_id="O1",
                    client_id=old.id,
                    product_id=product_id,
                    ordered_on=dt.date(2021, 12, 31),
                    amount=25000.0,
                ),
                Order(
                    external_id="O2",
                    client_id=old.id,
                    product_id=product_id,
                    ordered_on=dt.date(2022, 1, 1),
                    amount=25000.0,
                ),
                Interaction(
                    external_id="I1",
                    client_id=old.id,
                    kind=InteractionKind.CALL,
                    occurred_on=dt.date(2021, 6, 1),
                    note=f"called {NAME} on {PHONE}",
                ),
                Interaction(
                    external_id="I2",
                    client_id=old.id,
                    kind=InteractionKind.VISIT,
                    occurred_on=dt.date(2022, 3, 1),
                ),
                Feedback(
                    external_id="F1",
                    client_id=old.id,
                    commission_id=before.id,
                    kind=FeedbackKind.REPORT,
                    received_on=dt.date(2021, 12, 20),
                    overall=5,
                    comment=f"{NAME} ({EMAIL}) was pleased",
                ),
                Feedback(
                    external_id="F2",
                    client_id=old.id,
                    kind=FeedbackKind.QUARTERLY,
                    received_on=dt.date(2022, 1, 1),
                    overall=4,
                ),
                Complaint(
                    external_id="X1",
                    client_id=old.id,
                    severity=Severity.GENERAL,
                    opened_at=_utc(2021, 12, 30, 9),
                    responded_at=_utc(2021, 12, 31, 9),
                    resolved_at=_utc(2022, 1, 2, 9),
                    description=f"{REG_NAME} complained",
                ),
                Complaint(
                    external_id="X2",
                    client_id=old.id,
                    severity=Severity.CRITICAL,
                    opened_at=_utc(2022, 1, 1, 0),
                ),
                RecommendationEvent(
                    event=EventType.IMPRESSION,
                    client_id=old.id,
                    item_code="patent_analysis",
                    surface=Surface.LIBRARIAN,
                    occurred_at=_utc(2021, 11, 1, 10),
                    actor="librarian-key",
                ),
                RecommendationEvent(
                    event=EventType.IMPRESSION,
                    client_id=old.id,
                    item_code="trend_analysis",
                    surface=Surface.PORTAL,
                    occurred_at=_utc(2022, 2, 1, 10),
                ),
            ]
        )


def _frames(frames: Frames) -> dict[str, pd.DataFrame]:
    return frames.tables()


def test_frames_never_carry_personal_data(any_db: Database) -> None:
    _fill(any_db)
    frames = load_frames(any_db)
    assert len(frames.commissions) == 2 and len(frames.feedback) == 2  # the data is there
    for name, frame in _frames(frames).items():
        assert not PERSONAL_COLUMNS & set(frame.columns), name
        cells = [str(v) for v in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
        blob = "\n".join(cells)
        for secret in SECRETS:
            assert secret not in blob, f"{secret!r} leaked into frame {name}"
        if name == "commissions":
            assert "一种疫苗佐剂" in blob  # the search does see cell text


def test_as_of_drops_everything_on_or_after_the_cutoff(db: Database) -> None:
    _fill(db)
    cutoff = pd.Timestamp("2022-01-01")
    full = load_frames(db)
    past = full.as_of(cutoff)
    assert list(past.clients["external_id"]) == ["C1"]
    assert list(past.commissions["external_id"]) == ["K1"]
    assert past.commissions["completed_on"].isna().all()  # delivered after the cutoff
    assert list(past.orders["external_id"]) == ["O1"]
    assert list(past.interactions["occurred_on"]) == [pd.Timestamp("2021-06-01")]
    assert list(past.feedback["received_on"]) == [pd.Timestamp("2021-12-20")]
    assert len(past.complaints) == 1
    for table in (full.interactions, full.feedback, full.complaints):
        assert "external_id" not in table  # the centre's numbers: nothing models them
    complaint = past.complaints.iloc[0]
    assert complaint["responded_at"] == pd.Timestamp("2021-12-31 09:00")
    assert pd.isna(complaint["resolved_at"])  # resolved after the cutoff: not yet known
    assert list(past.events["item_code"]) == ["patent_analysis"]
    for name, frame in _frames(past).items():
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                assert (frame[col].dropna() < cutoff).all(), f"{name}.{col}"
    # the full snapshot is untouched
    assert len(full.commissions) == 2
    assert full.commissions["completed_on"].iloc[0] == pd.Timestamp("2022-01-10")
    assert len(past.products) == len(full.products) == 16


def test_every_column_read_is_contiguous(db: Database) -> None:
    """The driver's rows arrive as one row-major array of objects; a text column left
    as a view of it has a stride of a whole row, and every take of a few of its rows
    copied the whole column (the 10k portal step took twice as long)."""
    _fill(db)
    for name, frame in _frames(load_frames(db)).items():
        for col in frame.columns:
            values = frame[col].array
            data = getattr(values, "_ndarray", None)
            if data is not None:
                assert data.flags["C_CONTIGUOUS"], f"{name}.{col} is a strided view"


def test_memo_per_frame_computes_once_per_frame_object() -> None:
    import pandas as pd

    from recsvc.store.memo import memo_per_frame

    calls: list[int] = []

    @memo_per_frame
    def total(df: pd.DataFrame) -> int:
        calls.append(1)
        return int(df["x"].sum())

    a = pd.DataFrame({"x": [1, 2]})
    assert total(a) == 3 and total(a) == 3 and len(calls) == 1
    b = pd.DataFrame({"x": [1, 2, 3]})  # another frame (even a lookalike) is its own key
    assert total(b) == 6 and len(calls) == 2
    for i in range(40):  # many short-lived frames: bounded, and recycled ids never match
        assert total(pd.DataFrame({"x": [i]})) == i
    assert total(a) == 3


def test_repeated_text_is_one_object_per_value_and_reads_back_alike() -> None:
    """What the store hands back is kept value for value and dtype for dtype; a text
    column whose values repeat shares one object per value (a smaller snapshot to
    pickle), a mostly distinct one stays as read."""
    from recsvc.store.frames import shared_strings

    purposes = ["申报", "成果鉴定", None, "申报"] * 50
    frame = pd.DataFrame(
        {
            "purpose": pd.Series(["".join(p) if p else p for p in purposes], dtype="str"),
            "external_id": pd.Series([f"C-{i}" for i in range(200)], dtype="str"),
            "n": range(200),
        }
    )
    out = shared_strings(frame)
    pd.testing.assert_frame_equal(out, frame)
    assert out["purpose"].isna().sum() == 50
    objects = {id(v) for v in out["purpose"].array._ndarray if isinstance(v, str)}
    assert len(objects) == 2  # two distinct values, one object each
    assert out["external_id"].array._ndarray is frame["external_id"].array._ndarray


def test_as_of_after_everything_is_the_snapshot_itself_and_stays_apart(db: Database) -> None:
    """A cutoff after every date (a server's today) keeps every table as it is, over
    the same data; a change to either side leaves the other as it was (copy-on-write)."""
    _fill(db)
    full = load_frames(db)
    now = full.as_of(pd.Timestamp("2100-01-01"))
    for name, frame in _frames(now).items():
        pd.testing.assert_frame_equal(frame, _frames(full)[name])
    assert np.shares_memory(now.orders["client_id"].to_numpy(), full.orders["client_id"].to_numpy())
    before = full.commissions["title_zh"].tolist()
    now.commissions.loc[now.commissions.index[0], "title_zh"] = "改过的"
    assert full.commissions["title_zh"].tolist() == before


def test_as_of_keeps_a_prefix_over_the_same_data_and_masks_only_late_dates() -> None:
    """Tables are read in date order, so a cutoff keeps each one's first rows: those
    are the same data (copy-on-write), any other selection is taken as pandas takes
    it; masking late dates makes new columns only, of the same dtype."""
    from recsvc.store.frames import _kept, _masked

    days = pd.to_datetime(["2021-01-01", "2021-02-01", "2021-03-01", "2021-04-01"])
    frame = pd.DataFrame({"on": days, "x": [1.0, 2.0, 3.0, 4.0]}, index=[10, 11, 12, 13])
    keep = frame["on"] < pd.Timestamp("2021-03-01")
    prefix = _kept(frame, keep)
    pd.testing.assert_frame_equal(prefix, frame[keep])
    assert np.shares_memory(prefix["x"].to_numpy(), frame["x"].to_numpy())
    shuffled = frame.iloc[[2, 0, 3, 1]]
    mixed = keep.loc[shuffled.index]  # kept rows not first: taken
    pd.testing.assert_frame_equal(_kept(shuffled, mixed), shuffled[mixed])
    pd.testing.assert_frame_equal(_kept(frame, keep & False), frame.iloc[:0])

    done = frame.assign(done=days + pd.Timedelta(days=40))
    masked = _masked(done, ("done",), pd.Timestamp("2021-03-01"))
    assert masked["done"].isna().tolist() == [False, True, True, True]
    assert masked["done"].dtype == done["done"].dtype
    assert np.shares_memory(masked["x"].to_numpy(), done["x"].to_numpy())
    assert done["done"].notna().all()  # the frame it came from is as it was
    assert _masked(done, ("done",), pd.Timestamp("2030-01-01")) is done
