"""CLI commands of the semantic layer: ``index build``, ``index distill``, ``search``,
``similar``.

The commands speak public ids (client and commission external ids, product codes,
case ids); the use cases (:mod:`recsvc.usecases.search`) translate them, as for the API.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import asdict
from typing import Annotated, Any

import typer

from recsvc.cli import _common
from recsvc.cli._common import console, console_err
from recsvc.errors import InvalidInput
from recsvc.usecases import clients
from recsvc.usecases import search as searching

index_app = typer.Typer(help="The semantic index (embeddings, FAISS, BM25).", no_args_is_help=True)


@index_app.command("build")
def build(
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bars (default: on a terminal)."),
    ] = None,
) -> None:
    """Embed commissions, clients, products and cases from the store and save the indexes."""
    rt = _common.runtime()
    show = _common.progress_default(progress)
    started = time.perf_counter()
    quiet = console_err.status("embedding and indexing …") if not show else nullcontext()
    with quiet:
        built = searching.build_index(rt, progress=show)
    saved = f"saved to {built.folder} in {time.perf_counter() - started:.1f}s" + (
        f" ({built.embedded} texts embedded, the rest from the cache)"
        if built.embedded is not None
        else ""
    )
    if _common.is_brief():
        counts = ", ".join(f"{info['count']:,} {kind}" for kind, info in built.stats.items())
        console.print(
            f"semantic index {built.model_id}: {counts}; {saved}", highlight=False, soft_wrap=True
        )
        return
    table = _common.table("kind", "records", "index", title=f"semantic index · {built.model_id}")
    for kind, info in built.stats.items():
        table.add_row(kind, str(info["count"]), info["index"])
    console.print(table)
    console.print(saved)


@index_app.command("distill")
def distill(
    dims: Annotated[
        int, typer.Option("--dims", help="Width of the static vectors (PCA); 0: the model's.")
    ] = 256,
) -> None:
    """Distil a fast static embedder from the configured model (offline, model2vec).

    Select it with RECSVC_EMBEDDING_BACKEND=static, then run `recsvc index build`.
    """
    settings = _common.settings()
    with console_err.status("distilling a static model …"):
        made = searching.distill_static(settings, dims=dims or None)
    p = made.provenance
    console.print(
        f"static model {made.model_id} ({p['dims']} dims, {p['vocabulary']} word pieces) "
        f"distilled from {p['base_model_id']} in {p['seconds']}s; saved to {made.folder}"
    )


def _channels(channels: dict[str, dict[str, float]]) -> str:
    return " ".join(f"{name}#{int(v['rank'])}" for name, v in channels.items())


def _print_hits(hits: list[dict[str, Any]], title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(hits, ensure_ascii=False, indent=2))
        return
    table = _common.table("#", "id", "score", "channels", "title", title=title)
    for i, hit in enumerate(hits, start=1):
        table.add_row(
            str(i), hit["id"], f"{hit['score']:.4f}", _channels(hit["channels"]), hit["title"]
        )
    console.print(table)


def search(
    text: Annotated[str, typer.Argument(help="Query text, English or Chinese.")],
    kind: Annotated[
        str, typer.Option("--kind", help=f"What to search: {' | '.join(searching.KINDS)}.")
    ] = "commissions",
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Hybrid (dense + BM25) search in librarian scope."""
    if kind not in searching.KINDS:
        raise InvalidInput(f"--kind must be one of {', '.join(searching.KINDS)}")
    hits = searching.search(_common.runtime(), query=text, kind=kind, k=k)
    _print_hits([asdict(h) for h in hits], f"{kind} · {text}", as_json)


def similar(
    client: Annotated[
        str | None, typer.Option("--client", help="A client's external id: similar clients.")
    ] = None,
    commission: Annotated[
        str | None,
        typer.Option(
            "--commission", help="A commission's external id: similar commissions and past cases."
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Number of results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Clients like a client, or commissions and value-added cases like a commission."""
    if (client is None) == (commission is None):
        raise InvalidInput("give exactly one of --client or --commission")
    rt = _common.runtime()
    if client is not None:
        cid = clients.client_id(rt, external_id=client)
        rows = [asdict(r) for r in searching.similar_clients(rt, client_id=cid, k=k)]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        table = _common.table(
            "#", "client", "score", "name", "industry", title=f"clients like {client}"
        )
        for i, r in enumerate(rows, start=1):
            table.add_row(
                str(i),
                r["external_id"],
                f"{r['score']:.3f}",
                r.get("name_zh") or r.get("name_en") or "",
                r.get("industry_field") or "",
            )
        console.print(table)
        return
    assert commission is not None
    found = searching.similar_commissions(rt, external_id=commission, k=k)
    comm_hits = [asdict(h) for h in found.commissions]
    case_hits = [asdict(h) for h in found.cases]
    if as_json:
        typer.echo(json.dumps({"commissions": comm_hits, "cases": case_hits}, ensure_ascii=False))
        return
    _print_hits(comm_hits, f"commissions like {commission}", False)
    table = _common.table(
        "#", "case", "score", "product", "summary", title="past value-added cases"
    )
    for i, h in enumerate(case_hits, start=1):
        table.add_row(
            str(i), h["id"], f"{h['score']:.4f}", h["meta"].get("product_code"), h["summary"]
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.add_typer(index_app, name="index")
    app.command("search")(search)
    app.command("similar")(similar)
