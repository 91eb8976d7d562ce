"""Removing the temporary files that an app or command ended mid-work left beside an
inventory.

Every file the app writes is made under a hidden temporary name beside its destination
and renamed into place when complete (``core.inventory._backup_to``,
``core.output_file.OutputFile``, Save a Copy in ``ui.window_inventory``). Work that is
stopped normally removes its temporary file; a process killed outright (SIGKILL, a power
cut) cannot, and leaves it: as large as the inventory, and hidden. These are the names,
``R`` being the 8 random characters ``tempfile.mkstemp`` picks from ``[a-z0-9_]``:

- ``.DEST.R.tmp``, and SQLite's ``-journal`` (``-wal``, ``-shm``) beside it: a consistent
  copy of an inventory being written to ``DEST`` (migration and daily backups, Save a
  Copy, a restored backup);
- ``.DEST.R.checking`` and ``..DEST.R.checking.R.tmp`` (with its ``-journal``): Save a
  Copy's copy while it is written and then checked;
- ``.DEST.HHHHHHHH.part`` (8 hexadecimal digits): an export or report being written.

:func:`remove_leftovers` removes, in an inventory's folder, such files for that
inventory's own names (the inventory, its automatic backups, a backup restored from it,
exports named after it as the app suggests, whatever their suffix) and for any
``*.aicl`` name (Save a Copy's destination, "NAME copy.aicl" say, is not the
inventory's name). Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from core import INVENTORY_SUFFIX

#: a temporary file is a leftover once it has not been written for this long (seconds):
#: work under way writes its temporary file continuously (a copy writes a step of a few
#: MB every few milliseconds), while another process may be working on one in the same
#: folder right now (a second window's Save a Copy, a command's migration backup), so a
#: recently written file may be in use and is kept; ten minutes leaves a wide margin
#: over the longest pause between two writes.
STALE_AFTER_SECONDS = 10 * 60

#: the random part of a ``tempfile.mkstemp`` name
_RANDOM = r"[a-z0-9_]{8}"
#: SQLite's files beside a database it writes
_COMPANION = r"(?:-journal|-wal|-shm)?"


def _copy_patterns(dest: str) -> list[re.Pattern[str]]:
    """The names of the temporary files of a copy to a destination whose name matches
    the regular expression ``dest``. Group ``family``: the file whose temporary files
    belong together (a temporary copy and its journal; a copy being checked and the
    temporary copy that becomes it), removed only when all of them are stale."""
    return [
        re.compile(rf"(?P<family>\.{dest}\.{_RANDOM}\.tmp){_COMPANION}"),
        re.compile(rf"(?P<family>\.{dest}\.{_RANDOM}\.checking)"),
        re.compile(rf"\.(?P<family>\.{dest}\.{_RANDOM}\.checking)\.{_RANDOM}\.tmp{_COMPANION}"),
    ]


def leftover_patterns(inventory: Path) -> list[re.Pattern[str]]:
    """The regular expressions (each to match a whole file name) of the temporary files
    this app makes beside ``inventory`` that :func:`remove_leftovers` may remove."""
    inventory = Path(inventory)
    stem, suffix = re.escape(inventory.stem), re.escape(inventory.suffix)
    destinations = [
        re.escape(inventory.name),
        # core.integrity's automatic backups: migration and daily
        rf"{stem}\.schema\d+-(?:daily-)?backup-\d{{8}}-\d{{6}}{suffix}",
        # core.integrity.restore_backup's new file
        rf"{stem} \(restored \d{{4}}-\d{{2}}-\d{{2}}(?:, \d+)?\){suffix}",
        # any inventory: the destination of Save a Copy
        rf".+\.(?i:{re.escape(INVENTORY_SUFFIX.lstrip('.'))})",
    ]
    patterns = [p for dest in destinations for p in _copy_patterns(dest)]
    # exports and reports named after the inventory (the app suggests "NAME.xlsx",
    # "NAME-models.csv", "NAME report 2025-Q1.pdf")
    patterns.append(re.compile(rf"(?P<family>\.{stem}(?:[ .\-][^/]*)?\.[0-9a-f]{{8}}\.part)"))
    return patterns


def find_leftovers(
    inventory: Path, *, now: float | None = None, stale_after: float = STALE_AFTER_SECONDS
) -> list[Path]:
    """The leftover temporary files beside ``inventory`` (see the module's text), sorted:
    regular files (not links) whose name matches :func:`leftover_patterns` and which,
    with every file of their family, were last modified more than ``stale_after``
    seconds before ``now`` (seconds since the epoch; default: the current time).
    A folder that cannot be listed has none."""
    inventory = Path(inventory)
    folder = inventory.parent
    patterns = leftover_patterns(inventory)
    now = time.time() if now is None else now
    families: dict[str, list[tuple[Path, float]]] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith("."):  # every temporary name is hidden
                    continue
                match = next(filter(None, (p.fullmatch(entry.name) for p in patterns)), None)
                if match is None:
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    modified = entry.stat(follow_symlinks=False).st_mtime
                except OSError:  # gone meanwhile
                    continue
                family = families.setdefault(match.group("family"), [])
                family.append((Path(entry.path), modified))
    except OSError:
        return []
    return sorted(
        path
        for members in families.values()
        if all(now - modified > stale_after for _, modified in members)
        for path, _ in members
    )


def remove_leftovers(
    inventory: Path, *, now: float | None = None, stale_after: float = STALE_AFTER_SECONDS
) -> list[Path]:
    """Remove the files :func:`find_leftovers` finds beside ``inventory``; returns those
    removed. A file that cannot be removed (gone meanwhile, a read-only folder, open in
    another program on Windows) is left, silently: this is tidying, never an error.

    Called by the app when it opens an inventory for editing. A file written in the last
    :data:`STALE_AFTER_SECONDS` (ten minutes) is kept: work under way keeps writing to
    its temporary file, and another process (a second window, a command) may be working
    on one in this folder now; a file that old was left by a process that ended.
    """
    removed = []
    for path in find_leftovers(inventory, now=now, stale_after=stale_after):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed
