"""The packaging files agree with the code, and the icon files are well formed.

Fast checks that run everywhere; the bundle itself is built and run by
``test_packaging_bundle.py`` (marked ``bundle``).
"""

from __future__ import annotations

import ast
import importlib.util
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core import APP_NAME, INVENTORY_SUFFIX, __version__
from core.migrations import APPLICATION_ID

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
MIME = "application/x-ai-carbon-ledger-inventory"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_mime_type_matches_the_inventory_suffix_and_application_id():
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(PACKAGING / "linux" / "ai-carbon-ledger.xml").getroot()
    mime = root.find("m:mime-type", ns)
    assert mime.get("type") == MIME
    assert [g.get("pattern") for g in mime.findall("m:glob", ns)] == [f"*{INVENTORY_SUFFIX}"]
    outer = mime.find("m:magic/m:match", ns)
    assert outer.get("value") == "SQLite format 3\\000" and outer.get("offset") == "0"
    inner = outer.find("m:match", ns)
    assert (inner.get("type"), inner.get("offset")) == ("big32", "68")
    assert int(inner.get("value"), 16) == APPLICATION_ID


def test_desktop_entry_names_the_mime_type_and_the_icon():
    text = (PACKAGING / "linux" / "ai-carbon-ledger.desktop").read_text(encoding="utf-8")
    keys = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert keys["Name"] == APP_NAME
    assert keys["MimeType"] == f"{MIME};"
    assert keys["Icon"] == "ai-carbon-ledger"
    assert keys["Exec"].endswith(" %f")  # one file per launch, as the app takes it


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_desktop_entry_is_valid():
    result = subprocess.run(
        ["desktop-file-validate", str(PACKAGING / "linux" / "ai-carbon-ledger.desktop")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_macos_document_type_uses_the_inventory_suffix():
    with open(PACKAGING / "macos" / "Info.plist", "rb") as fh:
        info = plistlib.load(fh)
    uti = info["UTExportedTypeDeclarations"][0]
    assert uti["UTTypeTagSpecification"]["public.filename-extension"] == [
        INVENTORY_SUFFIX.lstrip(".")
    ]
    assert uti["UTTypeTagSpecification"]["public.mime-type"] == MIME
    assert "public.database" in uti["UTTypeConformsTo"]
    document = info["CFBundleDocumentTypes"][0]
    assert document["LSItemContentTypes"] == [uti["UTTypeIdentifier"]]
    assert document["CFBundleTypeRole"] == "Editor"


def test_inno_setup_script_associates_the_suffix_and_adds_a_start_menu_entry():
    text = (PACKAGING / "windows" / "ai-carbon-ledger.iss").read_text(encoding="utf-8")
    assert f'Subkey: "Software\\Classes\\{INVENTORY_SUFFIX}"' in text
    assert '""%1""' in text  # the file is handed to the app as its argument
    assert re.search(r'^Name: "\{group\}\\\{#AppName\}"', text, re.M)
    assert "ChangesAssociations=yes" in text
    assert "PrivilegesRequired=lowest" in text  # installs without administrator rights


def test_spec_reads_name_and_version_from_core():
    """The spec parses core/__init__.py (so it cannot drift from the app)."""
    tree = ast.parse((PACKAGING / "ai-carbon-ledger.spec").read_text(encoding="utf-8"))
    calls = {
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and getattr(n.func, "id", "") == "_core_constant"
        and isinstance(n.args[0], ast.Constant)
    }
    assert calls == {"APP_NAME", "__version__", "INVENTORY_SUFFIX"}
    assert APP_NAME and re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def test_trim_keeps_what_the_app_and_pyqtgraph_need():
    trim = _load("trim")
    kept = [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "PySide6/Qt/lib/libQt6OpenGL.so.6",  # pyqtgraph's GraphicsView imports QtOpenGL
        "PySide6/Qt/lib/libQt6Svg.so.6",
        "PySide6/Qt/lib/libQt6XcbQpa.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "numpy.libs/libscipy_openblas64_-32a4b2a6.so",
        "libglib-2.0.so.0",
        "libfontconfig.so.1",
        "resources/fonts/DejaVuSans.ttf",
    ]
    assert [p for p in kept if trim.dropped(p)] == []
    dropped = [
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "libcairo.so.2",
    ]
    assert [p for p in dropped if not trim.dropped(p)] == []
    for needed in ("PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtNetwork", "numpy"):
        assert needed not in trim.EXCLUDED_MODULES


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    icons = _load("icons")
    return icons, icons.render_all(tmp_path_factory.mktemp("icons"))


def test_icons_render_in_every_standard_size(rendered):
    icons, paths = rendered
    for size in icons.HICOLOR_SIZES:
        png = paths["hicolor"] / f"{size}x{size}" / "apps" / "ai-carbon-ledger.png"
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)  # IHDR width, height
    assert (paths["hicolor"] / "scalable" / "apps" / "ai-carbon-ledger.svg").is_file()


def test_ico_directory_points_at_png_images(rendered):
    icons, paths = rendered
    data = paths["ico"].read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, h, _c, _r, planes, bpp, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        assert (planes, bpp) == (1, 32)
        image = data[offset : offset + length]
        assert image[:8] == b"\x89PNG\r\n\x1a\n"
        real = struct.unpack(">II", image[16:24])
        assert real == ((w or 256), (h or 256))
        sizes.append(real[0])
    assert sizes == sorted(icons.ICO_SIZES)


def test_icns_chunks_cover_the_file(rendered):
    icons, paths = rendered
    data = paths["icns"].read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    pos, found = 8, {}
    while pos < len(data):
        code, length = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        image = data[pos + 8 : pos + length]
        found[code] = struct.unpack(">II", image[16:24])[0]
        pos += length
    assert pos == len(data)
    assert found == {code: size for code, size in icons.ICNS_TYPES}


def test_no_rendered_icon_is_committed():
    """PNG, ICO and ICNS files are rendered at build time from the one SVG."""
    listed = subprocess.run(
        ["git", "ls-files", "resources/icons", "packaging"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode:
        pytest.skip("not a git checkout")
    generated = [f for f in listed.stdout.split() if f.endswith((".png", ".ico", ".icns"))]
    assert generated == []
    svgs = list((ROOT / "resources" / "icons").glob("*.svg"))
    assert [p.name for p in svgs] == ["ai-carbon-ledger.svg"]


def test_install_scripts_are_posix_shell():
    for script in ("install.sh", "uninstall.sh"):
        path = PACKAGING / "linux" / script
        assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
        if shutil.which("sh"):
            assert subprocess.run(["sh", "-n", str(path)]).returncode == 0
