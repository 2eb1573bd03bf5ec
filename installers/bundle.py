"""What the frozen desk bundle must carry besides the modules PyInstaller finds by itself.

Plain data, no PyInstaller import: `frontdesk.spec` builds from it and
tests/packaging/test_spec.py checks it, so a file the app reads at run time cannot be
left out of the bundle unnoticed.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "frontdesk"
MIGRATIONS = ROOT / "frontdesk" / "local_db" / "migrations"

#: Our own files read at run time, as (source folder, folder inside the bundle).
RESOURCE_DIRS = (
    (ROOT / "resources" / "i18n", "resources/i18n"),  # frontdesk/ui/i18n.py
    (ROOT / "resources" / "icons", "resources/icons"),  # window icon, installers
)

#: Packages whose data files are read at run time (collected whole).
DATA_PACKAGES = (
    "pypinyin",  # pinyin_dict.json, phrases_dict.json: member search by pinyin
    "tzdata",  # time zones where the OS has none (Windows): zoneinfo falls back to it
    "certifi",  # CA certificates for https to the cloud (httpx)
)

#: Distributions whose metadata is read at run time: keyring finds its backends through
#: entry points (pitfalls.md), so without its metadata no keyring would ever be found.
METADATA = ("keyring",)

#: Modules imported by name at run time, invisible to PyInstaller's import scan.
SUBMODULE_PACKAGES = ("keyring.backends",)

#: Qt platform plugins shipped: desktops (xcb, wayland, windows, cocoa) and offscreen for
#: checks without a display.
QT_PLATFORMS = ("offscreen", "xcb", "wayland", "windows", "cocoa")
#: Qt plugin folders left out whole: full-screen EGL devices (embedded boards, not desks).
QT_PLUGIN_DIRS_LEFT_OUT = ("egldeviceintegrations",)
#: Qt plugins left out by name: the GTK 3 theme would pull the build machine's GTK stack
#: into the bundle (and clash with the desktop's own); Qt draws its own style without it.
QT_PLUGINS_LEFT_OUT = ("qgtk3",)

#: Never part of the desk: other Qt bindings (PyInstaller refuses two) and the cloud,
#: which the desk reaches over HTTP only.
EXCLUDES = (
    "PyQt5",
    "PyQt6",
    "PySide2",
    "tkinter",
    "frontdesk_cloud",
    "fastapi",
    "uvicorn",
    "psycopg",
    "pytest",
)


def qt_plugin_wanted(path: str) -> bool:
    """Whether a file PyInstaller's Qt hook collects belongs in the bundle (hooks/)."""
    parts = Path(path).parts
    if "plugins" not in parts:
        return True
    folder = parts[parts.index("plugins") + 1] if len(parts) > parts.index("plugins") + 1 else ""
    name = Path(path).stem.removeprefix("lib")
    if folder in QT_PLUGIN_DIRS_LEFT_OUT or name in QT_PLUGINS_LEFT_OUT:
        return False
    if folder == "platforms":
        return name.removeprefix("q") in QT_PLATFORMS
    return True


def migration_files() -> list[tuple[str, str]]:
    """Alembic reads env.py and versions/*.py as files from the package's folder
    (`script_location = frontdesk.local_db:migrations`): ship them as data, not only as
    compiled modules."""
    found = []
    for path in sorted(MIGRATIONS.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".mako"):
            found.append((str(path), str(path.parent.relative_to(ROOT).as_posix())))
    return found


def data_files() -> list[tuple[str, str]]:
    """Our own data files as PyInstaller `datas` entries (source, destination folder)."""
    return [(str(source), target) for source, target in RESOURCE_DIRS] + migration_files()


def version() -> str:
    """frontdesk.__version__, read without importing the package."""
    for line in (ROOT / "frontdesk" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise RuntimeError("frontdesk/__init__.py has no __version__")
