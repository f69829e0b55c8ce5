"""Bilingual commission titles and keywords composed from field vocabularies.

A title picks an object, a process, a technique, an application and a property from
its field (:mod:`recsvc.demo.fields`) and fills one of several sentence patterns, so
the Chinese and English titles stay aligned in meaning while varying in form.

Composition is vectorised: terms are looked up with array indexing and concatenated
as numpy object arrays, one pattern at a time, so a million titles take seconds.

Example:
    >>> import numpy as np
    >>> t = compose_titles(np.array([0]), np.random.default_rng(1))
    >>> bool(t.title_zh[0]) and bool(t.title_en[0])
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsvc.demo.fields import FIELDS

#: Sentence patterns ``(zh, en)``; slots: o object, o2 second object, p process,
#: m technique, a application, q property; ``P``/``Q`` are capitalised, ``Aq`` is the
#: English article that fits ``q``.
PATTERNS: tuple[tuple[str, str], ...] = (
    ("{q}{o}{p}研究", "Research on {p} of {q} {o}"),
    ("基于{m}的{q}{o}研制", "Development of {q} {o} using {m}"),
    ("面向{a}的{o}{p}", "{P} of {o} for {a}"),
    ("{q}{o}在{a}中的应用研究", "Application of {q} {o} in {a}"),
    ("一种{q}{o}及其{p}", "{Aq} {q} {o} and its {p}"),
    ("基于{m}的{q}{o}开发", "{Q} {o} based on {m}"),
    ("{a}用{q}{o}关键技术研究", "Key technologies of {q} {o} for {a}"),
    ("{o}{p}关键技术及产业化", "Key technologies and industrialisation of {p} for {o}"),
    ("{q}{o}{p}与示范应用", "{P} and demonstration of {q} {o}"),
    ("{o}与{o2}{p}比较研究", "Comparative study on {p} of {o} and {o2}"),
    ("基于{m}的{o}{p}", "{P} of {o} based on {m}"),
    ("{o}{p}及其在{a}中的应用", "{P} of {o} and its application in {a}"),
)
#: Slots whose terms make a pattern's keywords (novelty points).
_KEYWORD_SLOTS: tuple[tuple[str, ...], ...] = tuple(
    ("o", "q", "m", "a") if "{p}" not in zh else ("o", "p", "a") for zh, _ in PATTERNS
)
_SLOTS = ("obj", "proc", "tech", "app", "prop")


@dataclass
class Titles:
    """Composed titles and the facts behind them (object arrays aligned with the rows)."""

    title_zh: np.ndarray
    title_en: np.ndarray
    keywords_zh: np.ndarray
    keywords_en: np.ndarray
    is_process: np.ndarray
    """True where the title's process is process/equipment development."""


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class _Vocab:
    """All fields' terms of one slot as flat arrays plus per-field offsets and counts."""

    def __init__(self, slot: str) -> None:
        terms = [getattr(f, slot) for f in FIELDS]
        self.count = np.array([len(t) for t in terms])
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        flat = [t for ts in terms for t in ts]
        self.flag = np.array([zh.startswith("*") for zh, _ in flat])
        self.zh = np.array([zh.lstrip("*") for zh, _ in flat], dtype=object)
        self.en = np.array([en for _, en in flat], dtype=object)
        self.en_cap = np.array([_cap(en) for _, en in flat], dtype=object)
        self.article = np.array(
            ["An" if en[:1] in "aeiou" else "A" for _, en in flat], dtype=object
        )

    def pick(self, field_idx: np.ndarray, u: np.ndarray) -> np.ndarray:
        return self.offset[field_idx] + (u * self.count[field_idx]).astype(np.int64)


_VOCAB = {slot: _Vocab(slot) for slot in _SLOTS}


def _tokens(template: str) -> list[tuple[bool, str]]:
    """Split ``"{o}{p}研究"`` into ``[(True,"o"), (True,"p"), (False,"研究")]``."""
    out: list[tuple[bool, str]] = []
    rest = template
    while rest:
        i = rest.find("{")
        if i == 0:
            j = rest.index("}")
            out.append((True, rest[1:j]))
            rest = rest[j + 1 :]
        else:
            lit = rest if i < 0 else rest[:i]
            out.append((False, lit))
            rest = "" if i < 0 else rest[i:]
    return out


_TOKENS = [(_tokens(zh), _tokens(en)) for zh, en in PATTERNS]


def compose_titles(field_idx: np.ndarray, rng: np.random.Generator) -> Titles:
    """Compose one bilingual title per row of ``field_idx`` (indices into FIELDS)."""
    field_idx = np.asarray(field_idx, dtype=np.int64)
    n = len(field_idx)
    u = rng.random((n, 7))
    pat = (u[:, 0] * len(PATTERNS)).astype(np.int64)
    v = _VOCAB
    oi = v["obj"].pick(field_idx, u[:, 1])
    cnt = v["obj"].count[field_idx]
    off = v["obj"].offset[field_idx]
    o2 = off + (oi - off + 1 + (u[:, 2] * (cnt - 1)).astype(np.int64)) % cnt
    idx = {
        "o": ("obj", oi),
        "o2": ("obj", o2),
        "p": ("proc", v["proc"].pick(field_idx, u[:, 3])),
        "m": ("tech", v["tech"].pick(field_idx, u[:, 4])),
        "a": ("app", v["app"].pick(field_idx, u[:, 5])),
        "q": ("prop", v["prop"].pick(field_idx, u[:, 6])),
    }
    out = {k: np.empty(n, dtype=object) for k in ("zh", "en", "kz", "ke")}
    is_process = np.zeros(n, dtype=bool)
    for k, (tzh, ten) in enumerate(_TOKENS):
        rows = np.flatnonzero(pat == k)
        if not len(rows):
            continue

        def term(slot: str, lang: str, rows: np.ndarray = rows) -> np.ndarray:
            if slot in ("P", "Q", "Aq"):
                vocab, ix = idx[slot[-1].lower()]
                table = v[vocab].article if slot == "Aq" else v[vocab].en_cap
                return table[ix[rows]]
            vocab, ix = idx[slot]
            return getattr(v[vocab], lang)[ix[rows]]

        for key, tokens, lang in (("zh", tzh, "zh"), ("en", ten, "en")):
            acc = np.full(len(rows), "", dtype=object)
            for is_slot, tok in tokens:
                acc = acc + (term(tok, lang) if is_slot else tok)
            out[key][rows] = acc
        for key, lang in (("kz", "zh"), ("ke", "en")):
            acc = term(_KEYWORD_SLOTS[k][0], lang)
            for slot in _KEYWORD_SLOTS[k][1:]:
                acc = acc + ";" + term(slot, lang)
            out[key][rows] = acc
        if "{p}" in PATTERNS[k][0]:
            is_process[rows] = v["proc"].flag[idx["p"][1][rows]]
    return Titles(out["zh"], out["en"], out["kz"], out["ke"], is_process)
