"""CLI commands ``serve`` and ``keys create|list|revoke|secret`` (plus the hidden
``train-job``).

``serve --demo`` makes sure one librarian, one analyst, one admin key and one portal
token exist, prints the secrets of those it created (only hashes are stored) and
ready-to-paste curl commands.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Annotated

import typer

from recsvc.cli import _common
from recsvc.cli import audit as audit_commands
from recsvc.cli._common import console, settings
from recsvc.errors import NotFound
from recsvc.runtime import Runtime
from recsvc.store.enums import JobStatus, Role
from recsvc.usecases import access, clients, jobs, models

DEMO_KEYS: tuple[tuple[str, Role], ...] = (
    ("demo-librarian", Role.LIBRARIAN),
    ("demo-analyst", Role.ANALYST),
    ("demo-admin", Role.ADMIN),
    ("demo-portal", Role.PORTAL),
)

keys_app = typer.Typer(help="API keys and portal tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
    app.command("train-job", hidden=True)(train_job)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings)")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create demo keys if absent and print curl lines")
    ] = False,
    rotate_demo_keys: Annotated[
        bool, typer.Option("--rotate-demo-keys", help="With --demo: new secrets for demo keys")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: RECSVC_WORKERS)")
    ] = None,
) -> None:
    """Serve the JSON API, its docs (/docs) and the web console (/console)."""
    import uvicorn

    from api.app import create_app

    s = settings()
    host = host or s.host
    port = port or s.port
    workers = workers or s.workers
    audit_commands.prune_at_start()
    if workers == 1:
        started = time.perf_counter()
        app = create_app(s)
        bundle = app.state.runtime.bundle
        if bundle is not None:  # the loading steps log at INFO: one line, as other commands
            _common.console_err.print(
                f"model {bundle.version} loaded in {time.perf_counter() - started:.1f} s",
                highlight=False,
            )
        if demo:
            _demo_banner(app.state.runtime, host, port, rotate=rotate_demo_keys)
        _common.configure_logging(s.log_level)  # the running server logs at its level
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
        return
    # several processes: each worker builds its own app (and loads the model) from the
    # environment; this parent only supervises them, so it loads no model
    if demo:
        rt = _common.runtime()
        _demo_banner(rt, host, port, rotate=rotate_demo_keys)
        rt.close()
    console.print(f"starting {workers} worker processes; each loads the model in service")
    # metrics of all workers: each writes its samples here, /metrics sums them (a fresh
    # folder per run, or old counts would be added in)
    metrics_dir = tempfile.mkdtemp(prefix="recsvc-metrics-")
    _common.configure_logging(s.log_level)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "api.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_worker_healthcheck=s.worker_healthcheck_seconds,
            log_level=log_level,
            access_log=False,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _demo_banner(rt: Runtime, host: str, port: int, *, rotate: bool) -> None:
    existing = {k.name: k for k in access.list_keys(rt)}
    portal_client = (
        existing["demo-portal"].client_external_id if "demo-portal" in existing else None
    )
    if portal_client is None:
        portal_client = clients.nth_external_id(rt, n=0)
    secrets: dict[str, str] = {}
    for name, role in DEMO_KEYS:
        if role is Role.PORTAL and portal_client is None:
            console.print("[yellow]no clients in the store yet: no portal token[/] (run make demo)")
            continue
        if name in existing and not rotate:
            continue
        if name in existing:
            _, secrets[name] = access.rotate_key(rt, name=name)
        else:
            _, secrets[name] = access.create_key(
                rt,
                name=name,
                role=role,
                client_external_id=portal_client if role is Role.PORTAL else None,
            )
    sample = clients.nth_external_id(rt, n=1)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    console.rule("[bold]recsvc demo")
    console.print(f"console  {base}/console/")
    console.print(f"API docs {base}/docs")
    active = models.list_versions(rt).active
    console.print(f"model    {active or 'none trained yet (run recsvc train)'}")
    if secrets:
        console.print("\n[bold]New demo keys[/] (shown once; only their hashes are stored):")
        for name, secret in secrets.items():
            console.print(f"  {name:16} {secret}", highlight=False)
    kept = [n for n, _ in DEMO_KEYS if n in existing and n not in secrets]
    if kept:
        console.print(
            f"\nDemo keys {', '.join(kept)} already exist and their secrets are not stored; "
            "run [bold]recsvc serve --demo --rotate-demo-keys[/] for new ones."
        )
    lib = secrets.get("demo-librarian", "$LIBRARIAN_KEY")
    portal = secrets.get("demo-portal", "$PORTAL_TOKEN")
    client = sample or portal_client or "C000001"
    lines = [
        "# librarian: this week's worklist, then one client's next best services",
        f'curl -s -H "Authorization: Bearer {lib}" "{base}/api/v1/worklist?limit=5"',
        f'curl -s -H "Authorization: Bearer {lib}" '
        f'"{base}/api/v1/clients/{client}/recommendations"',
        f"# portal token of client {portal_client}: only its own recommendations",
        f'curl -s -H "Authorization: Bearer {portal}" "{base}/api/v1/me/recommendations"',
        "# no key: 401 problem document",
        f'curl -si "{base}/api/v1/worklist" | head -1',
    ]
    console.print("\n" + "\n".join(lines), highlight=False, markup=False, soft_wrap=True)
    console.rule()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A unique name for the key")],
    role: Annotated[Role, typer.Option("--role", "-r", help="librarian|analyst|admin|portal")],
    client: Annotated[
        str | None, typer.Option("--client", help="Client external id (portal tokens)")
    ] = None,
) -> None:
    """Create a key and print its secret once (only its SHA-256 hash is stored)."""
    info, secret = access.create_key(
        _common.runtime(), name=name, role=role, client_external_id=client
    )
    console.print(f"created {info.role.value} key [bold]{info.name}[/] ({info.prefix}…)")
    console.print("secret (shown once, store it now):")
    console.print(secret, highlight=False, markup=False, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys: name, role, bound client, prefix, created, revoked."""
    table = _common.table("name", "role", "client", "prefix", "created", "revoked")
    for k in access.list_keys(_common.runtime()):
        table.add_row(
            k.name,
            k.role.value,
            k.client_external_id or "",
            k.prefix,
            _fmt(k.created_at),
            _fmt(k.revoked_at),
        )
    console.print(table)


@keys_app.command("secret")
def keys_secret() -> None:
    """Print a fresh value for RECSVC_SECRET_KEY (48 random bytes, URL-safe base64)."""
    import secrets

    typer.echo(secrets.token_urlsafe(48))  # the value alone, to paste or pipe


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name")]) -> None:
    """Revoke a key (servers stop accepting it within seconds)."""
    info = access.revoke_key(_common.runtime(), name=name)
    console.print(f"revoked [bold]{info.name}[/] ({info.prefix}…)")


def train_job(job_id: Annotated[str, typer.Argument(help="training_jobs.id")]) -> None:
    """Run a training job recorded by the API (the server launches this in a subprocess,
    so the serving process never imports :mod:`training`).

    The job records this process (pid, host) and a heartbeat: every
    ``job_heartbeat_seconds`` and with each progress report, so a server can tell a
    live job from one whose process died. Version folders of earlier killed runs are
    removed first."""
    rt = _common.runtime()

    def update(**values: object) -> None:
        try:
            jobs.heartbeat(rt, job_id=job_id, **values)
        except NotFound:
            raise typer.Exit(3) from None

    update(status=JobStatus.RUNNING, message="training started", progress=0.0)
    stop = threading.Event()
    threading.Thread(target=_beat, args=(rt, job_id, stop), name="heartbeat", daemon=True).start()
    try:
        jobs.clean_versions(rt)
        from training import pipeline

        handler = _JobProgress(pipeline.STEPS, update)
        logging.getLogger(pipeline.__name__).addHandler(handler)
        logging.getLogger(pipeline.__name__).setLevel(logging.INFO)
        version = pipeline.train(settings(), progress=False)
    except BaseException as exc:
        stop.set()
        update(
            status=JobStatus.FAILED,
            message=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=dt.datetime.now(dt.UTC),
        )
        raise
    stop.set()
    registry = rt.registry
    update(
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        message=f"trained {version}",
        finished_at=dt.datetime.now(dt.UTC),
        result={
            "version": version,
            "active": registry.active(),
            "promoted": registry.active() == version,
            "promotion": registry.decision(version),
        },
    )


def _beat(rt: Runtime, job_id: str, stop: threading.Event) -> None:
    """Record the job's heartbeat until ``stop`` is set (a long step reports no progress)."""
    while not stop.wait(rt.settings.job_heartbeat_seconds):
        try:
            jobs.heartbeat(rt, job_id=job_id)
        except Exception:  # a missed beat is not worth killing the training for
            logging.getLogger(__name__).warning("job %s: heartbeat failed", job_id, exc_info=True)


class _JobProgress(logging.Handler):
    """Turns the pipeline's ``train: <step>`` log lines into job progress in the store."""

    def __init__(self, steps: tuple[str, ...], update: Callable[..., None]) -> None:
        super().__init__(logging.INFO)
        self.steps = steps
        self.update = update

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != "train: %s" or not record.args:
            return
        message = str(record.args[0] if isinstance(record.args, tuple) else record.args)
        head = message.split(":")[0]
        if head in self.steps:
            self.update(progress=self.steps.index(head) / len(self.steps), message=message)


def _fmt(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""
