"""CLI commands: ``recommend``, ``worklist``, ``feedback``.

Thin shells over the use cases (:mod:`recsvc.usecases`), like the API: clients are
named by their public ``external_id``; ``recommend --json`` prints the body the API
answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recsvc import quantities
from recsvc.cli import _common
from recsvc.cli import audit as audit_commands
from recsvc.cli._common import console
from recsvc.errors import InvalidInput
from recsvc.exports import EXPORT_FORMATS
from recsvc.store.enums import DeclineReason, Surface
from recsvc.store.labels import SEGMENT_CODES
from recsvc.usecases import clients
from recsvc.usecases.audit import AuditAction

if TYPE_CHECKING:  # the ranker's modules load when a command ranks, not at start
    from recsvc.recommend.worklist import WorklistRow


def recommend(
    client: Annotated[str, typer.Argument(help="The client's external id.")],
    surface: Annotated[
        str, typer.Option("--surface", help="librarian (full evidence) or portal (anonymised).")
    ] = "librarian",
    k: Annotated[int, typer.Option("-k", help="Number of products.")] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON body the API answers.")
    ] = False,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the impressions shown.")
    ] = True,
) -> None:
    """Next best services for one client, with reasons, plus relationship actions."""
    from recsvc.usecases import recommendations  # the ranker: imported when it ranks

    if surface not in ("librarian", "portal"):
        raise InvalidInput("--surface must be librarian or portal")
    rt = _common.runtime(load_model=True)
    cid = clients.client_id(rt, external_id=client)
    result = recommendations.live(
        rt, client_id=cid, surface=Surface(surface), k=k, actor="cli", record=record
    )
    if as_json:
        typer.echo(result.public(client).model_dump_json(indent=2))
        return
    table = _common.table(
        "#", "product", "p · EV", "reasons", title=f"{client} · {result.version} · {surface}"
    )
    for offer in result.offers:
        reasons = "\n".join(
            f"{zh} / {en}" for zh, en in zip(offer.reasons_zh, offer.reasons_en, strict=False)
        )
        table.add_row(
            str(offer.rank),
            f"{offer.name_zh}\n{offer.name_en}",
            f"{quantities.percent(offer.score)}\n{quantities.yuan(offer.expected_value)}",
            reasons,
        )
    console.print(table)
    for a in result.actions:
        console.print(f"[bold]action[/]: {a.name_zh} / {a.name_en}")


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
    sort: Annotated[
        str, typer.Option("--sort", help="value (expected value, ¥; default) or probability.")
    ] = "value",
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the rows to a .csv or .xlsx file.")
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the export's headings and texts: zh or en.")
    ] = "zh",
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the offers shown as impressions.")
    ] = False,
) -> None:
    """Clients to contact now: best offer, its probability and expected value, and a
    one-line reason; ranked by expected value unless ``--sort probability``."""
    from recsvc.usecases import events
    from recsvc.usecases import worklist as worklists  # the ranker: imported when it ranks

    if segment is not None and segment not in SEGMENT_CODES:
        raise InvalidInput(
            f"--segment {segment!r} is not a segment; use one of {', '.join(SEGMENT_CODES)}"
        )
    if sort not in worklists.SORTS:
        raise InvalidInput("--sort must be value or probability")
    if lang not in ("zh", "en"):
        raise InvalidInput("--lang must be zh or en")
    if export is not None:
        _common.output_file(export)
        if export.suffix.lower().lstrip(".") not in EXPORT_FORMATS:
            raise InvalidInput(f"--export must end in .{' or .'.join(EXPORT_FORMATS)}")

    rt = _common.runtime(load_model=True)
    found = worklists.worklist(
        rt,
        filters=worklists.WorklistFilters(
            segment=segment,
            field=field,
            account_manager=staff,
            product=product,
            sort=sort,
            limit=limit,
        ),
        offset=(max(page, 1) - 1) * limit,
        contacts=True,  # the CLI is staff on the store's own machine
    )
    rows = found.rows
    if record:
        events.record_worklist(rt, rows=rows, version=found.version, actor="cli")
    months = rt.settings.horizon_months
    order = "expected value" if sort == "value" else "probability"
    if _common.is_brief():
        _print_brief(rows, order)
    else:
        _print_cards(rows, version=found.version, order=order, months=months)
    if export is not None:
        fmt = export.suffix.lower().lstrip(".")
        export.write_bytes(worklists.export(rows, fmt=fmt, lang=lang, contacts=True, months=months))
        detail = {"format": fmt, "rows": len(rows)}
        audit_commands.record(rt, AuditAction.WORKLIST_EXPORT, detail=detail)
        console.print(f"exported {len(rows)} rows to {export}", highlight=False, soft_wrap=True)


def _print_brief(rows: list[WorklistRow], order: str) -> None:
    """The worklist in one line: how many, and whom to call first with what."""
    top = rows[0] if rows else None
    lead = (
        f"first {top.external_id} {top.name_zh or top.name_en}: {top.product_zh} "
        f"(p {quantities.percent(top.score)} · EV {quantities.yuan(top.expected_value)})"
        if top is not None
        else "no client to contact"
    )
    console.print(
        f"worklist of {len(rows)} ranked by {order} · {lead}", highlight=False, soft_wrap=True
    )


def _print_cards(rows: list[WorklistRow], *, version: str, order: str, months: int) -> None:
    """One card per client: Chinese names and reasons stay readable in any width."""
    console.print(f"[bold]worklist[/] · model {version} · ranked by {order}", highlight=False)
    console.print(
        f"p = probability the client buys it within {months} months · EV = p × list price",
        highlight=False,
    )
    for r in rows:
        console.print(
            f"[bold]{r.rank:>3}[/]  {r.external_id}  {r.name_zh or r.name_en}  "
            f"[cyan]{r.segment}[/] · {r.account_manager or '—'}",
            highlight=False,
        )
        console.print(f"       offer   {r.product_zh} / {r.product_en}", highlight=False)
        console.print(
            f"       value   [bold]p {quantities.percent(r.score)} · "
            f"EV {quantities.yuan(r.expected_value)}[/]",
            highlight=False,
        )
        reason = r.reason_zh or r.reason_en
        if reason:
            console.print(f"       why     {reason}", highlight=False, markup=False, soft_wrap=True)
        if r.action_zh:
            console.print(f"       action  {r.action_zh} / {r.action_en}", highlight=False)


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
    amount: Annotated[
        float | None,
        typer.Option(
            "--amount", min=0, help="With purchased: the order's amount (default: list price)."
        ),
    ] = None,
) -> None:
    """Record an outcome for the client's latest impression of a product; ``purchased``
    also records the order (once per impression)."""
    from recsvc.usecases import events

    rt = _common.runtime()
    event = events.record_item_outcome(
        rt,
        client_id=clients.client_id(rt, external_id=client),
        item_code=product,
        outcome=outcome,
        reason=reason,
        actor="cli",
        amount=amount,
    )
    console.print(f"recorded {outcome} of {product} for {client} (event {event.id})")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.command("recommend")(recommend)
    app.command("worklist")(worklist)
    app.command("feedback")(feedback)
