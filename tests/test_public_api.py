"""The public surface is what ``__all__`` lists: pinned here, and every listed name exists.

Changing a pinned list is a deliberate API change: update the pin in the same commit.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import api
import recsvc

#: Exact ``__all__`` of the top-level package and of each subpackage that defines one.
PINNED: dict[str, set[str]] = {
    "recsvc": {"RecsvcError", "Settings", "__version__"},
    "recsvc.auth": {
        "STAFF_ROLES",
        "KeyInfo",
        "Principal",
        "create_key",
        "generate_secret",
        "hash_secret",
        "list_keys",
        "revoke_key",
        "rotate_key",
        "verify_key",
    },
    "recsvc.services": {
        "ClientFilters",
        "ModelBundle",
        "RecResult",
        "Services",
        "WorklistFilters",
    },
    "api.app": {"create_app"},
}


def _modules_with_all() -> list[str]:
    names = []
    for pkg in (recsvc, api):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
            if ".migrations" in info.name or info.name.startswith("recsvc.cli"):
                continue
            names.append(info.name)
    return names


@pytest.mark.parametrize("module", sorted(PINNED))
def test_pinned_public_api(module: str) -> None:
    assert set(importlib.import_module(module).__all__) == PINNED[module]


@pytest.mark.parametrize("module", _modules_with_all())
def test_every_exported_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    if exported is None:
        return
    assert len(exported) == len(set(exported)), f"{module}.__all__ has duplicates"
    missing = [name for name in exported if not hasattr(mod, name)]
    assert not missing, f"{module}.__all__ lists missing names {missing}"
