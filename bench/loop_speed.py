"""How long a warm model takes to make one loop at a tempo, against the loop's length (real-time factor).

Run: ``.venv/bin/python bench/loop_speed.py [--model default] [--bpm 120] [--bars 1] [--genre house] [--threads 2]``.
Side by side in the same run, on the same weights: the loop network's defaults (sampler, steps, guidance)
against Dance Diffusion's own default sampling (v-iplms x 50 steps, as sample-diffusion runs it).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ddbridge.diffusion import tasks
from ddbridge.diffusion.loop_task import loop_network
from ddbridge.loops.genres import loop_seconds
from ddbridge.model.checkpoints import load_model

REFERENCE_SAMPLER, REFERENCE_STEPS = "v-iplms", 50  # sample-diffusion's defaults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--bpm", type=float, default=120.0)
    parser.add_argument("--bars", type=int, default=1)
    parser.add_argument("--genre", default="house")
    parser.add_argument("--sampler")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_model(args.model)
    net = loop_network(bundle)
    if net is None:
        raise SystemExit(f"model {args.model} has no loop network")
    sampler, steps = args.sampler or net.default_sampler, args.steps or net.default_steps
    seconds = loop_seconds(args.bpm, args.bars)

    def once(seed: int, sampler: str, steps: int) -> float:
        start = time.perf_counter()
        tasks.generate(bundle, 1, category="loop", tempo=(args.bpm, args.bars), genre=args.genre, seeds=[seed],
                       steps=steps, sampler=sampler)  # fmt: skip
        return time.perf_counter() - start

    def timed(sampler: str, steps: int, repeats: int) -> list[float]:
        once(0, sampler, steps)  # warm-up
        return [once(seed, sampler, steps) for seed in range(1, repeats + 1)]

    ours = timed(sampler, steps, args.repeats)
    reference = timed(REFERENCE_SAMPLER, REFERENCE_STEPS, max(args.repeats // 3, 1))
    guidance = net.guidance_for(net.resolve_category(args.genre), None)
    print(f"loop network {net.name}: {net.net.num_parameters() / 1e6:.2f} M parameters, {net.sample_rate} Hz")
    print(f"{args.genre}, {args.bars} bar(s) at {args.bpm:g} BPM = {seconds:.3f} s, guidance {guidance:g}, "
          f"{args.threads} threads")  # fmt: skip
    rows = ((f"{sampler} x {steps}", ours), (f"{REFERENCE_SAMPLER} x {REFERENCE_STEPS}", reference))
    for name, times in rows:
        median = statistics.median(times)
        print(f"{name:<22} median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}, n={len(times)}), "
              f"real-time factor {median / seconds:.2f}")  # fmt: skip
    speedup = statistics.median(reference) / statistics.median(ours)
    print(f"speed-up over Dance Diffusion's default sampling: {speedup:.1f}x")


if __name__ == "__main__":
    main()
