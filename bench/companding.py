"""What the network's errors do to a sound, by where they fall: μ-law strength and PQMF band.

Run: ``.venv/bin/python bench/companding.py --hits data/real [--model default] [--per-category 10]``
(a `ddbridge data build` folder). Encodes real basses, kicks and open hats with the model's
representation at several μ, adds Gaussian noise of a fixed size to the network's signal (the stand-in
for a network's error), decodes, and prints the basses' median periodicity (``sound.pitch``) and the
noise left where the drums have died away (dB re their peak). The same noise in band 0 only, and in
every band but band 0, shows whether pitch is lost to the low band itself or to broken alias
cancellation between neighbouring bands.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from ddbridge.model.checkpoints import load_model
from ddbridge.model.representation import Representation
from ddbridge.sound.audio import load_audio
from ddbridge.sound.pitch import periodicity

MUS = (0.0, 63.0, 255.0, 1023.0)
ERRORS = (0.01, 0.03, 0.1)


def hits(folder: Path, category: str, count: int, length: int) -> torch.Tensor:
    """``count`` hits of ``category`` spread over the folder, mono, padded or cut to ``length``: ``[N, 1, L]``."""
    paths = sorted((folder / category).glob("*.wav"))
    picked = paths[:: max(1, len(paths) // count)][:count]
    out = np.zeros((len(picked), 1, length), dtype=np.float32)
    for row, path in zip(out, picked, strict=True):
        audio = load_audio(path)[0].mean(axis=0)[:length]
        row[0, : len(audio)] = audio
    return torch.from_numpy(out)


def noisy(rep: Representation, audio: torch.Tensor, size: float, bands: slice, seed: int) -> torch.Tensor:
    """``audio`` through ``rep`` with Gaussian noise of std ``size`` on the bands ``bands`` of its signal."""
    frames = rep.frames(audio.shape[-1], 1)
    signal = rep.encode(audio, frames)
    noise = torch.zeros_like(signal)
    noise[:, bands] = torch.randn(signal[:, bands].shape, generator=torch.Generator().manual_seed(seed)) * size
    return rep.decode(signal + noise, audio.shape[-1])


def tail_db(clean: torch.Tensor, decoded: torch.Tensor) -> float:
    """Median RMS of the error where each clean hit is below -60 dB re its peak, in dB re that peak."""
    levels = []
    for a, b in zip(clean[:, 0], decoded[:, 0], strict=True):
        peak = float(a.abs().max())
        quiet = a.abs() < peak * 1e-3
        if int(quiet.sum()) >= 1000:
            levels.append(20 * np.log10(float((b - a)[quiet].pow(2).mean().sqrt()) / peak + 1e-12))
    return float(np.median(levels))


def pitch_clarity(audio: torch.Tensor, rate: int) -> float:
    return float(np.median([periodicity(x[0].numpy(), rate) for x in audio]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=Path, required=True, help="a `ddbridge data build` folder")
    parser.add_argument("--model", default="default", help="whose representation (default: default)")
    parser.add_argument("--per-category", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bundle = load_model(args.model)
    rate, length, config = bundle.sample_rate, bundle.sample_size, bundle.representation.config
    bass, kick, hat = (hits(args.hits, c, args.per_category, length) for c in ("bass", "kick", "hat_open"))
    every = slice(None)
    print(f"{config.describe()}; clean basses: periodicity {pitch_clarity(bass, rate):.2f}")
    print("noise std | μ    | bass periodicity: all bands, band 0 only, bands 1+ | kick, open hat tail (dB)")
    for size in ERRORS:
        for mu in MUS:
            rep = Representation(dataclasses.replace(config, mu=mu))
            clarity = [pitch_clarity(noisy(rep, bass, size, b, 0), rate) for b in (every, slice(0, 1), slice(1, None))]
            tails = [tail_db(x, noisy(rep, x, size, every, 1)) for x in (kick, hat)]
            print(f"{size:9g} | {mu:4g} | {clarity[0]:.2f}, {clarity[1]:.2f}, {clarity[2]:.2f} | "
                  f"{tails[0]:.0f}, {tails[1]:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
