"""Render every icon the installers need from the one SVG in ``resources/icons/``.

PNGs in the freedesktop sizes (a hicolor theme tree for Linux), a Windows ``.ico`` and a
macOS ``.icns``. The PNGs come from Qt's SVG renderer; the ``.ico`` and ``.icns`` files
are written here because both formats are a short header followed by PNG images, and
Qt's own writers for them are not in every PySide6 wheel. Nothing rendered is kept in
git: ``build.py`` renders into its build folder on every build.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "ai-carbon-ledger.svg"
ICON_NAME = "ai-carbon-ledger"

#: sizes (px) of the hicolor theme folders that desktops look in
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
#: sizes stored in the Windows icon (256 is the largest the format holds)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
#: macOS icon types holding PNG data, by pixel size (Apple's "icns" type codes)
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def render_png(size: int, svg: Path = SVG) -> bytes:
    """The SVG rendered as a ``size`` x ``size`` PNG with a transparent background."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    # a QApplication (not QGuiApplication), so that widget code may run in the same process
    _app = QApplication.instance() or QApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows ``.ico`` holding ``pngs`` (size -> PNG data; PNG entries are valid
    since Windows Vista). A width or height of 256 is stored as 0, as the format says."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS ``.icns`` holding one PNG per type in :data:`ICNS_TYPES`."""
    chunks = b"".join(
        code + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for code, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks


def render_all(out: Path, svg: Path = SVG) -> dict[str, Path]:
    """Write the hicolor tree, ``.ico`` and ``.icns`` under ``out``; return their paths.

    ``out/hicolor/<N>x<N>/apps/ai-carbon-ledger.png`` for every size in
    :data:`HICOLOR_SIZES`, plus ``out/hicolor/scalable/apps/ai-carbon-ledger.svg``.
    """
    sizes = sorted({*HICOLOR_SIZES, *ICO_SIZES, *(s for _, s in ICNS_TYPES)})
    pngs = {size: render_png(size, svg) for size in sizes}
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pngs[size])
    scalable = out / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(svg.read_bytes())
    ico = out / f"{ICON_NAME}.ico"
    ico.write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    icns = out / f"{ICON_NAME}.icns"
    icns.write_bytes(icns_bytes(pngs))
    return {"hicolor": out / "hicolor", "ico": ico, "icns": icns}
