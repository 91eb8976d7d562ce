"""Limits, the refusal message and the scanning helpers shared by the per-format sheet
size checks (:mod:`core.importing.sheet_limits` and the ``sheet_limits_*`` modules):
the grid a sheet would take, reading zip parts a chunk at a time as the reader reads
them, and reading their XML the way the reader's XML parser (quick-xml) does.

The scans must see what the reader sees, byte for byte and tag for tag, or a file can
show them one thing and the reader another:

* a zip part is unpacked from its raw data whatever its checksum says, and up to the
  place where its compressed data is damaged (the reader reads it that far, building
  what it reads, before it fails);
* tags end where quick-xml ends them: at the first ``>`` outside a quoted attribute
  value (``"..."`` or ``'...'``; a value may hold ``>`` in well-formed XML, and ``<``
  for the reader), end tags at their first ``>``; comments, CDATA sections, processing
  instructions and a document type declaration hide what they contain; names end at
  a space, tab, CR or LF (not at a form feed); attributes are read one after the other
  as quick-xml reads them, so that one attribute's value cannot pass for another.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
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

#: a start tag's attributes, quoted values may hold ">" (as the reader allows); used to
#: word messages (sheet names), never to size a sheet
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


def unsure(name: str, why: str) -> ImportReadError:
    """The message for markup the reader could read in more than one way."""
    return ImportReadError(
        f"{name}: {why}, which no office program writes; the workbook reader could read "
        "it differently from the size check, so it is not read (the file is damaged or "
        "forged)."
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
#: compressed bytes read from the file at a time
_RAW_BYTES = 64 << 10
_LOCAL_HEADER = struct.Struct("<4s22xHH")


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    """The bytes of ``fh`` a chunk at a time, ending early where the entry is damaged:
    the reader fails at the same place, so it allocates nothing for what follows."""
    try:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk
    except _ZIP_ERRORS:
        return


class _PartChunks:
    """The unpacked bytes of one zip entry, a chunk at a time, as the reader gets them;
    ``source`` names the file in messages. Iterable more than once (each pass unpacks
    the entry afresh).

    Stored and deflated entries (the only kinds the reader unpacks) are read from their
    raw data, not through :mod:`zipfile`, whose reads would hide data from the scan
    that the reader reads and builds: a checksum that does not match makes zipfile
    drop the last read (the reader only fails after it has read everything), and
    damaged compressed data makes it drop everything unpacked by the failing read (up
    to a chunk, where the reader gives every byte before the damage). As both do, the
    bytes stop at the declared unpacked size."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo):
        self.zf, self.info = zf, info
        self.source = Path(zf.filename).name if zf.filename else "the workbook"

    def __iter__(self) -> Iterator[bytes]:
        info = self.info
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            yield from _open_by_zipfile(self.zf, info)  # the reader cannot read it anyway
            return
        raw = self._raw()
        if raw is None:
            return
        left = info.file_size
        pieces = raw if info.compress_type == zipfile.ZIP_STORED else _inflate(raw)
        for piece in pieces:  # up to the declared size, as the reader stops there
            piece = piece[:left]
            left -= len(piece)
            if piece:
                yield piece
            if left <= 0:
                return

    def _raw(self) -> Iterator[bytes] | None:
        fp = self.zf.fp
        if fp is None:
            return None
        try:
            fp.seek(self.info.header_offset)
            magic, name_len, extra_len = _LOCAL_HEADER.unpack(fp.read(_LOCAL_HEADER.size))
        except (*_ZIP_ERRORS, struct.error):
            return None
        if magic != b"PK\x03\x04":
            return None
        return _read_raw(fp, self.info.header_offset + 30 + name_len + extra_len,
                         self.info.compress_size)  # fmt: skip


def _read_raw(fp: IO[bytes], start: int, size: int) -> Iterator[bytes]:
    pos, end = start, start + size
    while pos < end:
        try:
            fp.seek(pos)
            piece = fp.read(min(_RAW_BYTES, end - pos))
        except _ZIP_ERRORS:
            return
        if not piece:
            return
        pos += len(piece)
        yield piece


def _inflate(raw: Iterator[bytes]) -> Iterator[bytes]:
    """Raw deflate data unpacked a chunk at a time; where it is damaged, every byte
    before the damage (found again from the state before the failing step, a byte of
    input at a time) and nothing after."""
    d = zlib.decompressobj(-15)
    for piece in raw:
        data = piece
        while data and not d.eof:
            saved = d.copy()
            try:
                out = d.decompress(data, CHUNK_BYTES)
            except zlib.error:
                yield from _before_damage(saved, data)
                return
            if out:
                yield out
            data = d.unconsumed_tail
        if d.eof:
            return
    try:
        out = d.flush()
    except zlib.error:
        return
    if out:
        yield out


def _before_damage(d: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    for i in range(len(data)):
        try:
            out = d.decompress(data[i : i + 1])
        except zlib.error:
            return
        if out:
            yield out
        if d.eof:
            return


def _open_by_zipfile(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        fh = zf.open(info)
    except (*_ZIP_ERRORS, KeyError):
        return
    with fh:
        yield from _chunks(fh)


def _open_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _PartChunks:
    return _PartChunks(zf, info)


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


def _with_end(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None


class _TagTooLong(Exception):
    pass


# -- XML as the reader reads it -----------------------------------------------------------

#: quick-xml's white space (a form feed or vertical tab is part of a name for it)
_WS = b" \t\r\n"
#: one attribute, as quick-xml reads them one after the other: a key up to "=" or white
#: space, "=", a value in double or single quotes (no space needed before the next)
_ATTRIBUTE = re.compile(
    rb"[ \t\r\n]*([^ \t\r\n=]+)[ \t\r\n]*=[ \t\r\n]*(?:(\")([^\"]*)\"|'([^']*)')"
)
#: the rest of a start tag: up to the first ">" outside quotes
_TAG_REST = re.compile(rb"[^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+>")
#: what is left of a start tag cut by the end of a buffer, and the quote it is in
_TAG_CUT = re.compile(rb"[^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+([\"']?)")
#: markup the reader steps over whole (comments, CDATA, processing instructions), as
#: quick-xml ends it
_HIDDEN = rb"<!--.*?-->|<!\[(?i:CDATA)\[.*?\]\]>|<\?.*?\?>"


def attributes(content: bytes, start: int = 0) -> list[tuple[bytes, bytes]]:
    """``(key, raw value)`` of each attribute of a tag's content from ``start`` (after
    the name), in order, as quick-xml reads them one after the other (so that a value
    holding ``key="..."`` is one value). Past an attribute quick-xml cannot read (an
    unquoted value, a key without one), where the reader fails, the rest is still
    read: more than the reader reads, never less."""
    return [(k, d if q else s) for k, q, d, s in _ATTRIBUTE.findall(content, start)]


def attribute(content: bytes, start: int, key: bytes) -> bytes | None:
    """The raw value of the first attribute named ``key`` (as the reader looks it up)."""
    for k, v in attributes(content, start):
        if k == key:
            return v
    return None


_NAME = re.compile(rb"[^ \t\r\n]*")


def tag_name(content: bytes) -> bytes:
    """An element's name from its tag's content (up to the first white space)."""
    return _NAME.match(content).group()  # type: ignore[union-attr]


class _Unsure(Exception):
    """Markup that the reader could read in more than one way; ``str()`` says what."""


class Markup:
    """The tags of interest in a stream of XML chunks, read as quick-xml reads them:
    ``(end, name, content, empty)`` for each start or empty-element tag (``content``
    is what lies between ``<`` and ``>``, without an empty element's ``/``) and each
    end tag (``name`` only) whose bytes after ``<`` match ``wanted``.

    Everything else is stepped over as the reader steps over it, most of it by one
    regular expression: text, other tags (to their first ``>`` outside quotes),
    comments, CDATA sections, processing instructions. A document type declaration is
    stepped over to where quick-xml ends it when all the reader could make of it is
    that; one it could end elsewhere (one holding markup the reader would read, were
    it cut short) raises :class:`_Unsure`, and after one holding any markup, so does
    anything the reader could read differently were its end elsewhere (a comment, a
    processing instruction, CDATA, a quoted ``>`` or ``<``). Markup the reader fails on
    is read past as text (the reader stops there: whatever follows is counted in
    vain, never missed).

    Memory stays within a chunk and the longest tag: a tag of interest longer than
    :data:`MAX_TAG_BYTES` raises :class:`_TagTooLong`; a longer comment, other tag or
    the like is stepped over a chunk at a time."""

    def __init__(self, chunks: Iterable[bytes] | None, wanted: bytes, max_tag: int = 0):
        self.chunks = chunks
        self.max_tag = max_tag or MAX_TAG_BYTES
        self.wanted = re.compile(wanted)
        skip = (
            rb"(?:[^<]++|" + _HIDDEN + rb"|</(?!" + wanted + rb")[^>]*+>"
            rb"|<(?![!?/]|" + wanted + rb")[^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+>)*+"
        )
        self.skip = re.compile(skip, re.S)
        #: the skip, then the tag of interest it stopped at when a whole one: most events
        #: in one match (the rest go through :meth:`_markup`)
        self.next_tag = re.compile(
            skip + rb"(?:</(?=" + wanted + rb")([^<>]*+)>"
            rb"|<(?=" + wanted + rb")([^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+)>)?",
            re.S,
        )
        #: after a document type declaration with markup inside: nothing hidden, no
        #: quoted "<" or ">" (the reader could end the declaration at any ">")
        self.strict_skip = re.compile(
            rb"(?:[^<]++|</(?!" + wanted + rb")[^>]*+>"
            rb"|<(?![!?/]|"
            + wanted
            + rb")[^\"'<>]*+(?:(?:\"[^\"<>]*+\"|'[^'<>]*+')[^\"'<>]*+)*+>)*+"
        )
        self.strict = False
        self.carry = b""
        #: a long construct being stepped over: (its end, bytes kept from its tail)
        self.long: tuple[bytes, int] | None = None
        self.long_quote = b""

    def __iter__(self) -> Iterator[tuple[bool, bytes, bytes, bool]]:
        for chunk in _with_end(iter(self.chunks or ())):
            final = chunk is None
            buf = self.carry + (chunk or b"")
            for _, _, event in self.scan(buf, 0, final):
                yield event
            if final:
                return

    def scan(
        self, buf: bytes, pos: int, final: bool
    ) -> Iterator[tuple[int, int, tuple[bool, bytes, bytes, bool]]]:
        """``(start, end, event)`` for each tag of interest in ``buf`` from ``pos`` (a
        position after whole markup: text, or where the last scan left off). What a
        buffer ends in the middle of is kept in :attr:`carry`, to go before the next
        chunk. The caller may stop after any event and scan again from its end."""
        self.carry = b""
        if self.long is not None:  # only ever at the start of a buffer
            pos = self._long(buf)
            if pos < 0:
                return
        n = len(buf)
        max_tag = self.max_tag
        while True:
            if not self.strict:
                m = self.next_tag.match(buf, pos)
                end_name, content = m.group(1), m.group(2)  # type: ignore[union-attr]
                if end_name is not None:
                    pos, end = m.start(1) - 2, m.end()  # type: ignore[union-attr]
                    if end - pos > max_tag:
                        raise _TagTooLong
                    yield pos, end, (True, end_name.rstrip(_WS), b"", False)
                    pos = end
                    continue
                if content is not None:
                    pos, end = m.start(2) - 1, m.end()  # type: ignore[union-attr]
                    if end - pos > max_tag:
                        raise _TagTooLong
                    empty = content.endswith(b"/")
                    if empty:
                        content = content[:-1]
                    yield pos, end, (False, _NAME.match(content).group(), content, empty)  # type: ignore[union-attr]
                    pos = end
                    continue
                pos = m.end()  # type: ignore[union-attr]
            else:
                pos = self.strict_skip.match(buf, pos).end()  # type: ignore[union-attr]
            if pos >= n:
                return
            found = self._markup(buf, pos, final)
            if found is None:  # cut by the end of the buffer: carried or stepped over
                return
            if isinstance(found, int):  # stepped over
                pos = found
                continue
            end, event = found
            yield pos, end, event
            pos = end

    # -- one piece of markup at pos ----------------------------------------------------

    def _markup(
        self, buf: bytes, pos: int, final: bool
    ) -> int | tuple[int, tuple[bool, bytes, bytes, bool]] | None:
        """The event at ``pos`` (``(next position, event)``), the position to go on from
        (markup stepped over), or None when the buffer ends first (carried over, or
        stepped over a chunk at a time when long)."""
        n = len(buf)
        if pos + 1 >= n:
            return self._cut(buf, pos, final, None)
        kind = buf[pos + 1]
        if kind == 0x2F:  # "/": an end tag, to its first ">"
            gt = buf.find(b">", pos + 2)
            if gt < 0:
                return self._cut(buf, pos, final, b">")
            if gt - pos > self.max_tag:
                raise _TagTooLong
            return gt + 1, (True, buf[pos + 2 : gt].rstrip(_WS), b"", False)
        if kind == 0x21:  # "!"
            return self._bang(buf, pos, final)
        if kind == 0x3F:  # "?": a processing instruction the skip did not take
            if self.strict:
                raise _Unsure("a processing instruction after a document type declaration")
            if buf.startswith(b"<?>", pos):
                return pos + 1  # the reader fails here
            return self._cut(buf, pos, final, b"?>")
        m = _TAG_REST.match(buf, pos + 1)
        if m is None:
            return self._cut(buf, pos, final, b"tag")
        content = buf[pos + 1 : m.end() - 1]
        if self.strict and (b">" in content or b"<" in content):
            raise _Unsure("a quoted '<' or '>' after a document type declaration")
        empty = content.endswith(b"/")
        if empty:
            content = content[:-1]
        if not self.wanted.match(buf, pos + 1):
            return m.end()  # a tag of no interest the skip could not take (strict mode)
        if m.end() - pos > self.max_tag:
            raise _TagTooLong
        return m.end(), (False, tag_name(content), content, empty)

    def _bang(self, buf: bytes, pos: int, final: bool) -> int | None:
        n = len(buf)
        head = buf[pos : pos + 9]
        if len(head) < 9 and not final and n - pos < 9:
            return self._cut(buf, pos, final, None)
        if head.startswith(b"<!--"):
            if self.strict:
                raise _Unsure("a comment after a document type declaration")
            return self._cut(buf, pos, final, b"-->")  # a whole one is skipped
        if head[:3] == b"<![" and head.upper() == b"<![CDATA[":
            if self.strict:
                raise _Unsure("a CDATA section after a document type declaration")
            return self._cut(buf, pos, final, b"]]>")
        if head.upper() == b"<!DOCTYPE":
            if self.strict:
                raise _Unsure("a second document type declaration")
            return self._doctype(buf, pos, final)
        return pos + 1  # not markup the reader knows: it fails here

    def _doctype(self, buf: bytes, pos: int, final: bool) -> int | None:
        """Step over a document type declaration, to the first ">" after which as many
        "<" as ">" have been seen, as quick-xml ends it."""
        depth = 0
        end = -1
        for m in re.finditer(rb"[<>]", buf[pos + 9 : pos + 9 + self.max_tag]):
            if m.group() == b"<":
                depth += 1
            elif depth == 0:
                end = pos + 9 + m.start()
                break
            else:
                depth -= 1
        if end < 0:
            if len(buf) - pos > self.max_tag:
                raise _TagTooLong
            return None if final else self._keep(buf, pos)
        inner = buf[pos + 9 : end]
        if not inner.strip(_WS):
            return pos + 1  # an empty one: the reader fails here
        if b"<" in inner:
            self._check_declarations(inner)
            self.strict = True
        return end + 1

    @staticmethod
    def _check_declarations(inner: bytes) -> None:
        """A declaration's markup must be what the reader fails on (``<!ENTITY``, ...) or
        comments closed inside it: were the reader to end the declaration early (it
        counts "<" and ">" a buffer at a time), that is all it would read of it."""
        pos = 0
        while (lt := inner.find(b"<", pos)) >= 0:
            if inner.startswith(b"<!--", lt):
                close = inner.find(b"-->", lt + 4)
                if close < 0:
                    raise _Unsure("a document type declaration with an open comment")
                pos = close + 3
            elif inner[lt + 1 : lt + 2] == b"!" and inner[lt + 2 : lt + 3] not in (
                b"[",
                b"-",
                b"D",
                b"d",
                b"",
            ):
                pos = lt + 2
            else:
                raise _Unsure("a document type declaration holding markup")

    # -- constructs cut by the end of a buffer -----------------------------------------

    def _cut(self, buf: bytes, pos: int, final: bool, end: bytes | None) -> int | None:
        """The construct at ``pos`` does not end in ``buf``: carry it into the next
        chunk, or, when it is long and of no interest, step over it from here."""
        if final:
            return None  # the reader fails at the end of the file: nothing follows
        n = len(buf)
        if n - pos <= self.max_tag or end is None:
            return self._keep(buf, pos)
        at = pos + 2 if buf.startswith(b"</", pos) else pos + 1
        if self.wanted.match(buf, at):
            raise _TagTooLong
        if end == b"tag":
            m = _TAG_CUT.match(buf, pos + 1)
            self.long, self.long_quote = (b"tag", 0), m.group(1) if m else b""
        else:
            self.long = (end, len(end) - 1)
            self.carry = buf[-(len(end) - 1) :] if len(end) > 1 else b""
        return None

    def _keep(self, buf: bytes, pos: int) -> None:
        self.carry = buf[pos:]

    def _long(self, buf: bytes) -> int:
        """Go on stepping over a long construct: the position after its end, or -1
        when it goes on past ``buf`` too."""
        assert self.long is not None
        end, keep = self.long
        if end == b"tag":
            pos = 0
            if self.long_quote:
                close = buf.find(self.long_quote, pos)
                if close < 0:
                    return -1
                pos = close + 1
            m = _TAG_CUT.match(buf, pos)
            stop = m.end() if m else pos
            if m and m.group(1):  # another quote opens and stays open
                self.long_quote = m.group(1)
                return -1
            if stop < len(buf) and buf[stop] == 0x3E:
                self.long = None
                return stop + 1
            self.long_quote = b""
            return -1
        found = buf.find(end)
        if found < 0:
            self.carry = buf[-keep:] if keep else b""
            return -1
        self.long = None
        return found + len(end)
