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
        "INVALID_KEY",
        "STAFF_ROLES",
        "KeyInfo",
        "Principal",
        "create_key",
        "generate_secret",
        "KeyCache",
        "hash_secret",
        "list_keys",
        "revoke_key",
        "rotate_key",
        "session_nonce",
        "verify_key",
    },
    "recsvc.runtime": {"TRAIN_JOB_ARGV", "Runtime"},
    "recsvc.usecases": {"open_runtime"},
    "recsvc.serving": {
        "PortalLists",
        "ServingBundle",
        "SnapshotHolder",
        "build_serving_files",
        "freeze_heap",
        "open_bundle",
        "open_recommender",
        "snapshot_dir",
        "write_version_files",
    },
    "api.app": {"app_from_env", "create_app"},
    "recsvc.demo": {
        "DEFAULT_BLOCK_SIZE",
        "DEFAULT_SEED",
        "DemoManifest",
        "IMPORT_FILES",
        "generate",
    },
    "recsvc.features": {
        "FEATURES",
        "FeatureDoc",
        "STAGES",
        "STAGE_LABELS",
        "business_today",
        "client_features",
        "relationship_stage",
        "stage_names",
    },
    "recsvc.ingest": {
        "ColumnSpec",
        "ENTITY_ORDER",
        "EntitySchema",
        "ImportReport",
        "SCHEMAS",
        "detect_encoding",
        "entity_of",
        "import_dir",
        "import_file",
        "open_table",
    },
    "recsvc.recommend": {
        "ActionItem",
        "BusinessRules",
        "CandidateSource",
        "ContentSource",
        "Evidence",
        "Explainer",
        "Explanation",
        "LadderSource",
        "LookAlikeSource",
        "NextBest",
        "OFFERS",
        "Offer",
        "PopularInSegmentSource",
        "PopularSource",
        "PurposeSource",
        "RandomSource",
        "Ranker",
        "RecContext",
        "Recommender",
        "Shown",
        "SourceChain",
        "TextSpace",
        "WorklistRow",
        "build_context",
        "catalogue_coverage",
        "default_sources",
        "dump_offers",
        "export_worklist",
        "feedback_features",
        "map_at_k",
        "ndcg_at_k",
        "rates",
        "rates_from_events",
        "recall_at_k",
        "record_impressions",
        "record_outcome",
        "worklist",
    },
    "recsvc.semantic": {
        "CachedEmbedder",
        "Doc",
        "Embedder",
        "FakeEmbedder",
        "KINDS",
        "LexicalIndex",
        "Scope",
        "SearchHit",
        "SemanticLayer",
        "SentenceTransformerEmbedder",
        "StaticEmbedder",
        "VectorIndex",
        "build_docs",
        "build_semantic",
        "case_summary",
        "choose_kind",
        "distill_static",
        "load_embedder",
        "rrf",
        "set_search_threads",
        "tokenize",
    },
    "recsvc.store": {
        "Database",
        "Frames",
        "load_frames",
        "make_engine",
    },
    "recsvc.value": {
        "Action",
        "ClientScore",
        "ClvModel",
        "Reason",
        "SEGMENTS",
        "SEGMENT_LABELS",
        "STRATEGIES",
        "STRATEGY_LABELS",
        "ValueModel",
        "ValueService",
        "assign_segments",
        "clv_summary",
        "segment_thresholds",
    },
    "api.routes": {
        "analyst",
        "librarian",
        "ops",
        "portal",
    },
    "api.web": {
        "PREFIX",
        "build_console",
        "mount",
    },
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
