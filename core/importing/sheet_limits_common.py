"""Limits, the refusal message and the scanning helpers shared by the per-format sheet
size checks (:mod:`core.importing.sheet_limits` and the ``sheet_limits_*`` modules):
the grid a sheet would take, reading zip parts a chunk at a time, and matching whole XML
tags across chunks."""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.errors import ImportReadError

#: most cells a sheet's grid may have (XLSX, XLSM, XLS, XLSB): 5x the largest inventory
MAX_SHEET_CELLS = 50_000_000
#: most cells an ODS sheet's grid may have (each costs the reader ~4x an XLSX cell)
MAX_ODS_SHEET_CELLS = 20_000_000
#: widest sheet accepted: Excel's and LibreOffice's own limit (column XFD)
MAX_SHEET_COLUMNS = 16_384
#: bytes of a part unpacked and scanned at a time
CHUNK_BYTES = 1 << 20
#: an element tag longer than this is not from an office program (nor a cell's text)
MAX_TAG_BYTES = 1 << 20
#: most bytes of a small part (workbook.xml, relationships) read to name the sheets
MAX_INDEX_BYTES = 16 << 20

#: a start tag's attributes, quoted values may hold ">" (as the reader allows)
_ATTRS = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
#: a size past anything real: a column of more than eight letters, a repeat of 13+ digits
_HUGE = 10**12


@dataclass
class Extent:
    """The grid the reader would build for one sheet: ``rows`` x ``columns`` cells.

    ``far`` names the cell farthest from the top-left when known (``"XFD1048576"``),
    ``what`` says where the size comes from when it is not the cells themselves."""

    rows: int = 0
    columns: int = 0
    far: str | None = None
    what: str = ""

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    def fits(self, limit: int) -> bool:
        return self.columns <= MAX_SHEET_COLUMNS and self.cells <= limit


def refusal(path: Path, where: str, extent: Extent, limit: int) -> ImportReadError:
    """The message for a sheet over the limits; ``where`` is ``"sheet Usage"``."""
    far = f", its farthest cell is {extent.far}" if extent.far else ""
    what = f" ({extent.what})" if extent.what else ""
    return ImportReadError(
        f"{path.name}, {where}: the sheet claims {extent.rows:,} rows x "
        f"{extent.columns:,} columns{what} = {extent.cells:,} cells{far}; refusing to "
        f"read it. A sheet may have at most {limit:,} cells and {MAX_SHEET_COLUMNS:,} "
        "columns. If the data is smaller, delete the rows and columns after it (or the "
        "stray cell), save the file and import it again; if it really is that large, "
        "split it into several files."
    )


def column_name(index: int) -> str:
    """0 -> "A", 16383 -> "XFD" (any size)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# -- zip packages -------------------------------------------------------------------------


#: what unpacking a damaged or unsupported zip entry raises
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError,
               RuntimeError, EOFError, OSError, ValueError)  # fmt: skip


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    """The bytes of ``fh`` a chunk at a time, ending early where the entry is damaged:
    the reader fails at the same place, so it allocates nothing for what follows."""
    try:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk
    except _ZIP_ERRORS:
        return


def _open_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        fh = zf.open(info)
    except (*_ZIP_ERRORS, KeyError):
        return
    with fh:
        yield from _chunks(fh)


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        with zf.open(name) as fh:
            return fh.read(MAX_INDEX_BYTES)
    except (*_ZIP_ERRORS, KeyError):
        return b""


def _attr(attrs: bytes, name: bytes) -> str | None:
    m = re.search(rb"(?:^|\s)" + name + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", attrs)
    if m is None:
        return None
    raw = m.group(1) if m.group(1) is not None else m.group(2)
    return html.unescape(raw.decode("utf-8", "replace"))


# -- streams of XML tags ------------------------------------------------------------------


def _with_end(chunks: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None


class _Tags:
    """Tags matched by ``pattern`` in a stream of chunks, in order, each whole.

    What follows the last whole tag of a chunk is carried into the next. A tag of
    interest (``start`` matches its beginning) longer than :data:`MAX_TAG_BYTES` is
    refused; anything else that long (a long text, binary data) is dropped from the
    carry, as it cannot hide a tag of interest."""

    def __init__(self, pattern: re.Pattern[bytes], start: re.Pattern[bytes]):
        self.pattern = pattern
        self.start = start

    def __call__(self, chunks: Iterator[bytes]) -> Iterator[re.Match[bytes]]:
        carry = b""
        for chunk in chunks:
            buf = carry + chunk
            done = 0
            for m in self.pattern.finditer(buf):
                yield m
                done = m.end()
            lt = buf.rfind(b"<", done)
            carry = buf[lt:] if lt >= 0 else b""
            if len(carry) > MAX_TAG_BYTES:
                if self.start.match(carry):
                    raise _TagTooLong
                carry = carry[-64:]
        for m in self.pattern.finditer(carry):
            yield m


class _TagTooLong(Exception):
    pass
