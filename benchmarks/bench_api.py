"""API load benchmark: portal and live librarian recommendations vs a trivial endpoint.

Prepares a demo store of ``--clients`` clients (generate → import → semantic index with
the deterministic FakeEmbedder → train), serves it with uvicorn on loopback, serves a
trivial FastAPI JSON endpoint the same way (``--workers`` uvicorn processes each, as
``recsvc serve --workers``), and drives each with ``wrk`` (bounded:
``--duration`` seconds per endpoint, fixed connections). Prints req/s, p50/p99 and the
ratios to the trivial endpoint, and checks the targets:

- portal ``GET /api/v1/me/recommendations``: ≥ 0.3× trivial req/s and p99 ≤ 10 ms;
- live next best services ``GET /api/v1/clients/{id}/recommendations``: p99 ≤ 25 ms
  and ≥ 150 req/s.

Usage::

    .venv/bin/python benchmarks/bench_api.py --clients 2000          # quick
    .venv/bin/python benchmarks/bench_api.py --clients 100000        # the target size

The prepared store is kept under ``--workdir`` (one folder per size) and reused.
Needs ``wrk`` (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORTAL_TARGET_RATIO = 0.3
PORTAL_TARGET_P99_MS = 10.0
LIVE_TARGET_P99_MS = 25.0
LIVE_TARGET_RPS = 150.0

_SERVER = """
import uvicorn
from recsvc.config import Settings
uvicorn.run("_bench_server:app", factory=True, host="127.0.0.1", port={port},
            workers={workers}, timeout_worker_healthcheck=Settings().worker_healthcheck_seconds,
            log_level="warning", access_log=False)
"""

_TRIVIAL = """
import uvicorn
uvicorn.run("_bench_server:trivial", factory=True, host="127.0.0.1", port={port},
            workers={workers}, log_level="warning", access_log=False)
"""

_LUA = """
local pairs_ = {pairs}
local reqs = {{}}
local i = 0
init = function(args)
  for _, p in ipairs(pairs_) do
    reqs[#reqs + 1] = wrk.format("GET", p[1], {{["Authorization"] = "Bearer " .. p[2]}})
  end
  i = math.random(#reqs)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings_values(base: Path) -> dict[str, str]:
    return {
        "environment": "test",
        "data_dir": str(base / "data"),
        "models_dir": str(base / "models"),
        "database_url": f"sqlite:///{base / 'data' / 'recsvc.db'}",
        "log_level": "WARNING",
        # two yearly cutoffs (four for the ranker) instead of four: a serving benchmark,
        # and training at 100k clients takes the box for long enough as it is
        "backtest_cutoffs": "2",
    }


def prepare(base: Path, n_clients: int) -> None:
    """Generate, import, index and train once; reused when ``base`` holds a model."""
    from recsvc.config import Settings
    from recsvc.registry import Registry

    values = _settings_values(base)
    settings = Settings(**values)  # type: ignore[arg-type]
    if Registry(settings.models_dir).active():
        print(f"reusing prepared store in {base}")
        return
    from recsvc.demo import generate
    from recsvc.ingest import import_dir
    from recsvc.semantic import FakeEmbedder, build_semantic
    from recsvc.store import Database
    from training.pipeline import train

    shutil.rmtree(base, ignore_errors=True)
    steps = []
    t0 = time.perf_counter()
    generate(base / "import", n_clients=n_clients)
    steps.append(("generate", time.perf_counter() - t0))
    db = Database.from_settings(settings)
    db.upgrade()
    import_dir(db, base / "import")
    steps.append(("import", time.perf_counter() - t0))
    layer = build_semantic(db, settings, FakeEmbedder())
    layer.save()
    steps.append(("index", time.perf_counter() - t0))
    db.dispose()
    version = train(settings, semantic=layer, track=False)
    steps.append(("train", time.perf_counter() - t0))
    print(
        f"prepared {n_clients} clients, model {version}: "
        + ", ".join(f"{name} done at {t:.0f}s" for name, t in steps)
    )


def make_keys(
    base: Path, n_portal: int, n_live: int
) -> tuple[str, list[tuple[str, str]], list[str]]:
    """A librarian key, portal tokens for up to ``n_portal`` clients with precomputed
    lists, and up to ``n_live`` client ids for live calls, spread over all clients with
    history (keys are stored hashed; secrets stay here)."""
    from sqlalchemy import delete

    from recsvc.auth import create_key
    from recsvc.config import Settings
    from recsvc.registry import Registry
    from recsvc.serving import PortalLists
    from recsvc.serving.layout import PORTAL, served_dir
    from recsvc.store import Database
    from recsvc.store.enums import Role
    from recsvc.store.models import ApiKey, Client

    settings = Settings(**_settings_values(base))  # type: ignore[arg-type]
    db = Database.from_settings(settings)
    with db.session() as s:
        s.execute(delete(ApiKey).where(ApiKey.name.like("bench-%")))
    registry = Registry(settings.models_dir)
    active = registry.active() or ""
    ids = sorted(PortalLists.open(served_dir(settings, active, registry.path(active)) / PORTAL))
    with db.session() as s:  # all of them: an IN list of 100k ids is over SQLite's limit
        ext = dict(s.query(Client.id, Client.external_id).all())
    chosen = [ext[i] for i in ids[:: max(1, len(ids) // n_portal)][:n_portal]]
    live = [ext[i] for i in ids[:: max(1, len(ids) // n_live)][:n_live]]
    librarian = create_key(db, "bench-librarian", Role.LIBRARIAN)[1]
    portal = [
        ("/api/v1/me/recommendations", create_key(db, f"bench-portal-{e}", Role.PORTAL, e)[1])
        for e in chosen
    ]
    db.dispose()
    return librarian, portal, live


def start(
    code: str,
    ready_url: str,
    *,
    env: dict[str, str] | None = None,
    workers: int = 1,
    timeout: float = 3600,
) -> subprocess.Popen[bytes]:
    """Start a server; ready when ``workers`` distinct processes say the model is loaded."""
    proc = subprocess.Popen(  # a fixed interpreter command on loopback
        [sys.executable, "-c", code],
        cwd=ROOT,
        start_new_session=True,
        env={
            **os.environ,
            **(env or {}),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]),
        },
    )
    deadline = time.monotonic() + timeout
    loaded: set[int] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            # a new connection each time, so that every worker gets asked
            r = httpx.get(ready_url, timeout=2, headers={"Connection": "close"})
            body = r.json()
            if r.status_code == 200 and body.get("model_loaded", True):
                loaded.add(int(body.get("worker", 0)))
                if len(loaded) >= workers:
                    return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"{ready_url} not ready in {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def memory(pgid: int) -> list[dict[str, float]]:
    """Resident and proportional set size (MB) of every process in the server's group.

    PSS splits each shared page (the mapped model files) between the processes that map
    it, so the PSS column adds up to what the server really takes.
    """
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of /proc/PID/stat: the process group
                continue
            rollup = (stat.parent / "smaps_rollup").read_text()
        except (OSError, IndexError, ValueError):
            continue
        kb = {
            line.split(":")[0]: int(line.split()[1])
            for line in rollup.splitlines()[1:]
            if line.split(":")[0] in ("Rss", "Pss")
        }
        pid = int(stat.parent.name)
        out.append({"pid": pid, "rss_mb": kb["Rss"] / 1024, "pss_mb": kb["Pss"] / 1024})
    return sorted(out, key=lambda m: -m["rss_mb"])


def wrk(
    url: str,
    pairs: list[tuple[str, str]] | None,
    *,
    connections: int,
    duration: int,
    threads: int = 1,
) -> dict[str, float]:
    """Run wrk once; returns req/s, p50/p99 (ms) and error counts."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        items = ",".join(f'{{"{p}","{t}"}}' for p, t in (pairs or [("/ping", "-")]))
        fh.write(_LUA.format(pairs="{" + items + "}"))
        script = fh.name
    out = subprocess.run(
        [*cmd, "-s", script, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    seconds = raw["duration_us"] / 1e6
    return {
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "requests": raw["requests"],
        "errors": raw["non2xx"] + raw["socket_errors"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench-api")
    ap.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    ap.add_argument("--connections", type=int, default=16, help="portal and trivial")
    ap.add_argument("--live-connections", type=int, default=4)
    ap.add_argument("--portal-clients", type=int, default=500)
    ap.add_argument(
        "--live-clients",
        type=int,
        default=5000,
        help="distinct clients the live calls cycle through, so that calls rarely repeat "
        "a client (a repeat would find its similar-case search cached)",
    )
    ap.add_argument(
        "--workers", type=int, default=2, help="server processes (recsvc serve --workers)"
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install -y wrk", file=sys.stderr)
        return 2
    base = args.workdir / f"c{args.clients}"
    prepare(base, args.clients)
    librarian, portal, live_ids = make_keys(base, args.portal_clients, args.live_clients)
    live = [(f"/api/v1/clients/{e}/recommendations", librarian) for e in live_ids]

    port, tport = _free_port(), _free_port()
    t0 = time.perf_counter()
    server = start(
        _SERVER.format(port=port, workers=args.workers),
        f"http://127.0.0.1:{port}/readyz",
        env={f"RECSVC_{k.upper()}": v for k, v in _settings_values(base).items()},
        workers=args.workers,
    )
    load_s = time.perf_counter() - t0
    trivial = start(
        _TRIVIAL.format(port=tport, workers=args.workers),
        f"http://127.0.0.1:{tport}/ping",
        workers=args.workers,
    )
    try:
        for url, pairs in (
            (f"http://127.0.0.1:{tport}", None),
            (f"http://127.0.0.1:{port}", portal[:20]),
            (f"http://127.0.0.1:{port}", live[:5]),
        ):
            wrk(url, pairs, connections=2, duration=2)  # warm-up
        res = {
            "trivial": wrk(
                f"http://127.0.0.1:{tport}",
                None,
                connections=args.connections,
                duration=args.duration,
            ),
            "portal": wrk(
                f"http://127.0.0.1:{port}",
                portal,
                connections=args.connections,
                duration=args.duration,
            ),
            "librarian_live": wrk(
                f"http://127.0.0.1:{port}",
                live,
                connections=args.live_connections,
                duration=args.duration,
            ),
        }
        # one connection: latency without queueing behind other requests
        for name, url, pairs in (
            ("trivial_c1", f"http://127.0.0.1:{tport}", None),
            ("portal_c1", f"http://127.0.0.1:{port}", portal),
            ("librarian_live_c1", f"http://127.0.0.1:{port}", live),
        ):
            res[name] = wrk(url, pairs, connections=1, duration=args.duration)
        mem = memory(server.pid)
    finally:
        stop(server)
        stop(trivial)
    ratio_portal = res["portal"]["rps"] / res["trivial"]["rps"]
    ratio_live = res["librarian_live"]["rps"] / res["trivial"]["rps"]
    print(
        textwrap.dedent(f"""
        recsvc API benchmark: {args.clients} clients, {os.cpu_count()} CPUs, {args.workers} server
        worker(s), wrk 1 thread, {args.duration}s per endpoint, start + model load {load_s:.1f}s
        """).strip()
    )
    print(f"load average {os.getloadavg()[0]:.1f} (other work on the box skews every number)")
    print(
        f"{'endpoint':<18}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}{'× trivial':>11}"
    )
    c1 = res["trivial_c1"]["rps"]
    for name, conns, ratio in (
        ("trivial", args.connections, 1.0),
        ("portal", args.connections, ratio_portal),
        ("librarian_live", args.live_connections, ratio_live),
        ("trivial_c1", 1, 1.0),
        ("portal_c1", 1, res["portal_c1"]["rps"] / c1),
        ("librarian_live_c1", 1, res["librarian_live_c1"]["rps"] / c1),
    ):
        r = res[name]
        print(
            f"{name:<18}{conns:>6}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
            f"{r['max_ms']:>9.1f}{r['errors']:>8}{ratio:>11.3f}"
        )
    print(
        "server memory (MB, resident / proportional): "
        + ", ".join(f"{m['rss_mb']:.0f} / {m['pss_mb']:.0f}" for m in mem)
        + f"; PSS total {sum(m['pss_mb'] for m in mem):.0f}"
    )
    checks = {
        f"portal ≥ {PORTAL_TARGET_RATIO}× trivial req/s": ratio_portal >= PORTAL_TARGET_RATIO,
        f"portal p99 ≤ {PORTAL_TARGET_P99_MS} ms (1 connection)": res["portal_c1"]["p99_ms"]
        <= PORTAL_TARGET_P99_MS,
        f"live p99 ≤ {LIVE_TARGET_P99_MS} ms (1 connection)": res["librarian_live_c1"]["p99_ms"]
        <= LIVE_TARGET_P99_MS,
        f"live ≥ {LIVE_TARGET_RPS} req/s": res["librarian_live"]["rps"] >= LIVE_TARGET_RPS,
        "no errors": all(r["errors"] == 0 for r in res.values()),
    }
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISS'}] {name}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "clients": args.clients,
                    "results": res,
                    "ratios": {"portal": ratio_portal, "librarian_live": ratio_live},
                    "checks": checks,
                    "load_s": load_s,
                    "memory": mem,
                    "workers": args.workers,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
