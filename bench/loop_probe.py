"""A quick look at a loop network between checkpoints: onset periodicity and peakiness of a few loops.

Run: ``.venv/bin/python bench/loop_probe.py CHECKPOINT [CHECKPOINT ...] [--threads 2] [--renoise DATA]
[--denoise DATA]``.
Per checkpoint, two seeds of house at 124, hip-hop at 90, drum and bass at 172 and trap at 140 BPM, one
bar each, at the network's default sampler, steps and guidance; prints the medians of the eight loops
(``loops.rhythm``). About 20 s a checkpoint on two cores. ``ddbridge eval --loops`` is the full judgement;
this is the trend.

``--renoise DATA`` (a ``ddbridge data loops`` set) also takes six one-bar house, techno and electro loops of
its validation split, adds noise up to a point of a 24-step schedule and lets the network (dpmpp-2m, guidance
2, its genre) take it back to clean audio, beside the same noise simply left in: where the two read alike,
the network removes none of the noise at that level.

``--denoise DATA`` measures that directly on the same loops: at each noise level, the share of the added
noise (RMS) still in the network's one-step estimate of the clean loop (1: none removed), beside the share
a denoiser that knows each band's local spectrum would leave (a Wiener filter over 32-frame windows per
band: a bound for any denoiser that works on the local spectrum).
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
DENOISE_SIGMAS = (0.038, 0.067, 0.15, 0.3, 1.0)


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


def encoded(bundle: ModelBundle, audio: np.ndarray) -> tuple[torch.Tensor, int]:
    """A loop ``[1, L]`` as the network sees it ``[1, bands, frames]``, and the length it was fitted to."""
    rep = bundle.representation
    length = max(1, round(audio.shape[-1] / bundle.stride)) * bundle.stride
    x = rep.encode(torch.from_numpy(fit_length(audio, length, circular=True))[None].float(),
                   rep.frames(length, bundle.net.stride, loop=True), loop=True)  # fmt: skip
    return x, length


def renoised(
    bundle: ModelBundle, loops: list[tuple[LoopRow, np.ndarray]], share: float, denoise: bool = True
) -> tuple[float, float]:
    """The median periodicity and peakiness of ``loops`` noised to the point of the schedule that leaves ``share``
    of it to run, and denoised by ``bundle`` from there (or, with ``denoise`` False, with the noise left in)."""
    rep, rate, periodicity, peakiness = bundle.representation, bundle.sample_rate, [], []
    sigmas = get_sigmas(RENOISE_STEPS)[round((1 - share) * RENOISE_STEPS) :]
    for row, exact in loops:
        x, length = encoded(bundle, exact)
        if share > 0:
            noise = noise_sampler_from_seeds([0], x)
            x = x + noise() * sigmas[0]
            if denoise:
                call = setup_call(bundle, RENOISE_STEPS, "dpmpp-2m", resolve_genre(row.genre), 2.0, "cpu")
                call.beats = float(row.bars * BEATS_PER_BAR)
                x = sample(call, call.denoiser, x, sigmas, noise, None)
        loop = fit_length(rep.decode(x.float(), length, loop=True)[0].numpy(), exact.shape[-1], circular=True)[0]
        periodicity.append(rhythm.periodicity(loop, rate, float(row.bpm)))
        peakiness.append(rhythm.peakiness(loop, rate))
    return float(np.median(periodicity)), float(np.median(peakiness))


def local_wiener_share(x: np.ndarray, sigma: float, window: int = 32) -> float:
    """The share (RMS) of white noise ``sigma`` that a Wiener filter knowing the clean signal's local spectrum
    leaves in ``x`` ``[bands, frames]`` (Hann windows of ``window`` frames at half overlap, per band)."""
    w = np.hanning(window)
    starts = (window // 2) * np.arange((x.shape[-1] - window) // (window // 2))
    power = np.abs(np.fft.rfft(x[:, starts[:, None] + np.arange(window)] * w, axis=-1)) ** 2
    noise = sigma**2 * float((w**2).sum())
    return float(np.sqrt(np.mean(power * noise / (power + noise)) / noise))


@torch.no_grad()
def denoised_shares(bundle: ModelBundle, loops: list[tuple[LoopRow, np.ndarray]], sigma: float) -> tuple[float, float]:
    """The median share (RMS) of noise ``sigma`` left in the network's one-step estimate of ``loops``, and in
    ``local_wiener_share``'s."""
    network, bound = [], []
    gen = torch.Generator().manual_seed(0)
    for row, exact in loops:
        x, _ = encoded(bundle, exact)
        call = setup_call(bundle, 1, "dpmpp-2m", resolve_genre(row.genre), 2.0, "cpu")
        call.beats = float(row.bars * BEATS_PER_BAR)
        noise = torch.randn(x.shape, generator=gen) * sigma
        estimate = call.denoiser(x + noise, torch.tensor(sigma), **call.extra_args(1))
        network.append(float((estimate - x).pow(2).mean().sqrt() / noise.pow(2).mean().sqrt()))
        bound.append(local_wiener_share(x[0].numpy(), sigma))
    return float(np.median(network)), float(np.median(bound))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--renoise", metavar="DATA", help="also re-noise DATA's validation loops (see above)")
    parser.add_argument("--denoise", metavar="DATA", help="also measure the noise left at each level (see above)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    renoise = validation_loops(args.renoise) if args.renoise else []
    denoise = validation_loops(args.denoise) if args.denoise else []
    for checkpoint in args.checkpoints:
        bundle = load_model(checkpoint)
        periodicity, peakiness = probe(bundle)
        print(f"{checkpoint}: probe loops: periodicity {periodicity:.2f}, peakiness {peakiness:.2f}", flush=True)
        if renoise:
            print("  share of the schedule left | denoised: periodicity / peakiness | noise left in")
        for share in RENOISE_FROM if renoise else ():
            (p, k), (p0, k0) = renoised(bundle, renoise, share), renoised(bundle, renoise, share, denoise=False)
            print(f"  {share:>4.0%} | {p:.2f} / {k:.2f} | {p0:.2f} / {k0:.2f}", flush=True)
        if denoise:
            print("  sigma | noise left by the network | by a local Wiener filter")
        for sigma in DENOISE_SIGMAS if denoise else ():
            network, bound = denoised_shares(bundle, denoise, sigma)
            print(f"  {sigma:g} | {network:.2f} | {bound:.2f}", flush=True)


if __name__ == "__main__":
    main()
