"""Column schemas of the importable entities: one spec renders validation and docs.

Each entity file (``clients``, ``contacts``, ``commissions``, ``orders``,
``interactions``, ``feedback``, ``complaints``) has one :class:`EntitySchema`, a list of
:class:`ColumnSpec`. Column names equal the model attribute names; foreign keys carry
the parent's public key (``client_external_id``, ``contact_external_id``,
``commission_external_id``, ``product_code``). Types, maximum lengths and whether a
column is required are read from the SQLAlchemy model, so the schema cannot drift from
the store; descriptions, ranges and references are declared here.

:mod:`recsvc.ingest.docs` renders ``data/schemas/*.json`` and ``docs/import-format.md``
from :data:`SCHEMAS`; ``tests/test_ingest_schema.py`` fails when those files drift.

Example:
    >>> SCHEMAS["clients"].column("kind").enum_values()[:2]
    ['in_house_institute', 'enterprise']
    >>> SCHEMAS["clients"].column("kind").parse_enum("企业")
    'enterprise'
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy import Enum as SAEnum

from recsvc.store.labels import import_spellings
from recsvc.store.models import ENTITIES

ColumnType = Literal["string", "integer", "number", "date", "datetime", "boolean", "enum", "json"]

#: Deepest nesting accepted in a ``json`` column (the object itself is level 1). Deeper
#: values are refused with a problem, never parsed into a RecursionError.
MAX_JSON_DEPTH = 10

#: Bits of each SQLAlchemy integer type: the range SQLite and PostgreSQL both store.
_INT_BITS: tuple[tuple[type[Integer], int], ...] = ((BigInteger, 64), (SmallInteger, 16))


@dataclass(frozen=True)
class ColumnSpec:
    """One importable column.

    Attributes:
        name: The header in the import file.
        type: The value type (see :data:`ColumnType`).
        required: A required column must be present and never empty.
        description: One line for the docs.
        enum: The enum class of an ``enum`` column.
        max_length: Longest accepted string.
        minimum: Smallest accepted number (inclusive).
        maximum: Largest accepted number (inclusive).
        references: ``entity.key`` a foreign-key column points to.
        attribute: The model attribute the value is stored in (None for references).
        default: Stored when the cell is empty and the column has a default.
        personal: Values are personal data: never echoed in problems or logs.
        int_range: Smallest and largest integer the database column holds.
        multiline: Text that may hold tabs and line breaks (other control characters
            are refused everywhere).
    """

    name: str
    type: ColumnType
    required: bool
    description: str
    enum: builtins.type[StrEnum] | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    references: str | None = None
    attribute: str | None = None
    default: object | None = None
    personal: bool = False
    int_range: tuple[int, int] | None = None
    multiline: bool = False

    def enum_values(self) -> list[str]:
        """The English codes of an enum column."""
        return [m.value for m in self.enum] if self.enum else []

    def enum_lookup(self) -> dict[str, str]:
        """Every accepted spelling (lower-cased code or Chinese label) mapped to its code."""
        if self.enum is None:
            return {}
        out: dict[str, str] = {}
        labels = import_spellings(self.enum)
        for member in self.enum:
            out[member.value.lower()] = member.value
            out[member.name.lower()] = member.value
            for label in labels.get(member.value, ()):
                out[label] = member.value
        return out

    def parse_enum(self, raw: str) -> str | None:
        """The code for ``raw`` (code, member name or Chinese label), or None."""
        return self.enum_lookup().get(raw.strip().lower())

    def labels(self) -> dict[str, tuple[str, ...]]:
        """Chinese labels per code (for the docs), from :mod:`recsvc.store.labels`."""
        return import_spellings(self.enum) if self.enum else {}


@dataclass(frozen=True)
class EntitySchema:
    """The columns of one entity file, in documentation order."""

    entity: str
    description: str
    columns: tuple[ColumnSpec, ...]
    checks: tuple[str, ...] = field(default=())
    """Cross-column rules, in words (enforced by :mod:`recsvc.ingest.validate`)."""

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def references(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.references]

    @property
    def table(self) -> Table:
        """The SQLAlchemy table the entity is stored in."""
        return cast(Table, ENTITIES[self.entity].__table__)


def _column(
    entity: str,
    name: str,
    description: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    personal: bool = False,
) -> ColumnSpec:
    """A spec whose type, length, requiredness and default come from the model column."""
    col = cast(Table, ENTITIES[entity].__table__).c[name]
    sa_type = col.type
    enum: builtins.type[StrEnum] | None = None
    max_length: int | None = None
    int_range: tuple[int, int] | None = None
    kind: ColumnType
    if isinstance(sa_type, SAEnum):
        kind, enum = "enum", cast("type[StrEnum] | None", sa_type.enum_class)
    elif isinstance(sa_type, DateTime):
        kind = "datetime"
    elif isinstance(sa_type, Date):
        kind = "date"
    elif isinstance(sa_type, Boolean):
        kind = "boolean"
    elif isinstance(sa_type, Integer):
        kind = "integer"
        bits = next((b for t, b in _INT_BITS if isinstance(sa_type, t)), 32)
        int_range = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    elif isinstance(sa_type, Float):
        kind = "number"
    elif isinstance(sa_type, JSON):
        kind = "json"
    elif isinstance(sa_type, String | Text):
        kind = "string"
        max_length = getattr(sa_type, "length", None)
    else:  # pragma: no cover - a new column type needs a decision here
        raise TypeError(f"{entity}.{name}: unsupported column type {sa_type!r}")
    default = getattr(col.default, "arg", None)
    if isinstance(default, StrEnum):
        default = default.value
    required = not col.nullable and default is None
    return ColumnSpec(
        name=name,
        type=kind,
        required=required,
        description=description,
        enum=enum,
        max_length=max_length,
        minimum=minimum,
        maximum=maximum,
        attribute=name,
        default=default,
        personal=personal,
        int_range=int_range,
        multiline=isinstance(sa_type, Text),
    )


def _ref(name: str, references: str, description: str, *, required: bool) -> ColumnSpec:
    return ColumnSpec(
        name=name,
        type="string",
        required=required,
        description=description,
        max_length=64,
        references=references,
    )


def _external_id(entity: str, what: str) -> ColumnSpec:
    return _column(entity, "external_id", f"The centre's own unique number for the {what}.")


SCHEMAS: dict[str, EntitySchema] = {
    "clients": EntitySchema(
        "clients",
        "Organisations (or individuals) that commission work: the unit recommendations go to.",
        (
            _external_id("clients", "client"),
            _column("clients", "name_zh", "Organisation name in Chinese."),
            _column("clients", "name_en", "Organisation name in English."),
            _column("clients", "kind", "Kind of client."),
            _column("clients", "enterprise_type", "Enterprise type (state-owned, private, …)."),
            _column("clients", "park", "Industrial park."),
            _column("clients", "region", "Region or city."),
            _column("clients", "industry_field", "Industry field (industry direction)."),
            _column("clients", "core_technologies", "Core technologies, ';'-separated."),
            _column("clients", "core_products", "Core products, ';'-separated."),
            _column("clients", "talent_count", "High-end talent count.", minimum=0),
            _column("clients", "patents_invention", "Invention patents held.", minimum=0),
            _column("clients", "patents_utility", "Utility-model patents held.", minimum=0),
            _column("clients", "patents_design", "Design patents held.", minimum=0),
            _column("clients", "patents_in_force", "Patents legally in force.", minimum=0),
            _column("clients", "honours", "Honours and titles."),
            _column("clients", "registered_on", "Date the client was registered."),
            _column("clients", "account_manager", "Staff member responsible for the client."),
            _column("clients", "extra", "Any further attributes: a JSON object."),
        ),
    ),
    "contacts": EntitySchema(
        "contacts",
        "Contact persons (委托人). Personal data: never echoed in problems or logs.",
        (
            _external_id("contacts", "contact"),
            _ref(
                "client_external_id", "clients.external_id", "The contact's client.", required=True
            ),
            _column("contacts", "name", "Full name.", personal=True),
            _column("contacts", "registered_name", "Registered (login) name.", personal=True),
            _column("contacts", "email", "E-mail address.", personal=True),
            _column("contacts", "phone", "Phone number.", personal=True),
            _column("contacts", "title", "Job title."),
            _column("contacts", "active", "Whether the contact is still current."),
        ),
    ),
    "commissions": EntitySchema(
        "commissions",
        "Novelty-search commissions (查新委托).",
        (
            _external_id("commissions", "commission"),
            _ref(
                "client_external_id",
                "clients.external_id",
                "The commissioning client.",
                required=True,
            ),
            _ref(
                "contact_external_id",
                "contacts.external_id",
                "The contact person; must belong to the same client.",
                required=False,
            ),
            _column("commissions", "title_zh", "Project title in Chinese."),
            _column("commissions", "title_en", "Project title in English."),
            _column(
                "commissions", "keywords", "Keywords and novelty points, ';' or '；'-separated."
            ),
            _column("commissions", "subject_area", "Subject area."),
            _column("commissions", "search_scope", "Search scope."),
            _column("commissions", "purpose", "Purpose of the novelty search."),
            _column("commissions", "fee", "Fee in CNY.", minimum=0),
            _column("commissions", "industry_type", "Industry type of the project."),
            _column("commissions", "commissioned_on", "Date commissioned."),
            _column("commissions", "completed_on", "Date the report was delivered."),
            _column("commissions", "searcher", "The searcher (查新员) who handled it."),
            _column(
                "commissions",
                "recognition_score",
                "Client's recognition of novelty search.",
                minimum=1,
                maximum=5,
            ),
            _column(
                "commissions",
                "cooperation_score",
                "Client's cooperation with the searcher.",
                minimum=1,
                maximum=5,
            ),
        ),
        checks=("completed_on is on or after commissioned_on",),
    ),
    "orders": EntitySchema(
        "orders",
        "Value-added purchases.",
        (
            _external_id("orders", "order"),
            _ref("client_external_id", "clients.external_id", "The buying client.", required=True),
            _ref("product_code", "products.code", "Catalogue product code.", required=True),
            _ref(
                "commission_external_id",
                "commissions.external_id",
                "The commission that led to it; must belong to the same client.",
                required=False,
            ),
            _column("orders", "ordered_on", "Order date."),
            _column("orders", "amount", "Amount in CNY.", minimum=0),
            _column("orders", "status", "Order status."),
        ),
    ),
    "interactions": EntitySchema(
        "interactions",
        "Touch points: visits, calls, e-mails, training, greetings, pushes, meetings.",
        (
            _external_id("interactions", "interaction"),
            _ref("client_external_id", "clients.external_id", "The client.", required=True),
            _column("interactions", "kind", "Kind of touch point."),
            _column("interactions", "occurred_on", "Date."),
            _column("interactions", "staff", "Staff member."),
            _column("interactions", "note", "Free-text note (never used for modelling)."),
        ),
    ),
    "feedback": EntitySchema(
        "feedback",
        "Satisfaction feedback after a report, or the quarterly survey (scores 1-5).",
        (
            _external_id("feedback", "feedback"),
            _ref("client_external_id", "clients.external_id", "The client.", required=True),
            _ref(
                "commission_external_id",
                "commissions.external_id",
                "The commission rated; must belong to the same client.",
                required=False,
            ),
            _column("feedback", "kind", "Report feedback or quarterly survey."),
            _column("feedback", "received_on", "Date received."),
            _column("feedback", "channel", "Channel (phone, email, platform)."),
            _column("feedback", "overall", "Overall satisfaction.", minimum=1, maximum=5),
            _column("feedback", "experience", "Experience score.", minimum=1, maximum=5),
            _column("feedback", "quality", "Quality score.", minimum=1, maximum=5),
            _column("feedback", "attitude", "Attitude score.", minimum=1, maximum=5),
            _column("feedback", "comment", "Free-text comment (never used for modelling)."),
        ),
    ),
    "complaints": EntitySchema(
        "complaints",
        "Complaints, handled by severity against 48h / 24h / 8h response targets.",
        (
            _external_id("complaints", "complaint"),
            _ref("client_external_id", "clients.external_id", "The client.", required=True),
            _ref(
                "commission_external_id",
                "commissions.external_id",
                "The commission complained about; must belong to the same client.",
                required=False,
            ),
            _column("complaints", "severity", "Severity."),
            _column("complaints", "opened_at", "When the complaint was received (timestamp)."),
            _column("complaints", "responded_at", "First response (timestamp)."),
            _column("complaints", "resolved_at", "Resolution (timestamp)."),
            _column("complaints", "category", "Category."),
            _column(
                "complaints", "description", "Free-text description (never used for modelling)."
            ),
        ),
        checks=(
            "responded_at is on or after opened_at",
            "resolved_at is on or after opened_at",
        ),
    ),
}

#: Entities in dependency order (parents before children); equals the store's order.
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITIES)

#: Foreign-key column of each reference: which model attribute it fills.
REFERENCE_ATTRIBUTES: dict[str, str] = {
    "client_external_id": "client_id",
    "contact_external_id": "contact_id",
    "commission_external_id": "commission_id",
    "product_code": "product_id",
}

__all__ = [
    "ENTITY_ORDER",
    "MAX_JSON_DEPTH",
    "REFERENCE_ATTRIBUTES",
    "SCHEMAS",
    "ColumnSpec",
    "EntitySchema",
]
