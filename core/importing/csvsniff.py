"""Guessing how a CSV/TSV file is written: encoding, delimiter and decimal separator.

Spreadsheet programs write CSV in the user's locale: Excel on a German or French
machine writes ``;``-separated files with decimal commas in Windows-1252; LibreOffice
offers UTF-16; others add a UTF-8 byte-order mark. We look at the first 64 KiB only.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import ImportReadError

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

#: magic numbers of files that are not text, with what to tell the user
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (an Excel/ODS workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Office binary file (an old .xls or a password-protected workbook)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x1f\x8b", "a gzip archive"),
)

_DECIMAL_COMMA = re.compile(r"^[-+]?\d{1,3}(?:[.\u00a0 ]\d{3})*,\d+$|^[-+]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})*\.\d+$|^[-+]?\d+\.\d+$")


@dataclass(frozen=True)
class CsvDialect:
    """How a text file is written. ``decimal_comma``: numbers look like ``1.234,5``."""

    encoding: str
    delimiter: str
    decimal_comma: bool


def sniff(path: Path) -> CsvDialect:
    """Detect encoding, delimiter and decimal separator of the text file ``path``.

    Raises :class:`ImportReadError` for empty files and files that are not text.
    """
    with open(path, "rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ImportReadError(f"{path.name}: the file is empty; there is nothing to import.")
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise ImportReadError(
                f"{path.name}: this is {what}, not a CSV text file. "
                "Save it as CSV or open the original workbook instead."
            )
    encoding = detect_encoding(raw)
    text = _decode_sample(raw, encoding)
    bad = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    if bad > max(2, len(text) // 1000):
        raise ImportReadError(
            f"{path.name}: the file contains binary data, not text; it is not a CSV file "
            "(or it is damaged)."
        )
    delimiter = detect_delimiter(text)
    return CsvDialect(encoding, delimiter, detect_decimal_comma(text, delimiter))


def detect_encoding(raw: bytes) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-8`` or ``cp1252`` for the start ``raw`` of a file."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a BOM: every other byte of ASCII text is NUL
    if len(raw) >= 4 and raw[1::2].count(0) > len(raw) // 4 and raw[0::2].count(0) == 0:
        return "utf-16-le"
    if len(raw) >= 4 and raw[0::2].count(0) > len(raw) // 4 and raw[1::2].count(0) == 0:
        return "utf-16-be"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # the sample was cut inside a multi-byte character
        if len(raw) >= SAMPLE_BYTES and exc.start >= len(raw) - 3:
            return "utf-8"
    return "cp1252"


def _decode_sample(raw: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(raw, final=False)


def detect_delimiter(text: str) -> str:
    """The delimiter giving the most lines with the same number (>1) of fields."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and len(text) >= SAMPLE_BYTES - 4:
        lines = lines[:-1]  # the sample cut the last line short
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        try:
            reader = csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=delim)
            counts = [len(r) for r in reader if r]
        except csv.Error:
            continue
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        score = (counts.count(modal), modal)
        if score > best_score:
            best, best_score = delim, score
    return best


def detect_decimal_comma(text: str, delimiter: str) -> bool:
    """Whether numbers in ``text`` are written with a decimal comma (``0,75``)."""
    try:
        # newline="": the csv module splits lines itself (a lone CR is a line end too)
        cells = [
            c for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for c in r
        ]
    except csv.Error:
        return False  # not readable as CSV here: reading the rows will say so
    comma = sum(1 for c in cells if _DECIMAL_COMMA.match(c.strip()))
    point = sum(1 for c in cells if _DECIMAL_POINT.match(c.strip()))
    return comma > point
