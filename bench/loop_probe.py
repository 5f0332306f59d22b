"""A quick look at a loop network between checkpoints: onset periodicity and peakiness of a few loops.

Run: ``.venv/bin/python bench/loop_probe.py CHECKPOINT [CHECKPOINT ...] [--threads 2] [--renoise DATA]``.
Per checkpoint, two seeds of house at 124, hip-hop at 90, drum and bass at 172 and trap at 140 BPM, one
bar each, at the network's default sampler, steps and guidance; prints the medians of the eight loops
(``loops.rhythm``). About 20 s a checkpoint on two cores. ``ddbridge eval --loops`` is the full judgement;
this is the trend.

``--renoise DATA`` (a ``ddbridge data loops`` set) also takes six one-bar house, techno and electro loops of
its validation split, adds noise up to a point of a 24-step schedule and lets the network (dpmpp-2m, guidance
2, its genre) take it back to clean audio: at a small noise level this reads how well the network
renders detail it is all but given, apart from how it composes a loop from nothing.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ddbridge.diffusion.calls import sample, setup_call
from ddbridge.diffusion.loop_task import generate_loop
from ddbridge.diffusion.samplers import noise_sampler_from_seeds
from ddbridge.diffusion.schedule import get_sigmas
from ddbridge.loops import rhythm
from ddbridge.loops.genres import BEATS_PER_BAR, resolve_genre
from ddbridge.model.bundle import ModelBundle
from ddbridge.model.checkpoints import load_model
from ddbridge.sound.audio import fit_length, load_audio
from ddbridge.train.loop_data import LoopRow, read_manifest

PROBES = (("house", 124), ("hiphop", 90), ("dnb", 172), ("trap", 140))
SEEDS = (1, 2)
RENOISE_GENRES, RENOISE_LOOPS, RENOISE_STEPS = ("house", "techno", "electro"), 6, 24
RENOISE_FROM = (0.0, 0.15, 0.3, 0.5)  # the share of the schedule left to run: 0 is the loop as it is


def probe(bundle: ModelBundle) -> tuple[float, float]:
    """The median onset periodicity and peakiness of ``bundle``'s probe loops."""
    rate, periodicity, peakiness = bundle.sample_rate, [], []
    for genre, bpm in PROBES:
        for loop in generate_loop(bundle, len(SEEDS), bpm=bpm, bars=1, genre=genre, seeds=list(SEEDS))[:, 0].numpy():
            periodicity.append(rhythm.periodicity(loop, rate, bpm))
            peakiness.append(rhythm.peakiness(loop, rate))
    return float(np.median(periodicity)), float(np.median(peakiness))


def validation_loops(data: str) -> list[tuple[LoopRow, np.ndarray]]:
    """The re-noise probe's loops of ``data``'s validation split: manifest rows and mono audio ``[1, L]``."""
    rows = [r for r in read_manifest(data, "valid") if r.genre in RENOISE_GENRES and r.bars == 1][:RENOISE_LOOPS]
    return [(row, load_audio(row.path)[0][:1]) for row in rows]


def renoised(bundle: ModelBundle, loops: list[tuple[LoopRow, np.ndarray]], share: float) -> tuple[float, float]:
    """The median periodicity and peakiness of ``loops`` noised to the point of the schedule that leaves ``share``
    of it to run, and denoised by ``bundle`` from there."""
    rep, rate, periodicity, peakiness = bundle.representation, bundle.sample_rate, [], []
    sigmas = get_sigmas(RENOISE_STEPS)[round((1 - share) * RENOISE_STEPS) :]
    for row, exact in loops:
        length = max(1, round(exact.shape[-1] / bundle.stride)) * bundle.stride
        x = rep.encode(torch.from_numpy(fit_length(exact, length, circular=True))[None].float(),
                       rep.frames(length, bundle.net.stride, loop=True), loop=True)  # fmt: skip
        if share > 0:
            call = setup_call(bundle, RENOISE_STEPS, "dpmpp-2m", resolve_genre(row.genre), 2.0, "cpu")
            call.beats = float(row.bars * BEATS_PER_BAR)
            noise = noise_sampler_from_seeds([0], x)
            x = sample(call, call.denoiser, x + noise() * sigmas[0], sigmas, noise, None)
        loop = fit_length(rep.decode(x.float(), length, loop=True)[0].numpy(), exact.shape[-1], circular=True)[0]
        periodicity.append(rhythm.periodicity(loop, rate, float(row.bpm)))
        peakiness.append(rhythm.peakiness(loop, rate))
    return float(np.median(periodicity)), float(np.median(peakiness))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--renoise", metavar="DATA", help="also re-noise DATA's validation loops (see above)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    loops = validation_loops(args.renoise) if args.renoise else []
    print("checkpoint | periodicity | peakiness")
    for checkpoint in args.checkpoints:
        bundle = load_model(checkpoint)
        periodicity, peakiness = probe(bundle)
        print(f"{checkpoint} | {periodicity:.2f} | {peakiness:.2f}", flush=True)
        if loops:
            for share in RENOISE_FROM:
                periodicity, peakiness = renoised(bundle, loops, share)
                print(f"  re-noised, {share:.0%} of the schedule left | {periodicity:.2f} | {peakiness:.2f}")


if __name__ == "__main__":
    main()
