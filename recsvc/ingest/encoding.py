"""The text encoding of an import file: told by the caller, or detected, never guessed.

A byte-order mark or valid UTF-8 decides at once. Otherwise the file is decoded in
each candidate encoding (GB18030 for Chinese Excel and WPS exports, Windows-1252 for
Western ones) and each reading is judged for plausibility; a file is read only when
exactly one reading is plausible. A file that reads as sensible text in more than one
encoding is refused with a problem naming the candidates and ``--encoding``, because a
wrong guess corrupts every name silently.

Example:
    >>> detect_encoding(Path("clients.csv"))            # doctest: +SKIP
    'cp1252'
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import charset_normalizer
from charset_normalizer.md import mess_ratio

from recsvc.errors import ImportRejected, Problem

__all__ = ["CANDIDATE_ENCODINGS", "check_encoding", "detect_encoding"]

_SAMPLE_BYTES = 256 * 1024

#: Encodings a file that is not UTF-8 may be in: Chinese Excel and WPS exports (GBK,
#: read as its superset GB18030) and Western Excel exports (Windows-1252).
CANDIDATE_ENCODINGS: tuple[str, ...] = ("gb18030", "cp1252")
#: A decoding whose non-ASCII words score at least this on charset-normalizer's mess
#: ratio (mojibake: symbols inside words, odd scripts side by side) is not plausible.
_MESS_LIMIT = 0.2
#: A GB18030 decoding is plausible only when at least this share of its non-ASCII
#: characters are common (GB2312) ones; Latin-1 bytes decode to rare ones.
_COMMON_HANZI_SHARE = 0.5
_WORD = re.compile(r'[^\s,;"\[\]{}:]*[^\x00-\x7f][^\s,;"\[\]{}:]*')
_NON_ASCII = re.compile(r"[\x00-\x7f]+")
_WORD_CHARS = 100_000
_NAMED = 6  # candidates named in a problem


def detect_encoding(path: Path) -> str:
    """The text encoding of ``path``, when it can be told without guessing.

    A UTF-8 / UTF-16 byte-order mark wins; a sample that decodes as strict UTF-8 is
    UTF-8. Otherwise each of :data:`CANDIDATE_ENCODINGS` that decodes the sample
    strictly is a reading; a reading is plausible when its non-ASCII words are not
    mojibake (charset-normalizer's mess ratio) and, for GB18030, mostly common hanzi.
    Exactly one plausible text is accepted. When no candidate fits, charset-normalizer's
    matches are asked the same question.

    Raises:
        ImportRejected: when the encoding is ambiguous (the problem names the candidate
            encodings and the ``--encoding`` option) or no encoding fits.
    """
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        at_end = not fh.read(1)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(sample, "utf-8", at_end) is not None:
        return "utf-8"
    readings: dict[str, str] = {}
    for encoding in CANDIDATE_ENCODINGS:
        text = _decodes(sample, encoding, at_end)
        if text is not None and _plausible(encoding, text):
            readings[encoding] = text
    if not readings:
        matches = charset_normalizer.from_bytes(sample)
        for match in matches:
            if match.chaos < _MESS_LIMIT:
                readings.setdefault(match.encoding.lower(), str(match))
    if len(set(readings.values())) == 1:
        return next(iter(readings))
    if readings:
        raise ImportRejected(
            f"{path.name}: the text encoding is ambiguous",
            problems=[_ambiguous(path.name, list(readings)[:_NAMED])],
        )
    raise ImportRejected(
        f"{path.name}: cannot tell the text encoding",
        problems=[
            Problem(
                "unknown text encoding; save the file as UTF-8, or name its encoding "
                "with --encoding (the upload's encoding field)",
                field="encoding",
                file=path.name,
            )
        ],
    )


def _ambiguous(name: str, encodings: list[str]) -> Problem:
    return Problem(
        f"the text encoding is ambiguous: it reads as different text in {' and '.join(encodings)}; "
        "save the file as UTF-8, or name its encoding with --encoding "
        f"(the upload's encoding field), e.g. --encoding {encodings[0]}",
        field="encoding",
        file=name,
    )


def _decodes(sample: bytes, encoding: str, at_end: bool) -> str | None:
    """``sample`` decoded strictly (a cut character at its end is fine), or None."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=at_end)
    except UnicodeDecodeError:
        return None


def _plausible(encoding: str, text: str) -> bool:
    """Whether ``text`` (a reading of the sample in ``encoding``) looks like real text."""
    words = " ".join(_WORD.findall(text))[:_WORD_CHARS]
    if not words:
        return True
    if mess_ratio(words, _MESS_LIMIT) >= _MESS_LIMIT:
        return False
    if encoding == "gb18030":
        wide = _NON_ASCII.sub("", words)
        common = len(wide.encode("gb2312", errors="ignore")) / 2
        return common >= _COMMON_HANZI_SHARE * len(wide)
    return True


def check_encoding(name: str, encoding: str) -> str:
    """``encoding`` as Python names it, for a file the caller says is in it.

    Raises:
        ImportRejected: Python knows no such text encoding (``base64``, ``zlib`` and
            the like are codecs, not text encodings).
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
        raise ImportRejected(
            f"{name}: unknown text encoding",
            problems=[
                Problem(
                    f"unknown text encoding {encoding[:40]!r}; use e.g. utf-8, gb18030, cp1252",
                    field="encoding",
                    file=name,
                )
            ],
        )
    return info.name
