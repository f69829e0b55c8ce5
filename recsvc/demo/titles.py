"""Bilingual commission titles and keywords composed from field vocabularies.

A title picks one topic of its field (:mod:`recsvc.demo.fields`), then an object, a
process, a technique, an application and a property of that topic, and fills one of
several sentence patterns, so the Chinese and English titles stay aligned in meaning
while varying in form, and their parts belong together. Where a process begins with
the object's head noun (猪瘟活疫苗 + 疫苗研制), the title says the head noun once
(猪瘟活疫苗研制, "development of live classical swine fever vaccine").

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
#: Patterns that develop, apply or claim the object itself: only for objects that are
#: made (a vaccine, a reactor), never for ones that are studied (a virus, wastewater).
_MADE_ONLY = ("研制", "开发", "一种", "在{a}中的应用研究", "{a}用")
_STUDY = np.array([k for k, (zh, _) in enumerate(PATTERNS) if not any(w in zh for w in _MADE_ONLY)])
#: Patterns whose process follows the second object.
_AFTER_O2 = np.array([k for k, (zh, _) in enumerate(PATTERNS) if "{o2}{p}" in zh])


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


#: Every topic of every field, in file order; a title draws all its terms from one.
_TOPICS = [t for f in FIELDS for t in f.topics]
_TOPIC_COUNT = np.array([len(f.topics) for f in FIELDS])
_TOPIC_OFFSET = np.concatenate([[0], np.cumsum(_TOPIC_COUNT)[:-1]])
_TOPIC_MADE = np.array([t.made for t in _TOPICS])


class _Vocab:
    """All topics' terms of one slot as flat arrays plus per-topic offsets and counts."""

    def __init__(self, slot: str) -> None:
        terms = [t.terms(slot) for t in _TOPICS]
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

    def pick(self, topic: np.ndarray, u: np.ndarray) -> np.ndarray:
        return self.offset[topic] + (u * self.count[topic]).astype(np.int64)


_VOCAB = {slot: _Vocab(slot) for slot in _SLOTS}


def after_object_zh(obj: str, proc: str) -> str:
    """``proc`` as it reads right after ``obj``: without the head noun ``obj`` ends with.

    >>> after_object_zh("猪瘟活疫苗", "疫苗研制"), after_object_zh("猪瘟病毒", "疫苗研制")
    ('研制', '疫苗研制')
    """
    for k in range(min(len(obj), len(proc) - 1), 1, -1):
        if obj.endswith(proc[:k]):
            return proc[k:]
    return proc


def after_object_en(obj: str, proc: str) -> str:
    """``proc`` without the words that ``obj`` ends with ("vaccine development" after
    "… vaccine" is "development")."""
    o, p = obj.lower().split(), proc.split()
    for k in range(min(len(o), len(p) - 1), 0, -1):
        if o[-k:] == [w.lower() for w in p[:k]]:
            return " ".join(p[k:])
    return proc


class _ProcAfterObject:
    """Each topic's processes as they read after each of its objects (zh, en, En).

    Row ``base[topic] + i * n_proc + j`` holds process ``j`` after object ``i``.
    """

    def __init__(self) -> None:
        zh: list[str] = []
        en: list[str] = []
        self.base = np.zeros(len(_TOPICS), dtype=np.int64)
        for k, t in enumerate(_TOPICS):
            self.base[k] = len(zh)
            for oz, oe in t.obj:
                for pz, pe in t.proc:
                    zh.append(after_object_zh(oz, pz.lstrip("*")))
                    en.append(after_object_en(oe, pe))
        self.zh = np.array(zh, dtype=object)
        self.en = np.array(en, dtype=object)
        self.en_cap = np.array([_cap(e) for e in en], dtype=object)
        self.zh_len = np.array([len(z) for z in zh])
        self.en_len = np.array([len(e) for e in en])

    def rows(self, topic: np.ndarray, obj_idx: np.ndarray, proc_idx: np.ndarray) -> np.ndarray:
        o = obj_idx - _VOCAB["obj"].offset[topic]
        p = proc_idx - _VOCAB["proc"].offset[topic]
        return self.base[topic] + o * _VOCAB["proc"].count[topic] + p


_PROC_AFTER = _ProcAfterObject()


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
    # the object's draw picks the topic, and what is left of it the object: titles take
    # as many random numbers as before topics, so the simulation's stream is unchanged
    scaled = u[:, 1] * _TOPIC_COUNT[field_idx]
    k = np.minimum(scaled.astype(np.int64), _TOPIC_COUNT[field_idx] - 1)
    topic = _TOPIC_OFFSET[field_idx] + k
    u_obj = scaled - k
    pat = np.where(
        _TOPIC_MADE[topic],
        (u[:, 0] * len(PATTERNS)).astype(np.int64),
        _STUDY[(u[:, 0] * len(_STUDY)).astype(np.int64)],
    )
    v = _VOCAB
    oi = v["obj"].pick(topic, u_obj)
    cnt = v["obj"].count[topic]
    off = v["obj"].offset[topic]
    o2 = off + (oi - off + 1 + (u[:, 2] * (cnt - 1)).astype(np.int64)) % cnt
    pi = v["proc"].pick(topic, u[:, 3])
    idx = {
        "o": ("obj", oi),
        "o2": ("obj", o2),
        "p": ("proc", pi),
        "m": ("tech", v["tech"].pick(topic, u[:, 4])),
        "a": ("app", v["app"].pick(topic, u[:, 5])),
        "q": ("prop", v["prop"].pick(topic, u[:, 6])),
    }
    # the process as it reads after the object; in comparisons ({o}与{o2}{p}) after
    # whichever of the two objects ends with the noun it begins with
    after_o = _PROC_AFTER.rows(topic, oi, pi)
    after_o2 = _PROC_AFTER.rows(topic, o2, pi)
    compare = np.isin(pat, _AFTER_O2)
    after = {
        lang: np.where(compare & (size[after_o2] < size[after_o]), after_o2, after_o)
        for lang, size in (("zh", _PROC_AFTER.zh_len), ("en", _PROC_AFTER.en_len))
    }
    out = {k: np.empty(n, dtype=object) for k in ("zh", "en", "kz", "ke")}
    is_process = np.zeros(n, dtype=bool)
    for k, (tzh, ten) in enumerate(_TOKENS):
        rows = np.flatnonzero(pat == k)
        if not len(rows):
            continue

        def term(slot: str, lang: str, rows: np.ndarray = rows) -> np.ndarray:
            if slot in ("p", "P"):
                table = {"zh": _PROC_AFTER.zh, "en": _PROC_AFTER.en}[lang]
                return (_PROC_AFTER.en_cap if slot == "P" else table)[after[lang][rows]]
            if slot in ("Q", "Aq"):
                vocab, ix = idx[slot[-1].lower()]
                table = v[vocab].article if slot == "Aq" else v[vocab].en_cap
                return table[ix[rows]]
            vocab, ix = idx[slot]
            return getattr(v[vocab], lang)[ix[rows]]

        def keyword(slot: str, lang: str, rows: np.ndarray = rows) -> np.ndarray:
            vocab, ix = idx[slot]
            return getattr(v[vocab], lang)[ix[rows]]

        for key, tokens, lang in (("zh", tzh, "zh"), ("en", ten, "en")):
            acc = np.full(len(rows), "", dtype=object)
            for is_slot, tok in tokens:
                acc = acc + (term(tok, lang) if is_slot else tok)
            out[key][rows] = acc
        for key, lang in (("kz", "zh"), ("ke", "en")):
            acc = keyword(_KEYWORD_SLOTS[k][0], lang)
            for slot in _KEYWORD_SLOTS[k][1:]:
                acc = acc + ";" + keyword(slot, lang)
            out[key][rows] = acc
        if "{p}" in PATTERNS[k][0]:
            is_process[rows] = v["proc"].flag[idx["p"][1][rows]]
    return Titles(out["zh"], out["en"], out["kz"], out["ke"], is_process)
