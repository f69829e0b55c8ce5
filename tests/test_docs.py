"""The README documents every setting and every CLI command (datasette's test_docs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from recsvc.cli import app
from recsvc.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    root = typer.main.get_command(app)
    names: list[str] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if command.hidden:  # internal plumbing, e.g. the API's training subprocess
            continue
        subs = getattr(command, "commands", None)
        if subs:
            names.extend(f"{name} {sub}" for sub in subs)
        else:
            names.append(name)
    return sorted(names)


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:400]
    assert "make demo" in head and "make test" in head


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"RECSVC_{name.upper()}" in README


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    group, _, sub = command.partition(" ")
    if sub:  # `recsvc models list|promote …` documents several subcommands in one row
        documented = any(
            line.startswith(f"| `recsvc {group} ") and sub in line for line in README.splitlines()
        )
    else:
        documented = f"`recsvc {group}" in README
    assert documented, f"recsvc {command} is not documented in README.md"


def test_the_command_list_is_not_empty() -> None:
    assert len(_commands()) >= 20
