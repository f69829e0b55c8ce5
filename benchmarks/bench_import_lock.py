"""Benchmark: how long an import into SQLite keeps a live write waiting.

Imports N synthetic commissions (``bench_import.generate``; its N/10 clients first, not
timed) into a fresh SQLite store while another connection makes a small write (an
API key, like a librarian's outcome: one short transaction) every 20 ms, and reports
the import's wall time and the longest and median wait of those writes, for

* ``streamed``: every chunk validated and written inside one transaction (the write
  lock is held from the first chunk's write to the commit; the PostgreSQL path, and
  the SQLite one before); the live writes start at the import's first write;
* ``checked first``: every file validated without writing, then written in one short
  transaction (the SQLite path).

Run on demand (never from the tests)::

    .venv/bin/python benchmarks/bench_import_lock.py            # 100k rows
    .venv/bin/python benchmarks/bench_import_lock.py --rows 20000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import generate

from recsvc.auth import create_key
from recsvc.ingest import import_file, importer
from recsvc.store import Database
from recsvc.store.enums import Role


def once(folder: Path, tag: str, clients: Path, commissions: Path) -> dict[str, float]:
    url = f"sqlite:///{folder / f'{tag}.db'}"
    db = Database.from_url(url)
    db.upgrade()
    import_file(db, clients)
    live = Database.from_url(url)
    waits: list[float] = []
    done = threading.Event()
    writing = threading.Event()
    real_write = importer.write

    def write(*args: object, **kwargs: object) -> object:
        result = real_write(*args, **kwargs)  # type: ignore[arg-type]
        writing.set()
        return result

    if tag == "streamed":
        # live writes start once the import holds the lock: a write committed between
        # its first read and its first write makes SQLite refuse the import's upgrade
        importer.write = write  # type: ignore[assignment]
    else:
        writing.set()

    def writer() -> None:
        writing.wait()
        n = 0
        while not done.is_set():
            t0 = time.perf_counter()
            create_key(live, f"live-{n}", Role.LIBRARIAN)
            waits.append(time.perf_counter() - t0)
            n += 1
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    t0 = time.perf_counter()
    if tag == "streamed":
        importer._import_streaming(
            db, [("commissions", commissions)], dry_run=False, progress=False, rows=20_000
        )
    else:
        import_file(db, commissions)
    took = time.perf_counter() - t0
    importer.write = real_write  # type: ignore[assignment]
    done.set()
    thread.join()
    live.dispose()
    db.dispose()
    return {
        "import_s": took,
        "max_wait_s": max(waits),
        "median_wait_s": statistics.median(waits),
        "writes": len(waits),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clients, commissions = generate(folder, args.rows)
        print(f"{args.rows} commissions into SQLite, a live write every 20 ms")
        print(f"{'':16}{'import':>10}{'max wait':>12}{'median wait':>14}{'writes':>8}")
        for tag in ("streamed", "checked first"):
            print(f"{tag} …", flush=True)
            r = once(
                folder, tag.replace(" ", "-") if tag != "streamed" else tag, clients, commissions
            )
            print(
                f"{tag:16}{r['import_s']:>9.1f}s{r['max_wait_s']:>11.2f}s"
                f"{r['median_wait_s'] * 1000:>12.1f}ms{int(r['writes']):>8}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
