"""The layers import one way: shells (API, console, CLI) call use cases; use cases use
the store, the semantic layer and the serving bundle; serving never imports training.

Imports are read with ``ast`` (every ``import`` and ``from … import``, also inside
functions), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Modules the shells (``api/``, ``recsvc/cli/``) must reach only through use cases.
SHELL_FORBIDDEN = ("recsvc.store.models", "recsvc.store.queries", "recsvc.semantic", "sqlalchemy")


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _hits(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in files:
        bad = sorted(
            m for m in imports_of(path) if any(m == f or m.startswith(f"{f}.") for f in forbidden)
        )
        if bad:
            out[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)] = bad
    return out


def _py(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def test_imports_are_read_also_inside_functions(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from training import pipeline\n    import sqlalchemy.orm\n")
    assert {"training", "training.pipeline", "sqlalchemy.orm"} <= imports_of(src)
    assert _hits([src], ("training",)) == {str(src): ["training", "training.pipeline"]}
    assert _hits([src], ("sqlalchemy",)) == {str(src): ["sqlalchemy.orm"]}


def test_serving_never_imports_training() -> None:
    serving = [p for p in _py("recsvc") if "cli" not in p.relative_to(ROOT / "recsvc").parts]
    assert serving, "no serving modules found"
    assert _hits(serving, ("training",)) == {}


@pytest.mark.parametrize("shell", ["api", "recsvc/cli"])
def test_shells_go_through_the_use_cases(shell: str) -> None:
    files = _py(shell)
    assert files
    assert _hits(files, SHELL_FORBIDDEN) == {}


def test_the_runtime_never_imports_the_use_cases() -> None:
    assert _hits([ROOT / "recsvc" / "runtime.py"], ("recsvc.usecases",)) == {}


def test_the_recommender_never_imports_what_serves_it() -> None:
    """Data flows one way: ``recsvc.serving`` opens the recommender's pieces, so the
    recommender never imports ``recsvc.serving`` (nor anything above it)."""
    files = _py("recsvc/recommend")
    assert files
    assert _hits(files, ("recsvc.serving", "recsvc.runtime", "recsvc.usecases")) == {}


def test_no_select_statements_in_the_shells() -> None:
    offenders = [
        str(p.relative_to(ROOT)) for p in _py("api", "recsvc/cli") if "select(" in p.read_text()
    ]
    assert offenders == []


def test_the_recommender_reads_the_store_through_queries() -> None:
    """Every store read outside the bulk frame reader lives in ``recsvc.store.queries``
    (writes, such as recording impressions, may stay with their feature)."""
    offenders = [
        str(p.relative_to(ROOT)) for p in _py("recsvc/recommend") if "select(" in p.read_text()
    ]
    assert offenders == []


def test_services_module_is_gone() -> None:
    assert not (ROOT / "recsvc" / "services.py").exists()
