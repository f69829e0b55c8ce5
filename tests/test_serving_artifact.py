"""One way to save and open a derived serving folder: ``config.json`` says its kind,
format, version and fingerprint, and opening gives it back only when all match."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recsvc.artifact import CONFIG, ArtifactKind

KIND = ArtifactKind("scores", format=3)


def test_saved_folder_opens_with_its_config(tmp_path: Path) -> None:
    folder = tmp_path / "v1" / "scores"
    with KIND.save(folder, version="v1", fingerprint="abc", columns=["p"]) as tmp:
        np.save(tmp / "p.npy", np.arange(3))
        assert not folder.exists()  # written aside, put in place whole
    config = KIND.open(folder, version="v1", fingerprint="abc")
    assert config == {
        "kind": "scores",
        "format": 3,
        "version": "v1",
        "fingerprint": "abc",
        "columns": ["p"],
    }
    np.testing.assert_array_equal(np.load(folder / "p.npy"), np.arange(3))


@pytest.mark.parametrize(
    "other",
    [
        {"fingerprint": "abd"},
        {"version": "v2"},
        {"kind": "ranker"},
        {"format": 2},
    ],
    ids=["fingerprint", "version", "kind", "format"],
)
def test_a_folder_built_from_something_else_is_not_opened(
    tmp_path: Path, other: dict[str, object]
) -> None:
    folder = tmp_path / "scores"
    with KIND.save(folder, version="v1", fingerprint="abc"):
        pass
    config = json.loads((folder / CONFIG).read_text())
    (folder / CONFIG).write_text(json.dumps({**config, **other}))
    assert KIND.open(folder, version="v1", fingerprint="abc") is None


def test_absent_unreadable_and_failed_folders(tmp_path: Path) -> None:
    assert KIND.open(tmp_path / "none") is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / CONFIG).write_text("{not json")
    assert KIND.open(tmp_path / "bad") is None
    with KIND.save(tmp_path / "kept", fingerprint="1"):
        pass
    with pytest.raises(RuntimeError), KIND.save(tmp_path / "kept", fingerprint="2"):
        raise RuntimeError("a failed build")
    assert KIND.open(tmp_path / "kept", fingerprint="1") is not None  # the old one stays
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
