#!/bin/sh
# Render the example fleet's report and save its first PDF page as docs/report-page1.png,
# the picture the README shows. Run it again whenever the templates change.
#   scripts/readme-picture.sh
set -eu
cd "$(dirname "$0")/.."
CODEB_REPORT=${CODEB_REPORT:-.venv/bin/codeb-report}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$CODEB_REPORT" render examples/fleet-snapshot.json --config examples/codeb-report.toml \
    --format pdf --out "$tmp" >/dev/null
pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$tmp/report.pdf" "$tmp/page1"
mkdir -p docs
mv "$tmp/page1.png" docs/report-page1.png
echo docs/report-page1.png
