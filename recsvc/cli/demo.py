"""CLI command ``demo-data``: write the deterministic demo dataset and import it.

Re-running it on an existing store is safe: the import is an upsert keyed by
``external_id``, so the same seed leaves every count unchanged.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from recsvc.cli import _common
from recsvc.cli._common import console, settings


def demo_data(
    clients: Annotated[int, typer.Option("--clients", "-n", help="Number of clients.")] = 2000,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default 20240601).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the import files (default: data_dir/demo)."),
    ] = None,
    block_size: Annotated[
        int | None,
        typer.Option(
            "--block-size",
            min=1,
            help="Clients drawn and simulated at once (default 20,000); memory grows with "
            "it, not with --clients.",
        ),
    ] = None,
    no_import: Annotated[
        bool, typer.Option("--no-import", help="Only write the files; do not import them.")
    ] = False,
) -> None:
    """Generate the demo dataset (2011-2025) into --out and import it into the store."""
    from recsvc.cli.data import report_table
    from recsvc.demo import DEFAULT_BLOCK_SIZE, DEFAULT_SEED, generate
    from recsvc.usecases import imports

    folder = out or settings().data_dir / "demo"
    started = time.perf_counter()
    with console.status(f"generating {clients:,} clients into {folder} …"):
        manifest = generate(
            folder,
            n_clients=clients,
            seed=DEFAULT_SEED if seed is None else seed,
            block_size=DEFAULT_BLOCK_SIZE if block_size is None else block_size,
        )
    wrote = (
        f"{sum(manifest.files.values()):,} rows in {len(manifest.files)} files "
        f"({manifest.seconds:.1f}s); ground truth in {manifest.truth_dir}"
    )
    if no_import:
        console.print(f"wrote {wrote}", highlight=False)
        return
    reports = imports.import_path(
        _common.runtime(), path=folder, progress=_common.progress_default(None)
    )
    if _common.is_brief():
        clients_in = sum(r.rows for r in reports if r.entity == "clients")
        console.print(
            f"demo store: {clients_in:,} clients, {sum(r.rows for r in reports):,} rows "
            f"imported in {time.perf_counter() - started:.1f} s (files in {folder})",
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(f"wrote {wrote}", highlight=False)
    console.print(report_table(reports))


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.command("demo-data")(demo_data)
