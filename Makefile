# FrontDesk: `make demo` and `make test` work from a fresh clone on a bare machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGE_STAMP := $(VENV)/.installed-package
DEBIAN_PACKAGES := postgresql fonts-noto-cjk xvfb xauth libxcb-cursor0 libegl1 libgl1 \
	libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-icccm4 \
	libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-image0 \
	libxcb-render-util0 libxcb-xkb1
RUNS ?= 2000
JOBS ?= 3

.PHONY: demo test lint bench faults package package-test system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Debian packages the suite needs (PostgreSQL, a CJK font, Xvfb and Qt's X libraries).
system-deps:
	@bash installers/system-deps.sh $(DEBIAN_PACKAGES)

demo: $(STAMP)
	$(BIN)/frontdesk demo

lint: $(STAMP)
	$(BIN)/ruff check frontdesk frontdesk_cloud tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) system-deps lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

faults: $(STAMP) system-deps
	$(BIN)/python -m tests.faults --runs $(RUNS) --jobs $(JOBS)

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[package]"
	touch $(PACKAGE_STAMP)

# The frozen desk app in dist/frontdesk/ (PyInstaller, one folder; installers/frontdesk.spec),
# and on Linux its tarball and .deb (installers/linux/build.sh). About 3 minutes.
package: $(PACKAGE_STAMP) system-deps
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller installers/frontdesk.spec
	@if [ "$$(uname -s)" = Linux ]; then bash installers/linux/build.sh; fi

# Smoke test of the frozen desk against a cloud run from the source tree (about a minute).
# Not part of `make test`: it needs `make package` first (README, "Install").
package-test: $(STAMP)
	@bash installers/system-deps.sh $(DEBIAN_PACKAGES) gnome-keyring dbus-daemon
	$(BIN)/python installers/smoke_test.py dist/frontdesk

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
