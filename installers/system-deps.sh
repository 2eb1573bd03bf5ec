#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when missing.
# As root it uses apt-get; otherwise it says what to install and carries on.
set -euo pipefail
missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
# PostgreSQL may also come from elsewhere (a server binary on PATH is enough).
if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    missing=("${missing[@]/postgresql}")
fi
read -r -a missing <<< "${missing[*]:-}"
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "Missing Debian packages (tests that need them are skipped): ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
fi
