"""Text normalisation and the tokenizer of the lexical channel.

The packaged English model maps Chinese characters to ``[UNK]``, so Chinese text is
only visible to the lexical channel. Its tokenizer emits:

- CJK characters as unigrams and overlapping bigrams (``污水处理`` → ``污 水 处 理 污水
  水处 处理``), so a query matches a title without a word segmenter;
- Latin text as lowercased words (letters and digits, ``mbr``, ``covid19``).

Example:
    >>> tokenize("MBR 污水")
    ['mbr', '污', '水', '污水']
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_CJK = (
    "\u3400-\u4dbf"  # CJK Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
)
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_CJK_RE = re.compile(rf"[{_CJK}]")

#: English function words that carry no topic; Chinese needs no list (bigrams do the work).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "via",
        "its",
    ]
)


def normalise(text: str | None) -> str:
    """NFKC-normalise (full-width → half-width), collapse whitespace; ``None`` → ``""``."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


def text_hash(text: str) -> str:
    """A stable content hash (the embedding-cache key of a text)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains at least one CJK ideograph."""
    return bool(_CJK_RE.search(text))


def in_script(words: Iterable[str], *, cjk: bool) -> list[str]:
    """The stripped, non-empty ``words`` written in Chinese (``cjk``) or not: one
    language's keywords out of a list that mixes both.

    Example:
        >>> in_script(["猪瘟疫苗", " swine vaccine ", ""], cjk=False)
        ['swine vaccine']
    """
    return [w for w in (w.strip() for w in words) if w and has_cjk(w) == cjk]


def cjk_fraction(text: str) -> float:
    """Share of the non-space characters of ``text`` that are CJK ideographs."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK_RE.match(c)) / len(chars)


def tokenize(text: str | None) -> list[str]:
    """Lexical tokens: CJK unigrams + bigrams, lowercased Latin words minus stopwords."""
    tokens: list[str] = []
    for run in _TOKEN_RE.findall(normalise(text).lower()):
        if _CJK_RE.match(run):
            tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif run not in STOPWORDS:
            tokens.append(run)
    return tokens
