#!/usr/bin/env bash
# Set up ddbridge in ./.venv (idempotent). With --test, also the test tools and the system
# packages the tests drive for real (JACK, PortAudio, Lua 5.4, Node.js with npm, Chromium and its driver,
# fluidsynth with the Csound SoundFont and Sonic Pi's samples for `ddbridge data build` and `data loops`,
# Hydrogen's h2cli for the held-out loops, libsndfile's sndfile-info to read loop chunks as a host does).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

apt_install() {
    command -v apt-get >/dev/null || { echo "setup: apt-get not found; install $* yourself" >&2; return 0; }
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    ((${#missing[@]})) || return 0
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

PY=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
pip() { .venv/bin/python -m pip "$@"; }
pip install -q --upgrade pip >/dev/null
# The CPU build of torch; a CUDA machine can install its own build first.
.venv/bin/python -c "import torch" 2>/dev/null || pip install -q "torch==2.13.0"
if ((want_test)); then
    apt_install libportaudio2 jackd2 lua5.4 chromium chromium-driver fluidsynth csound-soundfont sonic-pi-samples ardour xvfb \
        hydrogen sndfile-programs
    # Node.js and npm from Debian only where none is installed: Debian's npm conflicts with other Node builds.
    command -v node >/dev/null || apt_install nodejs
    command -v npm >/dev/null || apt_install npm
    pip install -q -e ".[test]"
    # esbuild, pinned in max_for_live/package-lock.json: the tests check the device's bundled script
    (cd max_for_live && npm ci --no-audit --no-fund --loglevel=error)
else
    apt_install libportaudio2
    pip install -q -e .
fi
