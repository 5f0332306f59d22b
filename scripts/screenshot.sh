#!/usr/bin/env bash
# Regenerate the README's pictures of the page (docs/web-library.png, docs/web-map.png) by driving the
# page in headless Chromium on the bundled model; also prints the page's timings for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/python bench/web_page.py "$@"
