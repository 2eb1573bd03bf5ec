"""PySide6.QtGui as PyInstaller's own hook collects it, less the Qt plugins we do not ship.

Filtering here, before PyInstaller resolves the plugins' shared libraries, keeps those
libraries out too (installers/bundle.py says which plugins and why).
"""

import bundle
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, target) for source, target in binaries if bundle.qt_plugin_wanted(source)]
