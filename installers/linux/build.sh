#!/usr/bin/env bash
# Linux packages of the frozen desk in dist/frontdesk (made by `make package`):
#   dist/frontdesk-VERSION-linux-ARCH.tar.gz  always: unpack anywhere, run ./frontdesk
#   dist/frontdesk_VERSION_DEBARCH.deb        when dpkg-deb is here: installs to
#                                             /opt/frontdesk, `frontdesk` on PATH, a menu entry
# The bundle runs on distributions whose glibc is at least the build machine's: build on
# the oldest one you support (installers/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUNDLE=dist/frontdesk
HERE=installers/linux
if [ ! -x "$BUNDLE/frontdesk" ]; then
    echo "no frozen desk in $BUNDLE: run \`make package\` first" >&2
    exit 1
fi
VERSION=$("$BUNDLE/frontdesk" --version | awk '{print $2}')
ARCH=$(uname -m)
STAGE=build/linux
rm -rf "$STAGE"
mkdir -p "$STAGE"

# Tarball: the bundle plus its menu entry and icon, in one versioned folder.
TAR_ROOT="$STAGE/frontdesk-$VERSION"
cp -a "$BUNDLE" "$TAR_ROOT"
cp "$HERE/frontdesk.desktop" resources/icons/frontdesk.png "$TAR_ROOT/"
TARBALL="dist/frontdesk-$VERSION-linux-$ARCH.tar.gz"
tar -C "$STAGE" --owner=0 --group=0 --numeric-owner -czf "$TARBALL" "frontdesk-$VERSION"
echo "built $TARBALL ($(du -h "$TARBALL" | cut -f1))"

if ! command -v dpkg-deb >/dev/null; then
    echo "no dpkg-deb here: .deb not built"
    exit 0
fi
DEBARCH=$(dpkg --print-architecture)
DEB_ROOT="$STAGE/deb"
mkdir -p "$DEB_ROOT/DEBIAN" "$DEB_ROOT/opt" "$DEB_ROOT/usr/bin" \
    "$DEB_ROOT/usr/share/applications" "$DEB_ROOT/usr/share/icons/hicolor/256x256/apps"
cp -a "$BUNDLE" "$DEB_ROOT/opt/frontdesk"
# The bootloader finds _internal/ beside the real executable, through the symlink.
ln -s /opt/frontdesk/frontdesk "$DEB_ROOT/usr/bin/frontdesk"
cp "$HERE/frontdesk.desktop" "$DEB_ROOT/usr/share/applications/"
cp resources/icons/frontdesk.png "$DEB_ROOT/usr/share/icons/hicolor/256x256/apps/"
SIZE_KB=$(du -sk "$DEB_ROOT" | cut -f1)
# The bundled libraries need at least the build machine's C library.
GLIBC=$(ldd --version | head -n1 | awk '{print $NF}')
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$DEBARCH/" -e "s/@SIZE_KB@/$SIZE_KB/" \
    -e "s/@GLIBC@/$GLIBC/" "$HERE/control.in" > "$DEB_ROOT/DEBIAN/control"
DEB="dist/frontdesk_${VERSION}_${DEBARCH}.deb"
# gzip: quick to build and readable by every dpkg (xz would save ~20% for 3x the time).
dpkg-deb --root-owner-group -Zgzip --build "$DEB_ROOT" "$DEB" >/dev/null
echo "built $DEB ($(du -h "$DEB" | cut -f1))"
