"""A quick look at a loop network between checkpoints: onset periodicity and peakiness of a few loops.

Run: ``.venv/bin/python bench/loop_probe.py CHECKPOINT [CHECKPOINT ...] [--threads 2]``. Per checkpoint, two
seeds of house at 124, hip-hop at 90, drum and bass at 172 and trap at 140 BPM, one bar each, at the
network's default sampler, steps and guidance; prints the medians of the eight loops (``loops.rhythm``).
About 20 s a checkpoint on two cores. ``ddbridge eval --loops`` is the full judgement; this is the trend.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ddbridge.diffusion.loop_task import generate_loop
from ddbridge.loops import rhythm
from ddbridge.model.checkpoints import load_model

PROBES = (("house", 124), ("hiphop", 90), ("dnb", 172), ("trap", 140))
SEEDS = (1, 2)


def probe(checkpoint: str) -> tuple[float, float]:
    """The median onset periodicity and peakiness of the probe loops of ``checkpoint``."""
    bundle = load_model(checkpoint)
    rate, periodicity, peakiness = bundle.sample_rate, [], []
    for genre, bpm in PROBES:
        for loop in generate_loop(bundle, len(SEEDS), bpm=bpm, bars=1, genre=genre, seeds=list(SEEDS))[:, 0].numpy():
            periodicity.append(rhythm.periodicity(loop, rate, bpm))
            peakiness.append(rhythm.peakiness(loop, rate))
    return float(np.median(periodicity)), float(np.median(peakiness))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("checkpoint | periodicity | peakiness")
    for checkpoint in args.checkpoints:
        periodicity, peakiness = probe(checkpoint)
        print(f"{checkpoint} | {periodicity:.2f} | {peakiness:.2f}", flush=True)


if __name__ == "__main__":
    main()
