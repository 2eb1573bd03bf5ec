"""The frozen build's spec bundles what the desk reads at run time (fast: builds nothing).

`make package-test` runs the real bundle; this catches a file the app needs but the spec
forgets (a new migration folder, a translation, keyring's entry points) in `make test`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import frontdesk
from frontdesk.local_db import migrate
from frontdesk.ui import i18n, resources

ROOT = Path(__file__).resolve().parents[2]
INSTALLERS = ROOT / "installers"


def _bundle() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle", INSTALLERS / "bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle = _bundle()
SPEC = (INSTALLERS / "frontdesk.spec").read_text(encoding="utf-8")


def _bundled() -> dict[Path, str]:
    """Every file of ours in the bundle: source file -> its folder inside the bundle."""
    files: dict[Path, str] = {}
    for source, target in bundle.data_files():
        path = Path(source)
        if path.is_dir():
            for inner in path.rglob("*"):
                if inner.is_file():
                    files[inner] = str(Path(target, inner.parent.relative_to(path)).as_posix())
        else:
            files[path] = target
    return files


def test_every_migration_script_is_bundled_where_alembic_looks() -> None:
    # Alembic resolves the package path to a folder and reads env.py and versions/*.py
    # there as files: each must sit in the bundle at its package path.
    assert migrate._config().get_main_option("script_location") == "frontdesk.local_db:migrations"
    scripts = [p for p in bundle.MIGRATIONS.rglob("*.py") if "__pycache__" not in p.parts]
    head = [p for p in scripts if p.name.startswith(f"{migrate.SCHEMA_HEAD}_")]
    assert head, f"no script for the schema head {migrate.SCHEMA_HEAD}"
    files = _bundled()
    for script in [*scripts, bundle.MIGRATIONS / "script.py.mako"]:
        assert files.get(script) == script.parent.relative_to(ROOT).as_posix(), script


def test_translations_and_icon_are_where_the_frozen_app_looks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    frozen_resources = resources.resources_dir()
    assert frozen_resources == tmp_path / "resources"
    in_bundle = {tmp_path / folder / path.name for path, folder in _bundled().items()}
    for language in i18n.LANGUAGES:
        if language != "en":
            assert frozen_resources / "i18n" / f"{language}.json" in in_bundle, language
    assert resources.icon_path() in in_bundle


def test_source_resources_exist() -> None:
    assert (resources.resources_dir() / "i18n" / "zh_CN.json").is_file()
    for name in ("frontdesk.png", "frontdesk.ico", "frontdesk.icns"):
        assert (ROOT / "resources" / "icons" / name).is_file(), name


def test_keyring_backends_and_their_entry_points_are_bundled() -> None:
    # keyring discovers backends through entry points: metadata and modules both.
    assert "keyring" in bundle.METADATA
    assert "keyring.backends" in bundle.SUBMODULE_PACKAGES
    assert "copy_metadata(distribution)" in SPEC and "bundle.METADATA" in SPEC
    assert "collect_submodules(package)" in SPEC and "bundle.SUBMODULE_PACKAGES" in SPEC


@pytest.mark.parametrize("package", ["pypinyin", "tzdata", "certifi"])
def test_data_packages_are_collected_and_installed(package: str) -> None:
    assert package in bundle.DATA_PACKAGES
    assert importlib.util.find_spec(package) is not None
    assert "collect_data_files(package)" in SPEC


def test_one_folder_without_the_cloud() -> None:
    # One-file is slow to start, flagged by antivirus, deprecated on macOS (pitfalls.md).
    assert "exclude_binaries=True" in SPEC and "COLLECT(" in SPEC
    assert "frontdesk_cloud" in bundle.EXCLUDES  # the desk reaches the cloud over HTTP only


@pytest.mark.parametrize(
    ("path", "shipped"),
    [
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),  # package-test, no display
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/plugins/platforms/qwindows.dll", True),
        ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", True),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),  # would bundle GTK
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
        ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so", False),
        ("PySide6/Qt/plugins/imageformats/libqico.so", True),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ],
)
def test_qt_plugins_shipped(path: str, shipped: bool) -> None:
    assert bundle.qt_plugin_wanted(path) is shipped


def test_the_qt_hook_that_filters_plugins_is_used() -> None:
    hook = INSTALLERS / "hooks" / "hook-PySide6.QtGui.py"
    assert "bundle.qt_plugin_wanted" in hook.read_text(encoding="utf-8")
    assert 'hookspath=[str(Path(SPECPATH) / "hooks")]' in SPEC


def test_version_comes_from_the_package() -> None:
    assert bundle.version() == frontdesk.__version__
    assert "bundle.version()" in SPEC


def test_installers_start_the_executables_the_spec_builds() -> None:
    iss = (INSTALLERS / "windows" / "frontdesk.iss").read_text(encoding="utf-8")
    assert f"{bundle.NAME}w.exe" in iss and 'bundle.NAME + "w"' in SPEC
    desktop = (INSTALLERS / "linux" / "frontdesk.desktop").read_text(encoding="utf-8")
    assert f"Exec={bundle.NAME}" in desktop
    dmg = (INSTALLERS / "macos" / "build-dmg.sh").read_text(encoding="utf-8")
    assert "FrontDesk.app" in dmg and 'name="FrontDesk.app"' in SPEC
