#!/usr/bin/env bash
# macOS disk image of the frozen desk: dist/FrontDesk-VERSION.dmg holding FrontDesk.app and
# a link to /Applications. Run on a Mac, from the repository root, after the frozen build
# (`make package` there builds dist/FrontDesk.app through BUNDLE in installers/frontdesk.spec).
#
# With SIGN_IDENTITY set (a "Developer ID Application: ..." certificate in the keychain) the
# app is signed with the hardened runtime before it goes into the image, and the image is
# signed too. With NOTARY_PROFILE set as well (a profile saved by
# `xcrun notarytool store-credentials`), the image is notarized and the ticket stapled, so
# Gatekeeper opens it offline. installers/README.md has the one-time set-up.
set -euo pipefail
cd "$(dirname "$0")/../.."
APP=dist/FrontDesk.app
ENTITLEMENTS=installers/macos/entitlements.plist
if [ ! -d "$APP" ]; then
    echo "no $APP: run \`make package\` on this Mac first" >&2
    exit 1
fi
VERSION=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$APP/Contents/Info.plist")
DMG="dist/FrontDesk-$VERSION.dmg"

if [ -n "${SIGN_IDENTITY:-}" ]; then
    # Inside out: every library and executable, then the app. --deep is deprecated for
    # signing; find covers Contents/Frameworks and Contents/Resources.
    find "$APP/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
        xargs -0 codesign --force --timestamp --options runtime \
            --entitlements "$ENTITLEMENTS" --sign "$SIGN_IDENTITY"
    codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
        --sign "$SIGN_IDENTITY" "$APP"
    codesign --verify --strict --verbose=2 "$APP"
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "FrontDesk $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO \
    -imagekey zlib-level=9 "$DMG"

if [ -n "${SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$SIGN_IDENTITY" "$DMG"
    if [ -n "${NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
        spctl --assess --type open --context context:primary-signature --verbose "$DMG"
    fi
fi
echo "built $DMG"
