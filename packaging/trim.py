"""What the trimmed bundle leaves out, and why (used by ``ai-carbon-ledger.spec``).

The app uses QtCore, QtGui, QtWidgets, QtNetwork (QLocalServer for one window per
inventory), QtSvg (icons), QtPrintSupport (reports to PDF and printing) and QtOpenGL with
QtOpenGLWidgets (pyqtgraph's GraphicsView imports them unconditionally). Everything
else a PySide6 wheel or the Python standard library brings along is dead weight.
Keep what pyqtgraph and numpy need: numpy's own libraries (``numpy.libs``, OpenBLAS)
are never filtered, and only the pyqtgraph subpackages for other front ends
(OpenGL 3-D, Jupyter, Qt Designer examples) are dropped.
"""

from __future__ import annotations

import re

EXCLUDED_MODULES = [
    # Python standard library parts the app never imports
    "tkinter",
    "_tkinter",
    "turtledemo",
    "idlelib",
    "lib2to3",
    "pydoc_data",
    "unittest",
    "test",
    "distutils",
    "setuptools",
    "pip",
    "IPython",
    "matplotlib",
    "pandas",
    "scipy",
    "PIL",
    "readline",  # the interactive prompt's line editing; the app has no prompt
    "ssl",  # no network: the app reads and writes local files only
    "_ssl",
    "_hashlib",  # OpenSSL's hashes; hashlib falls back to its built-in ones (no libcrypto)
    # Qt modules the app does not use (pyqtgraph imports some of them optionally)
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtXml",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtConcurrent",
    "PySide6.QtDBus",  # the Python module only: Qt's own libQt6DBus stays
    "PySide6.QtSvgWidgets",
    # pyqtgraph front ends the app does not use
    "pyqtgraph.opengl",
    "pyqtgraph.jupyter",
    "pyqtgraph.examples",
    "pyqtgraph.canvas",
    "pyqtgraph.console",
    "OpenGL",
]

#: destination paths (as PyInstaller names them, "/" separated) left out of the bundle
_DROPPED = [
    # Qt libraries of modules excluded above, and of QML/Quick, which nothing here uses;
    # EGLFS is the platform of embedded devices without a window system
    r"libQt6(Qml|Quick|Labs|Lottie|Designer|Help|Sql|Test|UiTools|Pdf|VirtualKeyboard"
    r"|WaylandCompositor|ShaderTools|Concurrent|EglFS|EglFs)",
    r"Qt6(Qml|Quick|Labs|Lottie|Designer|Help|Sql|Test|UiTools|Pdf|VirtualKeyboard"
    r"|Concurrent)\w*\.dll",
    r"Qt(Qml|Quick|Labs|Lottie|Designer|Help|Sql|Test|UiTools|Pdf|VirtualKeyboard)\w*\.framework",
    # plugins: keep platforms for desktops (xcb, wayland, windows, cocoa, offscreen),
    # imageformats for SVG, PNG, JPEG, GIF and ICO, iconengines, the desktop-portal
    # theme, printsupport, xcbglintegrations and the wayland client parts
    r"/plugins/(qmltooling|qmllint|sqldrivers|designer|networkinformation|tls"
    r"|wayland-graphics-integration-server|egldeviceintegrations|vectorimageformats"
    r"|generic|multimedia|sceneparsers|geometryloaders|renderers|virtualkeyboard)/",
    r"/plugins/platforms/\w*(eglfs|linuxfb|minimalegl|vkkhrdisplay|vnc)\w*\.",
    r"/plugins/imageformats/\w*(pdf|webp|tiff|tga|wbmp|icns|jp2|mng)\w*\.",
    # The GTK 3 theme plugin pulls in a private copy of the GTK stack (cairo, pango,
    # gdk-pixbuf...) that can clash with the system's GTK it loads; without it Qt uses
    # the desktop portal and its own Fusion style.
    r"/plugins/platformthemes/\w*gtk3\w*\.",
    r"^/lib(cairo|cairo-gobject|pango-1\.0|pangocairo-1\.0|pangoft2-1\.0|gdk_pixbuf-2\.0"
    r"|atk-1\.0|pixman-1|thai|datrie|fribidi|harfbuzz|graphite2|gio-2\.0|gobject-2\.0"
    r"|gmodule-2\.0|mount|blkid|selinux|uuid|jpeg|readline|tinfo)\.so",
    # Qt's translations of its own dialogs: the app is in English only
    r"/translations/\w+\.qm$",
    r"/qml/",
    r"/metatypes/",
]
_DROPPED_RE = re.compile("|".join(f"(?:{p})" for p in _DROPPED))


def dropped(dest: str) -> bool:
    """Whether the bundle path ``dest`` is left out of the trimmed bundle."""
    return bool(_DROPPED_RE.search("/" + dest.replace("\\", "/")))


def filter_toc(toc: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``toc`` (PyInstaller's (dest, source, kind) entries) without the dropped ones."""
    return [entry for entry in toc if not dropped(entry[0])]
