#!/usr/bin/env bash
# Set up ddbridge and generate four kicks with the bundled default model into ./out/kicks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ddbridge generate --category kick --count 4 --out "$PWD/out/kicks"
