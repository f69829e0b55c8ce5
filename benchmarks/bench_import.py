"""Benchmark: ``import_file`` of N commission rows vs a bare SQLAlchemy Core insert.

Generates N synthetic commissions (and N/10 clients, imported first, not timed), then
times, each into a fresh database:

* ``import_file(db, "commissions.csv")``: read, detect encoding, validate every cell and
  reference, diff against the store, bulk insert, record the import run;
* a bare ``conn.execute(insert(commissions), rows)`` of the same, already typed rows.

Run on demand (never from the tests)::

    .venv/bin/python benchmarks/bench_import.py             # 100k rows, SQLite
    .venv/bin/python benchmarks/bench_import.py --rows 20000 --pg --repeat 1

``--pg`` also runs against PostgreSQL (``RECSVC_TEST_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``; a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from recsvc.ingest import import_file
from recsvc.store import Database
from recsvc.store.enums import Purpose, SearchScope
from recsvc.store.models import Client, Commission

PG_URL = os.environ.get("RECSVC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIELDS = ["生物医药", "新材料", "环境工程", "农业", "航空", "烟草", "电子信息"]


def generate(folder: Path, n_rows: int, seed: int = 7) -> tuple[Path, Path]:
    """Write ``clients.csv`` (n/10 rows) and ``commissions.csv`` (n rows)."""
    rng = random.Random(seed)
    n_clients = max(1, n_rows // 10)
    clients = folder / "clients.csv"
    with clients.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "name_zh", "kind", "industry_field", "registered_on"])
        for i in range(n_clients):
            w.writerow([f"C{i:07d}", f"客户{i}", "企业", rng.choice(FIELDS), "2015-01-01"])
    commissions = folder / "commissions.csv"
    start = dt.date(2011, 1, 1)
    with commissions.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "external_id",
                "client_external_id",
                "title_zh",
                "keywords",
                "subject_area",
                "search_scope",
                "purpose",
                "fee",
                "commissioned_on",
                "completed_on",
                "searcher",
                "recognition_score",
            ]
        )
        for i in range(n_rows):
            day = start + dt.timedelta(days=rng.randrange(5000))
            w.writerow(
                [
                    f"K{i:08d}",
                    f"C{rng.randrange(n_clients):07d}",
                    f"一种{rng.choice(FIELDS)}方法及其应用{i}",
                    "关键词一;关键词二",
                    rng.choice(FIELDS),
                    rng.choice(list(SearchScope)).value,
                    rng.choice(list(Purpose)).value,
                    f"{rng.randrange(500, 5000)}",
                    day.isoformat(),
                    (day + dt.timedelta(days=rng.randrange(5, 40))).isoformat(),
                    f"searcher{rng.randrange(20)}",
                    str(rng.randrange(1, 6)),
                ]
            )
    return clients, commissions


def typed_rows(path: Path, client_ids: dict[str, int]) -> list[dict[str, object]]:
    """The commission rows as the store wants them (what a bare insert gets)."""
    rows: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                {
                    "external_id": r["external_id"],
                    "client_id": client_ids[r["client_external_id"]],
                    "title_zh": r["title_zh"],
                    "keywords": r["keywords"],
                    "subject_area": r["subject_area"],
                    "search_scope": r["search_scope"],
                    "purpose": r["purpose"],
                    "fee": float(r["fee"]),
                    "commissioned_on": dt.date.fromisoformat(r["commissioned_on"]),
                    "completed_on": dt.date.fromisoformat(r["completed_on"]),
                    "searcher": r["searcher"],
                    "recognition_score": float(r["recognition_score"]),
                }
            )
    return rows


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@contextmanager
def scratch_pg() -> Iterator[str]:
    admin = create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"recsvc_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def once(
    make_url: Callable[[str], Any], clients: Path, commissions: Path
) -> tuple[float, float, float]:
    """One measurement on fresh databases: (bare insert, import_file, no-op re-import) seconds."""
    with make_url("importer") as url:
        db = Database.from_url(url)
        db.upgrade()
        import_file(db, clients)
        t_import = timed(lambda: import_file(db, commissions))
        t_reimport = timed(lambda: import_file(db, commissions))
        db.dispose()
    with make_url("bare") as url:
        db = Database.from_url(url)
        db.upgrade()
        import_file(db, clients)
        with db.engine.connect() as conn:
            ids = dict(conn.execute(select(Client.external_id, Client.id)).all())
        rows = typed_rows(commissions, ids)

        def bare() -> None:
            with db.engine.begin() as conn:
                conn.execute(insert(Commission.__table__), rows)

        t_bare = timed(bare)
        db.dispose()
    return t_bare, t_import, t_reimport


def run(
    label: str,
    make_url: Callable[[str], Any],
    clients: Path,
    commissions: Path,
    n: int,
    repeat: int,
) -> None:
    """Best of ``repeat`` measurements of both paths, printed as rows/s and their ratio."""
    runs = [once(make_url, clients, commissions) for _ in range(repeat)]
    t_bare, t_import, t_reimport = (min(ts) for ts in zip(*runs, strict=True))
    print(f"{label}: {n:,} commission rows, best of {repeat}")
    print(f"  bare Core insert   {t_bare:7.2f} s  {n / t_bare:>10,.0f} rows/s")
    print(f"  import_file        {t_import:7.2f} s  {n / t_import:>10,.0f} rows/s")
    print(f"  re-import (no-op)  {t_reimport:7.2f} s  {n / t_reimport:>10,.0f} rows/s")
    print(f"  ratio import/bare  {t_bare / t_import:7.2f}x  (target >= 0.5x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", action="store_true", help="also benchmark PostgreSQL")
    parser.add_argument("--repeat", type=int, default=3, help="report the best of this many runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="recsvc-bench-") as tmp:
        folder = Path(tmp)
        clients, commissions = generate(folder, args.rows)

        @contextmanager
        def sqlite_url(tag: str) -> Iterator[str]:
            path = folder / f"{tag}.db"
            try:
                yield f"sqlite:///{path}"
            finally:
                for leftover in folder.glob(f"{tag}.db*"):
                    leftover.unlink()

        run("SQLite", sqlite_url, clients, commissions, args.rows, args.repeat)
        if args.pg:
            run(
                "PostgreSQL", lambda tag: scratch_pg(), clients, commissions, args.rows, args.repeat
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
