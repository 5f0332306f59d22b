"""How long a warm model takes to make one one-shot, against the length of the sound (real-time factor).

Run: ``.venv/bin/python bench/one_shot_speed.py [--model default] [--seconds 1.0] [--threads 2]``.
Uses the model's default sampler and steps unless ``--sampler`` / ``--steps`` are given.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ddbridge.diffusion import tasks
from ddbridge.model.checkpoints import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--category", default="kick")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--sampler")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_model(args.model)
    length = bundle.length_for_seconds(args.seconds)
    sampler, steps = args.sampler or bundle.default_sampler, args.steps or bundle.default_steps

    def once(seed: int) -> float:
        start = time.perf_counter()
        tasks.generate(bundle, 1, length, seeds=[seed], steps=steps, sampler=sampler, category=args.category)
        return time.perf_counter() - start

    once(0)  # warm-up
    times = [once(seed) for seed in range(1, args.repeats + 1)]
    median = statistics.median(times)
    print(f"model {bundle.name}: {bundle.net.num_parameters() / 1e6:.2f} M parameters, {bundle.sample_rate} Hz")
    guidance = bundle.guidance_for(bundle.resolve_category(args.category), None)
    seconds = length / bundle.sample_rate
    print(f"{args.category}, {seconds:.3f} s, {sampler} x {steps} steps, guidance {guidance:g}, {args.threads} threads")
    print(f"generation time: median {median:.3f} s (min {min(times):.3f} s, max {max(times):.3f} s, n={len(times)})")
    print(f"real-time factor: {median / seconds:.2f} (generation time / sound length)")


if __name__ == "__main__":
    main()
