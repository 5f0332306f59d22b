#!/usr/bin/env bash
# Train, or continue training, the default loop network: drum loops by genre at any tempo, 44.1 kHz mono,
# 32-band PQMF, mu-law 1023 (band 0: 15), padded circularly and conditioned on genre and the beat grid.
#
#   bash scripts/train_loops.sh [STEPS [TRAIN OPTIONS]]   # default STEPS: 40000 in all
#
# Builds its data on first use into $DATA (`ddbridge data loops`: permissive material only). Resumable:
# run it again and it continues from the newest checkpoint in $RUN, else from the one kept in the
# repository (training/loops.ckpt), else from scratch. $RUN defaults to runs/loops, or $OUT/loops when OUT
# is set (a lent GPU machine). TRAIN OPTIONS go to `ddbridge train` as they are.
# `bash scripts/train_loops.sh keep` stores the newest checkpoint, slimmed to its EMA weights, as
# training/loops.ckpt for the next machine; `bash scripts/train_loops.sh ship` exports it as the bundled
# loop network (ddbridge/assets/default-loops) and makes the default model carry it (its `loop_model`).
# THREADS (default 2) sets torch's threads; SHIPPED and ONE_SHOT name other folders to ship into.
# The kept network trained with a 32-channel outermost level (one channel per band) to step 12,195 and
# was then widened to 64 (`ddbridge train --widen-outer 2`, same output); a fresh run starts at 64. It
# companded band 0 at mu 1023 to step 17,862 and at 15 after (`--band-mu 15`, lr 1e-4); a fresh run uses 15.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
RUN=${RUN:-${OUT:+$OUT/loops}}
RUN=${RUN:-runs/loops}
DATA=${DATA:-data/loops}
KEPT=training/loops.ckpt
SHIPPED=${SHIPPED:-ddbridge/assets/default-loops}
ONE_SHOT=${ONE_SHOT:-ddbridge/assets/default}
ddbridge() { "$PY" -m ddbridge "$@"; }
newest() { ls "$RUN"/checkpoints/step_*.ckpt 2>/dev/null | sort | tail -n 1; }

case "${1:-}" in
keep)
    ckpt=$(newest)
    [[ -n "$ckpt" ]] || { echo "no checkpoint in $RUN/checkpoints" >&2; exit 1; }
    ddbridge train --slim "$ckpt" "$KEPT.new" && mv "$KEPT.new" "$KEPT"
    echo "kept $ckpt as $KEPT"
    exit 0 ;;
ship)
    ckpt=${2:-$(newest)}
    [[ -n "$ckpt" ]] || ckpt=$KEPT
    rm -rf "$SHIPPED.new"
    ddbridge train --export-only "$ckpt" "$SHIPPED.new" --name default-loops
    rm -rf "$SHIPPED" && mv "$SHIPPED.new" "$SHIPPED"
    "$PY" - "$ONE_SHOT/model.json" "../$(basename "$SHIPPED")" <<'EOF'
import json
import sys

path, loop_model = sys.argv[1:]
with open(path) as f:
    model = json.load(f)
model["info"]["loop_model"] = loop_model  # a path beside the model's own folder
with open(path, "w") as f:
    json.dump(model, f, indent=2)
EOF
    echo "shipped $ckpt as $SHIPPED ($(du -sh "$SHIPPED" | cut -f1)); $ONE_SHOT makes its loops with it"
    exit 0 ;;
esac
STEPS=${1:-40000}
shift $(( $# > 0 ? 1 : 0 ))
if [[ ! "$STEPS" =~ ^[0-9]+$ ]]; then
    echo "usage: bash scripts/train_loops.sh [STEPS [TRAIN OPTIONS]]: STEPS must be a number, got '$STEPS'" >&2
    exit 2
fi
[[ -f "$DATA/manifest.csv" ]] || ddbridge data loops --out "$DATA"

run_settings=(--data "$DATA" --out "$RUN" --steps "$STEPS" --threads "${THREADS:-2}" --log-every 50
    --checkpoint-every 250 --keep-checkpoints 3)
if [[ -n "$(newest)" ]]; then
    exec "$PY" -m ddbridge train --resume "${run_settings[@]}" "$@"
elif [[ -f "$KEPT" ]]; then
    exec "$PY" -m ddbridge train --resume "$KEPT" "${run_settings[@]}" "$@"
fi
exec "$PY" -m ddbridge train "${run_settings[@]}" --loops --name default-loops \
    --representation pqmf --bands 32 --mu 1023 --band-mu 15 --audio-channels 1 --sample-rate 44100 \
    --depth 7 --channels 64,48,64,96,128,160,192 --attn-layers 2 --band-weights 3,2 \
    --batch-size 8 --lr 3e-4 --lr-warmup 500 \
    --default-sampler euler-ancestral --default-steps 8 --default-guidance 2 "$@"
