#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# screenshots.sh: makes the README's two pictures from a real run of the model (seeded, so that
# they come out the same each time): docs/screenshot-session.png, headless Chromium's view of
# `simple-cache run --html` over docs/pictures.txt, and docs/screenshot-slabs.png, its view of
# `simple-cache slabs --svg` after the same script. `make screenshots` runs it.

set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kcs-screenshots.XXXXXX)
trap 'rm -rf "$work"' EXIT
dotnet build "$ROOT/tools/cli" -c Release -v q --nologo > "$work/build.log" 2>&1 || { tail -n 20 "$work/build.log"; exit 1; }
CLI=$ROOT/build/dotnet/bin/SimpleCache.Cli/Release/net10.0/simple-cache
shot() {
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
		--window-size="$3" --screenshot="$2" "file://$1" > "$work/chromium.log" 2>&1
}
"$CLI" run --seed 3 --manual-clock --html "$work/session.html" "$ROOT/docs/pictures.txt" > /dev/null
"$CLI" slabs --seed 3 --script "$ROOT/docs/pictures.txt" --svg "$work/slabs.svg" > /dev/null
shot "$work/session.html" "$ROOT/docs/screenshot-session.png" 1150,1250
shot "$work/slabs.svg" "$ROOT/docs/screenshot-slabs.png" 1050,330
echo "docs/screenshot-session.png, docs/screenshot-slabs.png"
