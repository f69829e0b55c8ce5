"""Research fields of the demo world and their bilingual vocabularies.

The vocabulary is data, kept in ``fields.json`` next to this module and read once at
import. Each field carries aligned Chinese/English term lists that the title composer
(:mod:`recsvc.demo.titles`) combines with several sentence patterns:

- ``obj``: objects of study (a vaccine, a membrane reactor, a cathode material);
- ``proc``: what is done to them (a process, a method, an evaluation); a leading
  ``*`` marks process/equipment development, which drives literature-and-patent
  analysis purchases (docs/demo-data.md, rule P7);
- ``tech``: enabling techniques ("based on …");
- ``app``: applications;
- ``prop``: target properties (adjectives).

In the file each term list is an object ``{"中文": "English", …}`` in draw order.
``growth`` is the field's yearly log growth of commission volume (see
:mod:`recsvc.demo.rules`); a non-zero ``since`` year delays the growth (fields that take
off after 2016).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FIELDS", "FIELDS_FILE", "FIELD_INDEX", "Field", "load_fields"]

#: The packaged vocabulary.
FIELDS_FILE = Path(__file__).with_name("fields.json")
_TERM_LISTS = ("obj", "proc", "tech", "app", "prop")

Terms = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Field:
    """One research field and its vocabulary (terms as ``(zh, en)`` pairs)."""

    code: str
    name_zh: str
    name_en: str
    subject_zh: str
    growth: float
    since: int
    weight: float
    academic: float
    obj: Terms
    proc: Terms
    tech: Terms
    app: Terms
    prop: Terms

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Field:
        """A field from one entry of ``fields.json``."""
        terms = {name: tuple(raw[name].items()) for name in _TERM_LISTS}
        return cls(
            code=raw["code"],
            name_zh=raw["name_zh"],
            name_en=raw["name_en"],
            subject_zh=raw["subject_zh"],
            growth=float(raw["growth"]),
            since=int(raw["since"]),
            weight=float(raw["weight"]),
            academic=float(raw["academic"]),
            **terms,
        )


def load_fields(path: Path = FIELDS_FILE) -> tuple[Field, ...]:
    """The fields listed in ``path``, in file order (the order draws depend on)."""
    return tuple(Field.from_dict(raw) for raw in json.loads(path.read_text(encoding="utf-8")))


FIELDS: tuple[Field, ...] = load_fields()
FIELD_INDEX: dict[str, int] = {f.code: i for i, f in enumerate(FIELDS)}
