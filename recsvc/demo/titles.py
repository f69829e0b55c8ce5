"""Bilingual commission titles and keywords composed from field vocabularies.

A title picks an object, a process, a technique, an application and a property from
its field (:mod:`recsvc.demo.fields`) and fills one of several sentence patterns, so
the Chinese and English titles stay aligned in meaning while varying in form.

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
#: m technique, a application, q property. ``{P}``/``{Q}`` capitalise the term.
PATTERNS: tuple[tuple[str, str], ...] = (
    ("{o}{p}研究", "Research on {p} of {o}"),
    ("{q}{o}的研制", "Development of {q} {o}"),
    ("面向{a}的{o}{p}", "{P} of {o} for {a}"),
    ("{o}在{a}中的应用研究", "Application of {o} in {a}"),
    ("一种{q}{o}及其{p}", "A {q} {o} and its {p}"),
    ("基于{m}的{q}{o}开发", "{Q} {o} based on {m}"),
    ("{a}用{q}{o}关键技术研究", "Key technologies of {q} {o} for {a}"),
    ("{o}{p}关键技术及产业化", "Key technologies and industrialisation of {p} for {o}"),
    ("{q}{o}{p}与示范应用", "{P} and demonstration of {q} {o}"),
    ("{o}与{o2}{p}比较研究", "Comparative study on {p} of {o} and {o2}"),
    ("基于{m}的{o}{p}", "{P} of {o} based on {m}"),
    ("{o}{p}及其在{a}中的应用", "{P} of {o} and its application in {a}"),
)


#: Patterns that do not use the process slot.
_NO_PROCESS_SLOT = frozenset({1, 3, 5, 6})


@dataclass
class Titles:
    """Composed titles and the facts behind them (aligned with the input rows)."""

    title_zh: list[str]
    title_en: list[str]
    keywords_zh: list[str]
    keywords_en: list[str]
    is_process: np.ndarray
    """True where the chosen process is process/equipment development."""


_VOWELS = frozenset("aeiou")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def compose_titles(field_idx: np.ndarray, rng: np.random.Generator) -> Titles:
    """Compose one bilingual title per row of ``field_idx`` (indices into FIELDS).

    Random choices are drawn as whole arrays first, so the result depends only on the
    generator's state and the input, and per-row work is plain string formatting.
    """
    n = len(field_idx)
    u = rng.random((n, 7))
    pat = (u[:, 0] * len(PATTERNS)).astype(np.int64)
    zh_out: list[str] = []
    en_out: list[str] = []
    kz_out: list[str] = []
    ke_out: list[str] = []
    proc_flag = np.zeros(n, dtype=bool)
    for i in range(n):
        f = FIELDS[int(field_idx[i])]
        row = u[i]
        oi = int(row[1] * len(f.obj))
        o = f.obj[oi]
        o2 = f.obj[(oi + 1 + int(row[2] * (len(f.obj) - 1))) % len(f.obj)]
        p = f.proc[int(row[3] * len(f.proc))]
        m = f.tech[int(row[4] * len(f.tech))]
        a = f.app[int(row[5] * len(f.app))]
        q = f.prop[int(row[6] * len(f.prop))]
        pz, pe = p[0].lstrip("*"), p[1]
        k = int(pat[i])
        proc_flag[i] = p[0].startswith("*") and k not in _NO_PROCESS_SLOT
        tz, te = PATTERNS[k]
        zh_out.append(tz.format(o=o[0], o2=o2[0], p=pz, m=m[0], a=a[0], q=q[0], P=pz, Q=q[0]))
        en = te.format(o=o[1], o2=o2[1], p=pe, m=m[1], a=a[1], q=q[1], P=_cap(pe), Q=_cap(q[1]))
        if en.startswith("A ") and en[2:3].lower() in _VOWELS:
            en = "An " + en[2:]
        en_out.append(_cap(en))
        used = [o, p, a] if k not in _NO_PROCESS_SLOT else [o, q, m, a]
        kz_out.append(";".join(t[0].lstrip("*") for t in used))
        ke_out.append(";".join(t[1] for t in used))
    return Titles(zh_out, en_out, kz_out, ke_out, proc_flag)
