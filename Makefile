# FrontDesk: `make demo` and `make test` work from a fresh clone on a bare machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := postgresql fonts-noto-cjk xvfb xauth libxcb-cursor0 libegl1 libgl1 \
	libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-icccm4 \
	libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-image0 \
	libxcb-render-util0 libxcb-xkb1
RUNS ?= 2000

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
	$(BIN)/python -m tests.faults --runs $(RUNS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
