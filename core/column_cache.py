"""A cache of the engine's columns of large tables, kept in the user's cache folder.

Reading a million usage rows out of SQLite costs a few seconds; checking that nothing
changed costs a fraction of that: one scan that adds up every column weighted by the row
id in two ways (a *fingerprint*). When the fingerprint of a table matches the one stored beside its
cached columns, the engine loads the columns from the cache (an ``.npz`` file) instead.
Any change to the table (through the app, the CLI or any other SQLite program) changes
the fingerprint, so a stale cache is never used; the cache is only an accelerator and
can be deleted at any time.

Files: ``<cache folder>/engine-columns/<hash of the inventory's path>-<table>.npz``. The
cache folder is ``$AICL_CACHE_DIR`` if set, else the platform's user cache folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core import APP_NAME, __version__

if TYPE_CHECKING:
    from core.activity import Table

#: Tables with fewer rows are read directly (their cache would save little).
MIN_ROWS = 200_000


def cache_dir() -> Path:
    """The folder for engine caches (created on first store)."""
    if os.environ.get("AICL_CACHE_DIR"):
        return Path(os.environ["AICL_CACHE_DIR"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / APP_NAME / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ai-carbon-ledger"


def _file(inventory: Path, table: str) -> Path:
    digest = hashlib.sha256(str(Path(inventory).resolve()).encode()).hexdigest()[:24]
    return cache_dir() / "engine-columns" / f"{digest}-{table}.npz"


def _layout(table: Table, schema_version: int) -> np.ndarray:
    return np.array([__version__, str(schema_version), table.name, *table.columns])


def load(
    inventory: Path, table: str, fingerprint: np.ndarray, schema_version: int
) -> dict[str, np.ndarray] | None:
    """The cached ids and columns of ``table`` if its fingerprint still matches."""
    path = _file(inventory, table)
    try:
        with np.load(path, allow_pickle=False) as z:
            if not np.array_equal(z["fingerprint"], fingerprint):
                return None
            layout = z["layout"].tolist()
            if layout[:3] != [__version__, str(schema_version), table]:
                return None
            return {name: z[name] for name in ("ids", *layout[3:])}
    except (OSError, KeyError, ValueError):
        return None  # no cache, or an unreadable one: read the table


def store(table: Table, inventory: Path, fingerprint: np.ndarray, schema_version: int) -> None:
    """Keep ``table``'s columns for the next time (written atomically; a failure to
    write, e.g. a full disk, only means no cache)."""
    path = _file(inventory, table.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    fingerprint=fingerprint,
                    layout=_layout(table, schema_version),
                    ids=table.ids,
                    **table.columns,
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
