"""CLI commands: ``recommend``, ``worklist``, ``feedback``.

Thin shells over :class:`recsvc.services.Services` and :mod:`recsvc.recommend`; clients
are named by their public ``external_id`` and translated once, here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from recsvc.cli._common import console, settings
from recsvc.errors import InvalidInput
from recsvc.store.enums import DeclineReason, EventType, Surface


def _services() -> Any:
    from recsvc.services import Services

    return Services.build(settings(), warm_worklist=False)


def recommend(
    client: Annotated[str, typer.Argument(help="The client's external id.")],
    surface: Annotated[
        str, typer.Option("--surface", help="librarian (full evidence) or portal (anonymised).")
    ] = "librarian",
    k: Annotated[int, typer.Option("-k", help="Number of products.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the impressions shown.")
    ] = True,
) -> None:
    """Next best services for one client, with reasons, plus relationship actions."""
    if surface not in ("librarian", "portal"):
        raise InvalidInput("--surface must be librarian or portal")
    services = _services()
    cid = services.client_id(client)
    result = services.recommend(cid, Surface(surface), k=k, actor="cli", record=record)
    actions = [a.as_dict() for a in services.require_bundle().recommender.actions(cid)]
    if as_json:
        out = {
            "client": client,
            "version": result.version,
            "surface": surface,
            "items": result.items,
            "actions": actions,
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(
        "#", "product", "score", "reasons", title=f"{client} · {result.version} · {surface}"
    )
    for item in result.items:
        reasons = "\n".join(
            f"{zh} / {en}" for zh, en in zip(item["reasons_zh"], item["reasons_en"], strict=False)
        )
        table.add_row(
            str(item["rank"]),
            f"{item['name_zh']}\n{item['name_en']}",
            f"{item['score']:.3f}",
            reasons,
        )
    console.print(table)
    for a in actions:
        console.print(f"[bold]action[/] ({a['segment']}): {a['name_zh']} / {a['name_en']}")


def worklist(
    segment: Annotated[
        str | None, typer.Option("--segment", help="key, potential, general, new, dormant.")
    ] = None,
    field: Annotated[str | None, typer.Option("--field", help="Industry field (exact).")] = None,
    staff: Annotated[str | None, typer.Option("--staff", help="Account manager (exact).")] = None,
    product: Annotated[
        str | None, typer.Option("--product", help="Only offers of this product code.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows per page.")] = 20,
    page: Annotated[int, typer.Option("--page", help="Page number, from 1.")] = 1,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the rows to a .csv or .xlsx file.")
    ] = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the offers shown as impressions.")
    ] = False,
) -> None:
    """Clients to contact now: best offer, probability and a one-line reason."""
    from recsvc.recommend import Shown, export_worklist, record_impressions
    from recsvc.recommend import worklist as build_worklist

    services = _services()
    bundle = services.require_bundle()
    with bundle.lock:
        rows = build_worklist(
            bundle.recommender,
            segment=segment,
            field=field,
            staff=staff,
            product=product,
            limit=limit,
            offset=(max(page, 1) - 1) * limit,
        )
    if record:
        for r in rows:
            record_impressions(
                services.db,
                r.client_id,
                [Shown(r.product_code, 1, r.score)],
                surface=Surface.WORKLIST,
                model_version=bundle.version,
                actor="cli",
            )
    console.print(
        f"[bold]worklist[/] · model {bundle.version} · "
        "p = probability the client buys this offer within 12 months",
        highlight=False,
    )
    for r in rows:
        # One card per client: Chinese names and reasons stay readable in any width.
        console.print(
            f"[bold]{r.rank:>3}[/]  {r.external_id}  {r.name_zh or r.name_en}  "
            f"[cyan]{r.segment}[/] · {r.account_manager or '—'} · [bold]p {r.score:.2f}[/]",
            highlight=False,
        )
        console.print(f"       offer   {r.product_zh} / {r.product_en}", highlight=False)
        reason = r.reason_zh or r.reason_en
        if reason:
            console.print(f"       why     {reason}", highlight=False, markup=False, soft_wrap=True)
        if r.action_zh:
            console.print(f"       action  {r.action_zh} / {r.action_en}", highlight=False)
    if export is not None:
        console.print(f"exported {len(rows)} rows to {export_worklist(rows, export)}")


def feedback(
    client: Annotated[str, typer.Argument(help="The client's external id.")],
    product: Annotated[str, typer.Argument(help="Product code (or action:…).")],
    outcome: Annotated[str, typer.Argument(help="accepted, declined or purchased.")],
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", help=f"With declined: {', '.join(r.value for r in DeclineReason)}."
        ),
    ] = None,
) -> None:
    """Record an outcome for the client's latest impression of a product."""
    from recsvc.recommend import record_outcome

    if outcome not in (EventType.ACCEPTED, EventType.DECLINED, EventType.PURCHASED):
        raise InvalidInput("outcome must be accepted, declined or purchased")
    services = _services()
    cid = services.client_id(client)
    event_id = record_outcome(
        services.db, outcome, client_id=cid, item_code=product, reason=reason, actor="cli"
    )
    console.print(f"recorded {outcome} of {product} for {client} (event {event_id})")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.command("recommend")(recommend)
    app.command("worklist")(worklist)
    app.command("feedback")(feedback)
