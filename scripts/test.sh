#!/usr/bin/env bash
# Set up ddbridge with its test tools, start a dummy JACK server, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

jack_pid=""
cleanup() { [[ -n "$jack_pid" ]] && kill "$jack_pid" 2>/dev/null || true; }
trap cleanup EXIT
if ! jack_lsp >/dev/null 2>&1; then
    jackd --no-realtime -d dummy -r 48000 -p 512 >/tmp/ddbridge-jackd.log 2>&1 &
    jack_pid=$!
    for _ in $(seq 50); do jack_lsp >/dev/null 2>&1 && break; sleep 0.2; done
fi

.venv/bin/ruff check ddbridge tests bench
.venv/bin/python -m pytest "$@"
