"""PQMF sub-bands against lossless patches, side by side on the same hits and the same network.

Run: ``.venv/bin/python bench/representation.py --hits data/default2/real [--threads 2]``
(any folder of one-shots, one sub-folder per category). Prints, for each representation:
reconstruction SNR on the hits (median, worst), how far each band's energy strays outside its own
frequency slice (what makes a band a band), the transform's time per 1 s clip and the network's
time per call, and their ratios. The eval side of the comparison is two training runs that differ
only in ``--representation``, scored with ``ddbridge eval --reference``; the README's "Training
your own" section gives the commands and bench/RESULTS.md the figures.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from ddbridge.model.representation import Representation, RepresentationConfig, measure_band_scales
from ddbridge.model.unet import UNetConfig
from ddbridge.train.data import AudioFolder
from ddbridge.train.netinit import new_network, parse_channels

RATE, LENGTH, BANDS = 44100, 44544, 16
KINDS = {
    "pqmf": RepresentationConfig(kind="pqmf", bands=BANDS, taps=32 * BANDS + 1, mu=255.0, lead=16),
    "patch": RepresentationConfig(kind="patch", bands=BANDS, mu=255.0),
}


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    error = float(((estimate - reference) ** 2).sum())
    return float("inf") if error == 0 else 10 * np.log10(float((reference**2).sum()) / error)


def leakage_db(rep: Representation) -> float:
    """Median energy of a band-centred tone found outside its band, re the energy inside (dB)."""
    t = torch.arange(LENGTH, dtype=torch.float64) / RATE  # float32 phase would add a -57 dB noise floor
    ratios = []
    for band in range(BANDS):
        tone = torch.sin(2 * np.pi * (band + 0.5) * RATE / (2 * BANDS) * t).float()[None, None]
        energy = (rep._split(tone, loop=False)[..., 64:-64] ** 2).mean(dim=-1)[0]  # away from the edges
        ratios.append(float(energy[torch.arange(BANDS) != band].sum() / energy[band]))
    return 10 * np.log10(statistics.median(ratios) + 1e-30)


def timed(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=Path, required=True, help="folder of one-shots (one sub-folder per category)")
    parser.add_argument("--limit", type=int, default=400, help="at most this many hits")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hits = torch.cat(list(AudioFolder(args.hits, RATE, LENGTH, channels=1).windows()))[: args.limit]
    print(f"{len(hits)} hits from {args.hits}, {LENGTH} samples at {RATE} Hz, {args.threads} threads")
    config = UNetConfig(io_channels=BANDS, depth=6, channels=parse_channels("32,32,64,64,128,128", 6), n_attn_layers=2)
    net = new_network(config, 0).eval()
    rows = {}
    for name, base in KINDS.items():
        scales = measure_band_scales(base, [hits])
        rep = Representation(RepresentationConfig(**{**base.__dict__, "band_scales": scales}))
        frames = rep.frames(LENGTH, net.stride)
        with torch.inference_mode():
            snrs = [snr_db(h[None], rep.decode(rep.encode(h[None], frames), LENGTH)) for h in hits]
            one = hits[:1]
            transform = timed(lambda rep=rep, frames=frames, one=one: rep.decode(rep.encode(one, frames), LENGTH))
            x, t = torch.randn(2, BANDS, frames), torch.rand(2)
            network = timed(lambda x=x, t=t: net(x, t))
        rows[name] = (statistics.median(snrs), min(snrs), leakage_db(rep), transform, network, frames)
    heads = ("SNR median", 11), ("SNR worst", 10), ("out-of-band", 12), ("transform", 10), ("network", 9), ("frames", 7)
    print(" " * 6 + "".join(f" {h:>{w}}" for h, w in heads))
    for name, (med, worst, leak, transform, network, frames) in rows.items():
        print(
            f"{name:6} {med:9.1f} dB {worst:7.1f} dB {leak:9.1f} dB {transform * 1e3:7.2f} ms "
            f"{network * 1e3:6.1f} ms {frames:7d}"
        )
    p, q = rows["pqmf"], rows["patch"]
    print(f"pqmf / patch: transform time {p[3] / q[3]:.1f}x, network time {p[4] / q[4]:.2f}x")


if __name__ == "__main__":
    main()
