"""Build the desktop bundle: ``python packaging/build.py [--no-trim] [--fonts-dir DIR]``.

1. renders the icons from ``resources/icons/ai-carbon-ledger.svg`` (PNGs, .ico, .icns);
2. stages the DejaVu fonts and their licence (bundled so reports render the same on a
   machine without them);
3. runs PyInstaller on ``packaging/ai-carbon-ledger.spec`` (one folder, windowed);
4. on Linux, adds the desktop integration (``share/``: .desktop entry, MIME type, icons)
   and the user-level ``install.sh`` / ``uninstall.sh`` to the bundle;
5. packs the bundle into a compressed archive next to it (``.tar.gz`` on Linux and
   macOS, ``.zip`` on Windows) and, on Windows with Inno Setup's ``iscc`` on PATH, the
   installer;
6. prints the build time and sizes and writes them to ``dist/build-report.json``.

Needs PyInstaller (``pip install -e ".[packaging]"``). Output goes to ``dist/`` and
intermediate files to ``build/`` at the top of the checkout (both ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(PACKAGING))

import icons  # noqa: E402

from core import APP_NAME, __version__  # noqa: E402

EXE_NAME = "ai-carbon-ledger"
#: the DejaVu faces the app registers (regular, bold, italics and the monospace face)
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
)
#: where Linux distributions and a downloaded DejaVu release keep those files
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/dejavu-sans-fonts",  # Fedora
    "/usr/share/fonts/dejavu-sans-mono-fonts",
    "/usr/share/fonts/TTF",  # Arch
    "/usr/share/fonts/dejavu",
)
#: the licence text that must travel with the fonts
FONT_LICENCES = (
    "LICENSE",
    "/usr/share/doc/fonts-dejavu-core/copyright",
    "/usr/share/licenses/dejavu-sans-fonts/LICENSE",
    "/usr/share/licenses/ttf-dejavu/LICENSE",
)


class BuildError(Exception):
    """A step of the build failed; the message says what to do."""


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine().lower()}"


def find_font(name: str, dirs: list[Path]) -> Path:
    for d in dirs:
        for candidate in (d / name, *d.glob(f"**/{name}")):
            if candidate.is_file():
                return candidate
    raise BuildError(
        f"font {name} not found in {', '.join(map(str, dirs))}. On Debian or Ubuntu "
        "install fonts-dejavu-core; elsewhere download the DejaVu fonts release "
        "(dejavu-fonts-ttf-2.37.zip), unpack it and pass --fonts-dir DIR."
    )


def stage_fonts(target: Path, fonts_dir: Path | None) -> list[Path]:
    """Copy :data:`FONT_FILES` and the DejaVu licence into ``target``."""
    dirs = [fonts_dir] if fonts_dir else [Path(d) for d in FONT_DIRS]
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in FONT_FILES:
        copied.append(Path(shutil.copy2(find_font(name, dirs), target / name)))
    licence_candidates = [(fonts_dir or Path("/nonexistent")) / "LICENSE"]
    licence_candidates += [(fonts_dir or Path("/nonexistent")).parent / "LICENSE"]
    licence_candidates += [Path(p) for p in FONT_LICENCES if p.startswith("/")]
    licence = next((p for p in licence_candidates if p.is_file()), None)
    if licence is None:
        raise BuildError(
            "the DejaVu fonts licence was not found; it must ship with the fonts. Pass "
            "--fonts-dir pointing at an unpacked DejaVu release (it has LICENSE beside ttf/)."
        )
    shutil.copy2(licence, target / "LICENSE-DejaVu.txt")
    return copied


def directory_size(path: Path) -> int:
    """Bytes in every file under ``path`` (links not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def fill_template(source: Path, target: Path, **values: str) -> None:
    text = source.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def add_linux_integration(bundle: Path, stage: Path) -> None:
    """``share/`` (applications, mime/packages, icons/hicolor) and the install scripts."""
    linux = PACKAGING / "linux"
    share = bundle / "share"
    if share.exists():
        shutil.rmtree(share)
    fill_template(
        linux / f"{EXE_NAME}.desktop",
        share / "applications" / f"{EXE_NAME}.desktop",
        VERSION=__version__,
    )
    (share / "mime" / "packages").mkdir(parents=True)
    shutil.copy2(linux / f"{EXE_NAME}.xml", share / "mime" / "packages" / f"{EXE_NAME}.xml")
    shutil.copytree(stage / "icons" / "hicolor", share / "icons" / "hicolor")
    for script in ("install.sh", "uninstall.sh"):
        target = bundle / script
        shutil.copy2(linux / script, target)
        target.chmod(0o755)


def run_pyinstaller(dist: Path, work: Path, stage: Path, trim: bool) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise BuildError('PyInstaller is not installed: pip install -e ".[packaging]"') from None
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(PACKAGING / f"{EXE_NAME}.spec"),
        "--",
        "--stage",
        str(stage),
    ]
    if not trim:
        command.append("--no-trim")
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode:
        raise BuildError(f"PyInstaller failed (exit code {result.returncode}); see above.")


def make_archive(bundle: Path, dist: Path) -> Path:
    base = dist / f"{EXE_NAME}-{__version__}-{platform_tag()}"
    fmt = "zip" if sys.platform == "win32" else "gztar"
    root = bundle.parent
    name = bundle.name
    if sys.platform == "darwin" and (dist / f"{APP_NAME}.app").exists():
        name = f"{APP_NAME}.app"  # the .app is what a Mac user drags to Applications
    return Path(shutil.make_archive(str(base), fmt, root_dir=root, base_dir=name))


def run_inno_setup(bundle: Path, dist: Path) -> Path | None:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if not iscc:
        print("Inno Setup (iscc) not on PATH: no Windows installer built.")
        return None
    command = [
        iscc,
        f"/DAppVersion={__version__}",
        f"/DBundleDir={bundle}",
        f"/DIconFile={dist.parent / 'build' / 'stage' / 'icons' / (EXE_NAME + '.ico')}",
        f"/O{dist}",
        str(PACKAGING / "windows" / f"{EXE_NAME}.iss"),
    ]
    if subprocess.run(command).returncode:
        raise BuildError("Inno Setup failed; see above.")
    return dist / f"{EXE_NAME}-{__version__}-setup.exe"


def build(args: argparse.Namespace) -> dict[str, object]:
    dist, work = args.dist.resolve(), args.build.resolve()
    stage = work / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    started = time.perf_counter()
    print(f"Building {APP_NAME} {__version__} for {platform_tag()} (trim: {not args.no_trim})")
    icons.render_all(stage / "icons")
    fonts = stage_fonts(stage / "fonts", args.fonts_dir)
    print(f"  icons rendered from {icons.SVG.relative_to(ROOT)}; {len(fonts)} fonts staged")
    run_pyinstaller(dist, work / "pyinstaller", stage, trim=not args.no_trim)
    bundle = dist / EXE_NAME
    if sys.platform.startswith("linux"):
        add_linux_integration(bundle, stage)
    bundle_seconds = time.perf_counter() - started
    report: dict[str, object] = {
        "app": APP_NAME,
        "version": __version__,
        "platform": platform_tag(),
        "trimmed": not args.no_trim,
        "bundle": str(bundle),
        "bundle_bytes": directory_size(bundle),
        "bundle_files": sum(1 for p in bundle.rglob("*") if p.is_file()),
        "build_seconds": round(bundle_seconds, 1),
    }
    if not args.no_archive:
        archive = make_archive(bundle, dist)
        report["archive"] = str(archive)
        report["archive_bytes"] = archive.stat().st_size
    if sys.platform == "win32" and not args.no_archive:
        installer = run_inno_setup(bundle, dist)
        if installer:
            report["installer"] = str(installer)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    (dist / "build-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    mib = 1024 * 1024
    print(
        f"Bundle:  {bundle}  {report['bundle_bytes'] / mib:.1f} MiB in "
        f"{report['bundle_files']:,} files, built in {report['build_seconds']} s"
    )
    if "archive" in report:
        print(f"Archive: {report['archive']}  {int(report['archive_bytes']) / mib:.1f} MiB")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-trim", action="store_true", help="keep every Qt module and plugin")
    parser.add_argument("--no-archive", action="store_true", help="skip the archive/installer")
    parser.add_argument("--fonts-dir", type=Path, help="folder holding the DejaVu .ttf files")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--build", type=Path, default=ROOT / "build", help="work folder")
    args = parser.parse_args(argv)
    try:
        build(args)
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
