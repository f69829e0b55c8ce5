"""CLI commands: ``train``, ``evaluate``, ``models list|promote|rollback|clean``, ``score``.

Training code is imported inside the commands that need it, so importing the CLI (and
serving) never pulls in ``training``.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from recsvc.cli import _common
from recsvc.cli import audit as audit_commands
from recsvc.cli._common import console, settings
from recsvc.config import Settings
from recsvc.errors import InvalidInput, NotReady
from recsvc.usecases import clients, jobs, models
from recsvc.usecases.audit import AuditAction

models_app = typer.Typer(
    help="Model versions: list, promote, roll back, clean up.", no_args_is_help=True
)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))


def _metrics_table(metrics: dict[str, Any], title: str) -> Table:
    table = _common.table("model", "AUC", "PR-AUC", "Brier", "lift@10%", title=title)
    rows = [("value model (LightGBM)", metrics.get("value", {}))]
    for name, m in metrics.get("baselines", {}).items():
        rows.append((f"baseline: {name}", m))
    for name, m in rows:
        table.add_row(name, *(_fmt(m.get(k)) for k in ("auc", "pr_auc", "brier", "lift@10%")))
    return table


def with_dask(s: Settings) -> Settings:
    """``s`` with a Dask scheduler: the configured one, else ``"local"`` (a LocalCluster).

    Only the setting changes here; training opens the cluster (the CLI never imports Dask).
    """
    return s if s.dask_scheduler else s.model_copy(update={"dask_scheduler": "local"})


def train(
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if it does not beat the active version.")
    ] = False,
    dask: Annotated[
        bool,
        typer.Option(
            "--dask",
            help="Run features and large LightGBM fits on Dask: the scheduler in "
            "RECSVC_DASK_SCHEDULER, else a LocalCluster of RECSVC_DASK_WORKERS processes.",
        ),
    ] = False,
) -> None:
    """Train value model, CLV and ranker on the store; register; promote if it wins.

    Raises:
        InvalidInput: the store has no clients (exit code 2).
    """
    rt = _common.runtime()
    if not rt.db.counts().get("clients"):
        raise InvalidInput("the store has no clients; import data or run recsvc demo-data")
    from training.pipeline import train as run_training

    jobs.clean_versions(rt)  # folders of runs killed before registering
    s = with_dask(settings()) if dask else settings()
    started = time.perf_counter()
    version = run_training(s, progress=_common.progress_default(None), force=force)
    seconds = time.perf_counter() - started
    audit_commands.record(rt, AuditAction.TRAIN, target=version)
    report = models.evaluation_report(rt, name=version)
    metrics = report.metrics
    promotion = report.decision or {}
    state = "[green]promoted[/]" if promotion.get("promoted") else "[yellow]not promoted[/]"
    if _common.is_brief():
        console.print(
            f"{version} trained in {seconds:.0f} s: AUC {_fmt(metrics.get('value', {}).get('auc'))}"
            f" · {state} ({promotion.get('reason', '')})",
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(_metrics_table(metrics, f"{version} — backtest at {metrics.get('eval_cutoff')}"))
    console.print(f"{version}: {state} ({promotion.get('reason', '')})")


def evaluate(
    version: Annotated[
        str | None, typer.Argument(help="Version (default: the active one).")
    ] = None,
) -> None:
    """Recompute backtest metrics and write lift, calibration and importance plots."""
    from training.evaluate import evaluate as run_evaluation

    with console.status("evaluating"):
        report = run_evaluation(settings(), version)
    table = _common.table(
        "model",
        "AUC",
        "PR-AUC",
        "Brier",
        "lift@10%",
        title=f"{report['version']} at {report['eval_cutoff']}",
    )
    for name, m in report["scores"].items():
        table.add_row(name, *(_fmt(m.get(k)) for k in ("auc", "pr_auc", "brier", "lift@10%")))
    console.print(table)
    for path in report["plots"]:
        console.print(f"plot: {path}")


@models_app.command("list")
def list_() -> None:
    """Every version, its backtest AUC, and which one is active."""
    listing = models.list_versions(_common.runtime())
    table = _common.table(title="models")
    for name in ("", "version", "created", "eval cutoff", "AUC", "RFM AUC", "NDCG@5"):
        table.add_column(name, no_wrap=True, min_width=18 if name == "version" else None)
    for info in listing.versions:
        m = info.metrics
        ndcg = models.metric(m, models.NDCG5_PATHS)  # as the console's models page
        table.add_row(
            "*" if info.active else "",
            info.version,
            (info.created or "")[:10],
            info.eval_cutoff or "",
            _fmt(m.get("value", {}).get("auc")),
            _fmt(m.get("baselines", {}).get("rfm", {}).get("auc")),
            _fmt(ndcg),
        )
    console.print(table)


@models_app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="The version to make active.")],
    force: Annotated[
        bool, typer.Option("--force", help="Skip the champion/challenger check.")
    ] = False,
) -> None:
    """Make VERSION active if it beats the active one on the same backtest (or --force)."""
    rt = _common.runtime()
    reason = models.promote(rt, name=version, force=force)
    audit_commands.record(rt, AuditAction.PROMOTE, target=version, detail={"force": force})
    console.print(f"{version} is active ({reason})")


@models_app.command("choose-value")
def choose_value(
    version: Annotated[str, typer.Argument(help="The version.")],
    model: Annotated[
        str, typer.Argument(help="lightgbm or logistic (its logistic-regression baseline).")
    ],
) -> None:
    """Make VERSION serve its LightGBM or its logistic value model (kept in the registry;
    servers follow it)."""
    rt = _common.runtime()
    models.choose_value_model(rt, name=version, model=model, by="cli")
    audit_commands.record(rt, AuditAction.VALUE_MODEL, target=version, detail={"model": model})
    report = models.evaluation_report(rt, name=version)
    c = report.comparison
    for row in c.rows if c is not None else []:
        mark = "*" if row.name == report.value_model else " "
        console.print(f"{mark} {row.name:<9} AUC {_fmt(row.auc)}  PR-AUC {_fmt(row.pr_auc)}")
    console.print(f"{version} serves its {report.value_model} value model")


@models_app.command("rollback")
def rollback() -> None:
    """Return to the previously active version."""
    rt = _common.runtime()
    previous = models.rollback(rt)
    audit_commands.record(rt, AuditAction.ROLLBACK, target=previous)
    console.print(f"rolled back; {previous} is active")


@models_app.command("clean")
def clean() -> None:
    """Remove version folders left by killed training runs (never registered, their
    process gone); registered versions and a running training's folder stay."""
    removed = jobs.clean_versions(_common.runtime())
    for version in removed:
        console.print(f"removed {version}")
    console.print(f"{len(removed)} unregistered version folder(s) removed")


def score(
    client: Annotated[str, typer.Argument(help="The client's external id.")],
    k: Annotated[int, typer.Option(help="Reasons of each sign.")] = 3,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the score as the API's client profile has it.")
    ] = False,
) -> None:
    """Value probability, segment and actions, CLV, stage and reasons (zh/en) of a client,
    by the model version in service (the same answer as the API's client profile)."""
    from recsvc.usecases import scoring

    rt = _common.runtime(load_model=True)
    client_id = clients.client_id(rt, external_id=client)
    with console.status("scoring"):
        result = scoring.client_score(rt, client_id=client_id, k=k)
    if result is None:
        rt.require_bundle()  # no model in service: say why
        raise NotReady(f"the model in service cannot score {client!r}")
    if as_json:
        typer.echo(json.dumps(scoring.public(result), ensure_ascii=False, indent=2))
        return
    seg_zh, seg_en = result.segment_label
    st_zh, st_en = result.stage_label
    console.print(f"[bold]{client}[/] (model {result.version})")
    console.print(f"value probability 价值概率: [bold]{result.probability:.1%}[/]")
    console.print(f"segment 客户分类: {seg_zh} / {seg_en}   stage 关系阶段: {st_zh} / {st_en}")
    for action in result.actions:
        console.print(f"  action 行动: {action.name_zh} / {action.name_en}")
    clv = scoring.clv_or_none(result.clv)
    if clv is not None:
        console.print(
            f"CLV (12 months): {clv['expected_commissions_12m']:.2f} commissions, "
            f"CNY {clv['expected_value_12m']:,.0f}, P(active) {clv['p_alive']:.0%}"
        )
    for r in result.reasons:
        sign = "[green]+[/]" if r.contribution > 0 else "[red]−[/]"
        console.print(f"  {sign} {r.text_zh}", highlight=False)
        console.print(f"    {r.text_en}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.command()(train)
    app.command()(evaluate)
    app.command()(score)
    app.add_typer(models_app, name="models")
