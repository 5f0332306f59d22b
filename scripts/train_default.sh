#!/usr/bin/env bash
# Train, or continue training, the default drum model: 44.1 kHz mono, 16-band PQMF, mu-law 1023.
#
#   bash scripts/train_default.sh [STEPS [TRAIN OPTIONS]]   # default STEPS: 60000 in all
#
# TRAIN OPTIONS go to `ddbridge train` as they are, e.g. `--lr 1e-4` or `--category-weights clap=3`
# to change a resumed run (see `ddbridge train --help`: what may change when resuming).
# Builds its data on first use into $DATA (real drums from Debian packages: `ddbridge data build`,
# plus procedural ones: `ddbridge synth`). Resumable: run it again and it continues from the newest
# checkpoint in $RUN, else from the one kept in the repository (training/default2.ckpt), else from
# scratch. $RUN defaults to runs/default2, or $OUT/default2 when OUT is set (a lent GPU machine).
# `bash scripts/train_default.sh keep` stores the newest checkpoint, slimmed to its EMA weights, as
# training/default2.ckpt (half precision, about 8 MB) for the next machine.
# `bash scripts/train_default.sh ship` exports the newest checkpoint as the bundled default model.
# `bash scripts/train_default.sh flac` packs the real hits small enough to carry to a GPU machine.
# THREADS (default 2) sets torch's threads: use 1 while other work shares the two cores, where
# two threads wait on each other at every operation (measured: 0.09 against 1.04 steps/s).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
RUN=${RUN:-${OUT:+$OUT/default2}}
RUN=${RUN:-runs/default2}
DATA=${DATA:-data/default2}
KEPT=training/default2.ckpt
SHIPPED=ddbridge/assets/default
SYNTH_PER_CATEGORY=${SYNTH_PER_CATEGORY:-250}
# This recipe's nine categories (the 808, added later, is not one of them: a resumed run keeps its classes).
CATEGORIES=(kick snare hat_closed hat_open clap tom perc bass pluck)
ddbridge() { "$PY" -m ddbridge "$@"; }

newest() { ls "$RUN"/checkpoints/step_*.ckpt 2>/dev/null | sort | tail -n 1; }

if [[ "${1:-}" == "keep" ]]; then
    ckpt=$(newest)
    [[ -n "$ckpt" ]] || { echo "no checkpoint in $RUN/checkpoints" >&2; exit 1; }
    rm -f "$KEPT.new"
    ddbridge train --slim "$ckpt" "$KEPT.new"
    mv "$KEPT.new" "$KEPT"
    echo "kept $ckpt as $KEPT (EMA weights and run settings; resuming warms the optimizer up again)"
    exit 0
fi
if [[ "${1:-}" == "ship" ]]; then
    # The newest checkpoint's EMA weights become the bundled default model (ddbridge/assets/default).
    ckpt=$(newest)
    [[ -n "$ckpt" ]] || ckpt=$KEPT
    rm -rf "$SHIPPED.new"
    ddbridge train --export-only "$ckpt" "$SHIPPED.new" --name default
    "$PY" - "$SHIPPED.new/model.json" <<'EOF'
import json
import sys

path = sys.argv[1]
with open(path) as f:
    model = json.load(f)
training = model["info"]["training"]
# This machine's paths mean nothing to a user: say what the data and the starting point were.
training["data"] = (
    "scripts/train_default.sh: `ddbridge data build` (permissive real hits from Debian packages, see NOTICE) "
    "and 250 `ddbridge synth` hits per category, augmented and category-balanced (bench/RESULTS.md: the weights by stage)"
)
if training.get("init"):
    training["init"] = "an earlier stage of the same recipe (bench/RESULTS.md, second-generation default model)"
with open(path, "w") as f:
    json.dump(model, f, indent=2)
EOF
    rm -rf "$SHIPPED.old"
    if [[ -d "$SHIPPED" ]]; then mv "$SHIPPED" "$SHIPPED.old"; fi
    mv "$SHIPPED.new" "$SHIPPED"
    rm -rf "$SHIPPED.old"
    echo "shipped $ckpt as $SHIPPED ($(du -sh "$SHIPPED" | cut -f1))"
    exit 0
fi
if [[ "${1:-}" == "flac" ]]; then
    # The real hits as 16-bit FLAC (about 17 MB): small enough to carry to a machine without the
    # Debian packages, where `DATA=data/device bash scripts/train_default.sh` then adds the synth hits.
    rm -rf data/device/real.tmp && mkdir -p data/device/real.tmp
    "$PY" - "$DATA/real" data/device/real.tmp <<'EOF'
import pathlib
import sys

import soundfile as sf

source, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(source.rglob("*.wav")):
    audio, rate = sf.read(path, dtype="float32")
    out = target / path.relative_to(source).with_suffix(".flac")
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, audio, rate, subtype="PCM_16")
EOF
    cp "$DATA/real/NOTICE" "$DATA/real/manifest.csv" data/device/real.tmp/
    rm -rf data/device/real && mv data/device/real.tmp data/device/real
    echo "wrote data/device/real ($(du -sh data/device/real | cut -f1)); carry data/device"
    exit 0
fi
STEPS=${1:-60000}
shift $(( $# > 0 ? 1 : 0 ))
if [[ ! "$STEPS" =~ ^[0-9]+$ ]]; then
    echo "usage: bash scripts/train_default.sh [STEPS [TRAIN OPTIONS]]: STEPS must be a number, got '$STEPS'" >&2
    exit 2
fi

# The data: one folder per category, real and procedural hits side by side (links, no copies).
if [[ ! -d "$DATA/mix" ]]; then
    [[ -d "$DATA/real" ]] || ddbridge data build --out "$DATA/real"
    [[ -d "$DATA/synth" ]] || ddbridge synth --out "$DATA/synth" --per-category "$SYNTH_PER_CATEGORY" \
        --sample-rate 44100 --seconds 1.0 --seed 100000 --categories "${CATEGORIES[@]}"
    rm -rf "$DATA/mix.tmp"
    for source in real synth; do
        for folder in "$DATA/$source"/*/; do
            category=$(basename "$folder")
            mkdir -p "$DATA/mix.tmp/$category"
            for file in "$folder"*.wav "$folder"*.flac; do
                [[ -e "$file" ]] || continue
                ln -s "$(realpath "$file")" "$DATA/mix.tmp/$category/${source}_$(basename "$file")"
            done
        done
    done
    mv "$DATA/mix.tmp" "$DATA/mix"
fi

run_settings=(--data "$DATA/mix" --out "$RUN" --steps "$STEPS" --threads "${THREADS:-2}" --log-every 50
    --checkpoint-every 250 --keep-checkpoints 3)
if [[ -n "$(newest)" ]]; then
    exec "$PY" -m ddbridge train --resume "${run_settings[@]}" "$@"
elif [[ -f "$KEPT" ]]; then
    exec "$PY" -m ddbridge train --resume "$KEPT" "${run_settings[@]}" "$@"
fi
exec "$PY" -m ddbridge train "${run_settings[@]}" --name default \
    --representation pqmf --bands 16 --mu 1023 --audio-channels 1 --sample-rate 44100 --sample-size 44544 \
    --depth 6 --channels 32,32,64,64,128,128 --attn-layers 2 --band-weights 4,2 \
    --batch-size 8 --lr 3e-4 --lr-warmup 500 --augment --category-weights clap=3 \
    --default-sampler euler-ancestral --default-steps 8 --default-guidance 3 "$@"
