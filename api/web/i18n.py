"""Label catalogues for the console: ``api/i18n/{zh,en}.json``, flat ``key -> text``.

Every label a page shows comes from a catalogue or, for the code of a closed vocabulary
(``kind.enterprise``, ``segment.key``, ``role.admin`` …), from
:mod:`recsvc.store.labels`, the one place those words live; so switching the language
changes all of them. ``tests/test_web_i18n.py`` checks that both catalogues hold the
same keys, that they hold no vocabulary codes, and that every key a template asks for
is served.

Example:
    >>> t = Translator("en")
    >>> t("nav.worklist")
    'Worklist'
    >>> Translator("zh")("nav.worklist")
    '工作清单'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from recsvc.store.labels import label

__all__ = ["CATALOGUE_DIR", "DEFAULT_LANG", "LANGS", "Translator", "catalogue"]

log = logging.getLogger(__name__)

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "i18n"
LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The labels of ``lang`` (one of :data:`LANGS`), loaded once per process."""
    if lang not in LANGS:
        lang = DEFAULT_LANG
    return json.loads((CATALOGUE_DIR / f"{lang}.json").read_text(encoding="utf-8"))


class Translator:
    """Looks labels up in one language; ``t("key", n=3)`` fills ``{n}`` placeholders."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._labels = catalogue(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._labels.get(key)
        if text is None and "." in key:
            vocabulary, _, code = key.rpartition(".")
            text = label(vocabulary, code, self.lang)
        if text is None:
            log.warning("missing %s label %r", self.lang, key)
            return key
        return text.format(**values) if values else text

    def opt(self, prefix: str, code: object, default: str | None = None) -> str:
        """The label of an enum-like ``code`` under ``prefix`` (``segment.key``): from the
        catalogue, else from :mod:`recsvc.store.labels`, else the code itself (or
        ``default``)."""
        if code is None or code == "":
            return default if default is not None else "—"
        text = self._labels.get(f"{prefix}.{code}")
        if text is None:
            text = label(prefix, code, self.lang)
        if text is not None:
            return text
        return default if default is not None else str(code)

    def join(self, prefix: str, codes: Iterable[object]) -> str:
        """The labels of ``codes`` under ``prefix`` as one list in this language
        ("项目内容相近、服务升级路径" / "similar projects, next step up")."""
        return ("、" if self.lang == "zh" else ", ").join(self.opt(prefix, c) for c in codes)

    def pick(self, zh: object, en: object) -> str:
        """The field for this language, falling back to the other one."""
        first, second = (zh, en) if self.lang == "zh" else (en, zh)
        return str(first or second or "")
