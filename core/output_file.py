"""Writing an output file (a report PDF or workbook, an import's errors CSV) so that it is
either whole or not there at all.

The content goes to a temporary file in the target's own folder, is flushed and synced
to the disk, and only then renamed over the target (``os.replace``: atomic within one
file system). A full disk, a read-only or missing folder become an
:class:`core.errors.OutputWriteError` that names the file and the reason; the temporary
file is removed and a file already at the target is left as it was.

The two steps can be taken apart (:meth:`OutputFile.stage`, then :meth:`OutputFile.commit`)
so that an import writes its errors file *before* it commits and renames it into place
after: an import never skips rows without writing the list of them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import OutputWriteError

#: writes the content into the open (binary) temporary file
Fill = Callable[[BinaryIO], None]
Content = Fill | bytes | bytearray | memoryview
NOTHING_WRITTEN = "No file was written."


def _reason(path: Path, exc: OSError) -> str:
    """Why ``path`` could not be written, in words a user can act on."""
    code = exc.errno
    folder = path.parent
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full; free some space or choose another folder"
    if code == errno.EROFS:
        return "the disk is read-only; choose another folder"
    if code in (errno.EACCES, errno.EPERM):
        return "the file or its folder is read-only for you; choose another folder"
    if not folder.is_dir():
        if folder.exists():
            return f"{folder} is not a folder"
        return f"the folder {folder} does not exist"
    if code == errno.EISDIR:
        return "a folder of that name is in the way"
    if code == errno.ENAMETOOLONG:
        return "the name is too long"
    return f"the system reports: {exc.strerror or exc}"


def write_failed(
    path: str | os.PathLike[str],
    exc: OSError,
    what: str = "the file",
    outcome: str = NOTHING_WRITTEN,
) -> OutputWriteError:
    """The error to raise when writing ``what`` at ``path`` failed with ``exc``;
    ``outcome`` says what that means for the user (a sentence)."""
    path = Path(path)
    kept = f" The existing {path.name} was left as it was." if path.is_file() else ""
    message = f"Cannot write {what} {path}: {_reason(path, exc)}. {outcome}{kept}"
    return OutputWriteError(message, path)


def check_folder(
    path: str | os.PathLike[str], what: str = "the file", outcome: str = NOTHING_WRITTEN
) -> None:
    """Refuse early (before the work of making the content) when the target's folder is
    missing: the same message the write would give."""
    path = Path(path)
    if not path.parent.is_dir():
        missing = FileNotFoundError(errno.ENOENT, "missing folder")
        raise write_failed(path, missing, what, outcome)


class OutputFile:
    """One output file written through a synced temporary file beside it.

    ``stage(fill)`` writes the content (``fill`` gets the open binary file); ``commit()``
    renames it into place; ``discard()`` removes it. As a context manager, leaving the
    block by an exception discards whatever was staged.
    """

    def __init__(
        self, path: str | os.PathLike[str], what: str = "the file", outcome: str = NOTHING_WRITTEN
    ):
        self.path = Path(path)
        self.what, self.outcome = what, outcome
        self.temp: Path | None = None

    def stage(self, fill: Content) -> None:
        """Write the content to the temporary file and sync it to the disk."""
        check_folder(self.path, self.what, self.outcome)
        temp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.part")
        try:
            # O_EXCL: never write through a file or link someone else left at that name;
            # 0o666 and the umask: the file gets the permissions of any file made here
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise write_failed(self.path, exc, self.what, self.outcome) from exc
        self.temp = temp
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(fill, bytes | bytearray | memoryview):
                    fh.write(fill)
                else:
                    fill(fh)
                fh.flush()
                os.fsync(fh.fileno())  # a full disk may only show here (delayed allocation)
        except OSError as exc:
            self.discard()
            raise write_failed(self.path, exc, self.what, self.outcome) from exc
        except BaseException:
            self.discard()
            raise

    def commit(self, outcome: str | None = None) -> Path:
        """Rename the staged file over the target; returns the target. ``outcome``: what
        a failure here means, if not what it meant while staging."""
        if self.temp is None:
            raise RuntimeError("nothing was staged")
        try:
            os.replace(self.temp, self.path)
        except OSError as exc:
            self.discard()
            raise write_failed(self.path, exc, self.what, outcome or self.outcome) from exc
        self.temp = None
        return self.path

    def discard(self) -> None:
        """Remove the staged file, if any (never the target)."""
        if self.temp is not None:
            # the folder may have turned read-only meanwhile: nothing more can be done
            with contextlib.suppress(OSError):
                self.temp.unlink(missing_ok=True)
            self.temp = None

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()


def write_file(
    path: str | os.PathLike[str],
    content: Content,
    what: str = "the file",
    outcome: str = NOTHING_WRITTEN,
) -> Path:
    """Write ``content`` (bytes, or a function writing to the open binary file) at
    ``path`` whole or not at all; raises :class:`OutputWriteError` with a clear message."""
    with OutputFile(path, what, outcome) as out:
        out.stage(content)
        return out.commit()
