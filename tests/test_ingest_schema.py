"""The import schemas match the store, and the generated docs match the schemas."""

from __future__ import annotations

import json

import pytest

from recsvc.ingest.docs import DOC_PATH, SCHEMA_DIR, json_schema, rendered_files
from recsvc.ingest.schema import ENTITY_ORDER, REFERENCE_ATTRIBUTES, SCHEMAS
from recsvc.store.enums import ClientKind, Purpose, SearchScope
from recsvc.store.models import ENTITIES

_NOT_IMPORTED = {"id", "created_at", "updated_at"}


def test_entities_in_dependency_order() -> None:
    assert ENTITY_ORDER == (
        "clients",
        "contacts",
        "commissions",
        "orders",
        "interactions",
        "feedback",
        "complaints",
    )
    assert set(SCHEMAS) == set(ENTITIES)


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_schema_covers_every_model_column(entity: str) -> None:
    """Every stored column is importable: attributes by name, foreign keys by reference."""
    schema = SCHEMAS[entity]
    covered = {c.attribute for c in schema.columns if c.attribute}
    covered |= {REFERENCE_ATTRIBUTES[c.name] for c in schema.references}
    model_columns = {c.name for c in ENTITIES[entity].__table__.columns} - _NOT_IMPORTED
    assert covered == model_columns


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_required_columns_are_the_non_nullable_ones(entity: str) -> None:
    table = ENTITIES[entity].__table__
    for col in SCHEMAS[entity].columns:
        if col.references:
            target = table.c[REFERENCE_ATTRIBUTES[col.name]]
        else:
            target = table.c[col.attribute]
        has_default = target.default is not None
        assert col.required == (not target.nullable and not has_default), col.name


def test_enum_columns_accept_codes_and_chinese_labels() -> None:
    kind = SCHEMAS["clients"].column("kind")
    for label, code in {
        "企业": ClientKind.ENTERPRISE,
        "高校": ClientKind.UNIVERSITY,
        "科研院所": ClientKind.RESEARCH_INSTITUTE,
        "所内研究所": ClientKind.IN_HOUSE_INSTITUTE,
        "个人": ClientKind.INDIVIDUAL,
        "其他": ClientKind.OTHER,
        "Enterprise": ClientKind.ENTERPRISE,
    }.items():
        assert kind.parse_enum(label) == code
    scope = SCHEMAS["commissions"].column("search_scope")
    assert scope.parse_enum("国内") == SearchScope.DOMESTIC
    assert scope.parse_enum("国内外") == SearchScope.DOMESTIC_AND_FOREIGN
    purpose = SCHEMAS["commissions"].column("purpose")
    for label, code in {
        "立项": Purpose.PROJECT_APPROVAL,
        "成果鉴定": Purpose.ACHIEVEMENT_APPRAISAL,
        "报奖": Purpose.AWARD_APPLICATION,
        "专利申请": Purpose.PATENT_APPLICATION,
        "产品开发": Purpose.PRODUCT_DEVELOPMENT,
    }.items():
        assert purpose.parse_enum(label) == code
    assert purpose.parse_enum("bogus") is None


def test_no_label_maps_to_two_codes_of_one_enum() -> None:
    for schema in SCHEMAS.values():
        for col in schema.columns:
            labels = [label for group in col.labels().values() for label in group]
            assert len(labels) == len(set(labels)), col.name


def test_ranges_are_declared() -> None:
    commissions = SCHEMAS["commissions"]
    assert commissions.column("fee").minimum == 0
    assert (
        commissions.column("recognition_score").minimum,
        commissions.column("recognition_score").maximum,
    ) == (1, 5)
    assert SCHEMAS["orders"].column("amount").minimum == 0
    for score in ("overall", "experience", "quality", "attitude"):
        col = SCHEMAS["feedback"].column(score)
        assert (col.minimum, col.maximum) == (1, 5)
    assert all(
        c.personal for c in SCHEMAS["contacts"].columns if c.name in {"name", "email", "phone"}
    )


def test_json_schema_shape() -> None:
    doc = json_schema(SCHEMAS["orders"])
    assert doc["required"] == [
        "external_id",
        "client_external_id",
        "product_code",
        "ordered_on",
        "amount",
    ]
    assert doc["additionalProperties"] is False
    assert doc["properties"]["amount"] == {
        "description": "Amount in CNY.",
        "type": "number",
        "minimum": 0.0,
    }
    assert doc["properties"]["product_code"]["x-references"] == "products.code"


def test_generated_docs_match_the_specs() -> None:
    """Fails when data/schemas/*.json or docs/import-format.md drift from the specs.

    Fix with: .venv/bin/python -m recsvc.ingest.docs
    """
    files = rendered_files()
    assert set(files) == {SCHEMA_DIR / f"{e}.json" for e in ENTITY_ORDER} | {DOC_PATH}
    for path, expected in files.items():
        assert path.exists(), f"{path} is missing: run python -m recsvc.ingest.docs"
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path} drifted from recsvc/ingest/schema.py: run python -m recsvc.ingest.docs"
        )
        if path.suffix == ".json":
            json.loads(expected)


def test_docs_mention_every_column() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    for schema in SCHEMAS.values():
        assert f"### {schema.entity}" in text
        for col in schema.columns:
            assert f"`{col.name}`" in text


def test_public_surface() -> None:
    import recsvc.ingest as ingest

    assert set(ingest.__all__) == {
        "ENTITY_ORDER",
        "SCHEMAS",
        "ColumnSpec",
        "EntitySchema",
        "ImportReport",
        "detect_encoding",
        "entity_of",
        "import_dir",
        "import_file",
        "open_table",
    }
    for name in ingest.__all__:
        assert getattr(ingest, name) is not None
    fields = ingest.ImportReport.__dataclass_fields__
    assert list(fields) == [
        "entity",
        "source",
        "rows",
        "inserted",
        "updated",
        "unchanged",
        "dry_run",
    ]
