"""Persistence of a validation run: finished rows and finished ensembles survive an interruption.

Each finished row is written at once to ``OUT/rows/rowN.json`` (atomic rename), with a hash of its
settings; a rerun with the same ``OUT`` reuses rows whose hash matches. While a row runs, each finished
ensemble goes to ``OUT/rows/rowN.parts/``, so an interrupted row resumes at its first unfinished ensemble;
the parts are removed once the row is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from .._core.jsonable import jsonable
from .config import ValidationConfig
from .results import RowResult

__all__ = ["PartStore", "row_hash", "atomic_write", "load_row"]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


class PartStore:
    """Finished ensembles of a row that is still running: ``OUT/rows/rowN.parts/pK.json`` (atomic writes),
    keyed by the row's settings hash, so an interrupted long row resumes at its first unfinished point.
    ``folder=None`` keeps nothing (every ``cached`` call computes)."""

    def __init__(self, folder: Path | None = None, row_hash: str = ""):
        self.folder, self.hash = folder, row_hash

    def cached(self, key: int, compute) -> dict:
        path = None if self.folder is None else self.folder / f"p{key}.json"
        if path is not None and path.exists():
            try:
                blob = json.loads(path.read_text())
                if blob.get("hash") == self.hash:
                    return blob["value"]
            except (OSError, ValueError):
                pass
        value = jsonable(compute())
        if path is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps({"hash": self.hash, "value": value}, allow_nan=False))
        return value


def row_hash(config: ValidationConfig, row: int) -> str:
    """Hash of everything one row depends on (its settings, the root seed, the package version)."""
    blob = json.dumps({"row": row, "seed": config.seed, "settings": config.row_settings(row),
                       "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_row(path: Path, expect_hash: str) -> RowResult | None:
    """A finished row from ``path`` if its hash matches (else None: recompute)."""
    try:
        blob = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if blob.get("hash") != expect_hash:
        return None
    r = blob["result"]
    try:
        return RowResult(**{k: r[k] for k in RowResult.__dataclass_fields__ if k in r})
    except (TypeError, ValueError):
        return None  # written by an older layout: recompute
