"""Derived serving files: one folder per kind, described by its ``config.json``.

Everything the live path precomputes (portal lists, ranker scores, explanation arrays,
kept case hits and contributions) is saved the same way: a folder written whole
(:func:`~recsvc.files.replaced_folder`) whose ``config.json`` says what it holds and
what it was built from::

    {"kind": "ranker", "format": 1, "version": "v20250101-120000",
     "fingerprint": "3f2a…", ...}

``kind`` and ``format`` name the layout of the files; ``version`` the model version
they belong to (``None`` when they are inside its folder); ``fingerprint`` a digest of
the inputs they were computed from (the store's snapshot, the semantic index).
:meth:`ArtifactKind.open` gives the config back only when all of them match what the
caller expects, so a reader maps the files or computes them: it never repairs them.

Example:
    >>> RANKER = ArtifactKind("ranker", format=1)
    >>> with RANKER.save(folder, fingerprint=fp) as tmp:          # doctest: +SKIP
    ...     np.save(tmp / "scores.npy", scores)
    >>> RANKER.open(folder, fingerprint=fp)                         # doctest: +SKIP
    {'kind': 'ranker', 'format': 1, 'version': None, 'fingerprint': '…'}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recsvc.files import replaced_folder

__all__ = ["CONFIG", "ArtifactKind"]

log = logging.getLogger(__name__)

#: The file that describes a derived folder.
CONFIG = "config.json"
_KEYS = ("kind", "format", "version", "fingerprint")


@dataclass(frozen=True)
class ArtifactKind:
    """One kind of derived folder and the layout version of its files.

    Attributes:
        kind: what the folder holds (``"portal"``, ``"ranker"``, …).
        format: the layout of its files; bump it when they change.
    """

    kind: str
    format: int

    @contextmanager
    def save(
        self,
        folder: str | Path,
        *,
        version: str | None = None,
        fingerprint: str | None = None,
        **extra: Any,
    ) -> Iterator[Path]:
        """Write a new folder whole; ``config.json`` is written last.

        Args:
            folder: where the folder goes (replaced when it exists).
            version: the model version the files belong to.
            fingerprint: a digest of what they were built from.
            **extra: more JSON values for the config (read back by :meth:`open`).

        Yields:
            The empty folder to write the files into.
        """
        with replaced_folder(folder) as tmp:
            yield tmp
            config = {
                "kind": self.kind,
                "format": self.format,
                "version": version,
                "fingerprint": fingerprint,
                **extra,
            }
            (tmp / CONFIG).write_text(json.dumps(config, ensure_ascii=False))

    def open(
        self,
        folder: str | Path,
        *,
        version: str | None = None,
        fingerprint: str | None = None,
    ) -> dict[str, Any] | None:
        """The folder's config when it holds this kind and format, for ``version`` and
        ``fingerprint``; ``None`` (logged) when it is absent or built from something
        else.
        """
        path = Path(folder) / CONFIG
        try:
            config = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("%s in %s unreadable: %s", self.kind, folder, exc)
            return None
        want = dict(zip(_KEYS, (self.kind, self.format, version, fingerprint), strict=True))
        found = {k: config.get(k) for k in _KEYS}
        if found != want:
            diff = [f"{k} {found[k]!r} ≠ {want[k]!r}" for k in _KEYS if found[k] != want[k]]
            log.info("%s in %s not used: %s", self.kind, folder, ", ".join(diff))
            return None
        return config
