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
- ``prop``: target properties (adjectives that fit the objects).

A field is split into ``topics`` (surgical robots and welding robots are both robotics,
but a surgical robot is not used for substation inspection): a title draws all its
terms from one topic, so object, process, technique, application and property belong
together. A topic's term lists add to the field's own lists, which hold the terms that
fit every topic; a field without topics is one topic. ``"made": false`` marks a topic
(or a field) whose objects are studied rather than made (viruses, wastewater, crops):
its titles never say they develop or apply the object itself. In the file each term list is an
object ``{"中文": "English", …}`` in draw order.

``growth`` is the field's yearly log growth of commission volume (see
:mod:`recsvc.demo.rules`); a non-zero ``since`` year delays the growth (fields that take
off after 2016).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FIELDS", "FIELDS_FILE", "FIELD_INDEX", "Field", "Topic", "load_fields"]

#: The packaged vocabulary.
FIELDS_FILE = Path(__file__).with_name("fields.json")
TERM_LISTS = ("obj", "proc", "tech", "app", "prop")

Terms = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Topic:
    """Terms that belong together: every combination of them reads true."""

    name: str
    made: bool
    """False where the objects are studied, not made (no "development of a virus")."""
    obj: Terms
    proc: Terms
    tech: Terms
    app: Terms
    prop: Terms

    def terms(self, slot: str) -> Terms:
        """The ``(zh, en)`` terms of one slot (``obj`` … ``prop``)."""
        terms: Terms = getattr(self, slot)
        return terms


def _merge(*lists: Terms) -> Terms:
    """Term lists joined in order, each term once."""
    return tuple(dict(t for terms in lists for t in terms).items())


@dataclass(frozen=True)
class Field:
    """One research field, its vocabulary (terms as ``(zh, en)`` pairs) and topics.

    ``obj`` … ``prop`` hold every term of the field (its own and its topics'), in file
    order; :attr:`topics` says which of them belong together.
    """

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
    topics: tuple[Topic, ...]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Field:
        """A field from one entry of ``fields.json``."""
        own = {name: tuple(raw.get(name, {}).items()) for name in TERM_LISTS}
        raw_topics = raw.get("topics") or [{"name": raw["code"]}]
        topics = tuple(
            Topic(
                name=t["name"],
                made=bool(t.get("made", raw.get("made", True))),
                **{s: _merge(own[s], tuple(t.get(s, {}).items())) for s in TERM_LISTS},
            )
            for t in raw_topics
        )
        return cls(
            code=raw["code"],
            name_zh=raw["name_zh"],
            name_en=raw["name_en"],
            subject_zh=raw["subject_zh"],
            growth=float(raw["growth"]),
            since=int(raw["since"]),
            weight=float(raw["weight"]),
            academic=float(raw["academic"]),
            topics=topics,
            **{s: _merge(*(t.terms(s) for t in topics)) for s in TERM_LISTS},
        )


def load_fields(path: Path = FIELDS_FILE) -> tuple[Field, ...]:
    """The fields listed in ``path``, in file order (the order draws depend on)."""
    return tuple(Field.from_dict(raw) for raw in json.loads(path.read_text(encoding="utf-8")))


FIELDS: tuple[Field, ...] = load_fields()
FIELD_INDEX: dict[str, int] = {f.code: i for i, f in enumerate(FIELDS)}
