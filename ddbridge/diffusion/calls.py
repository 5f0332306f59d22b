"""What every task does around its sampler: the call's settings resolved against the model, seeds,
progress reporting, and the network's padding for the call.

Item ``i`` of a batch depends only on ``seeds[i]`` (its own noise streams). ``progress(fraction)`` is
called with 0..1; raising ``Cancelled`` from it aborts.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ddbridge.diffusion.denoiser import VDenoiser
from ddbridge.diffusion.samplers import get_sampler
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest

Progress = Callable[[float], None]
SEED_LIMIT = 2**32


def random_seeds(count: int) -> list[int]:
    """``count`` fresh random seeds in [0, 2**32)."""
    return [secrets.randbelow(SEED_LIMIT) for _ in range(count)]


def check_length(bundle: ModelBundle, length: int) -> int:
    """``length`` if the network accepts it (a positive multiple of its stride), else ``BadRequest``."""
    stride = bundle.stride
    if isinstance(length, (int, np.integer)) and length > 0 and length % stride == 0:
        return int(length)
    if not isinstance(length, (int, np.integer)) or length <= 0:
        raise BadRequest(f"length must be a positive multiple of the model's stride {stride}, got {length}")
    lower, upper = length // stride * stride, (length // stride + 1) * stride
    nearest = f"{lower} or {upper}" if lower else f"{upper}"
    raise BadRequest(f"length {length} is not a multiple of the model's stride {stride}; nearest valid: {nearest}")


@dataclass
class CallSetup:
    """Resolved per-call settings shared by all tasks."""

    bundle: ModelBundle
    denoiser: VDenoiser
    sampler: Callable
    steps: int
    device: torch.device
    dtype: torch.dtype
    class_index: int | None
    guidance_scale: float
    loop: bool
    beats: float | None = None  # a loop network's beats in the window

    def extra_args(self, batch: int) -> dict:
        extra = {} if self.beats is None else {"beats": self.beats}
        if self.class_index is None:
            return extra
        labels = torch.full((batch,), self.class_index, dtype=torch.long, device=self.device)
        return {**extra, "class_labels": labels, "guidance_scale": self.guidance_scale}


def setup_call(
    bundle: ModelBundle,
    steps: int | None,
    sampler: str | None,
    category: str | None,
    guidance_scale: float | None,
    device: str | torch.device | None,
) -> CallSetup:
    """The call's settings, the model's defaults filling what is None; the network moved to ``device``."""
    steps = bundle.default_steps if steps is None else steps
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise BadRequest(f"steps must be a positive integer, got {steps}")
    choice = bundle.resolve_category(category)
    guidance_scale = bundle.guidance_for(choice, guidance_scale)
    net = bundle.net
    param = next(net.parameters())
    if device is not None and torch.device(device) != param.device:
        net.to(device)
        param = next(net.parameters())
    return CallSetup(
        bundle=bundle,
        denoiser=VDenoiser(net),
        sampler=get_sampler(sampler or bundle.default_sampler),
        steps=int(steps),
        device=param.device,
        dtype=param.dtype,
        class_index=choice.index,
        guidance_scale=float(guidance_scale),
        loop=choice.loop,
    )


def check_seeds(seeds: Sequence[int] | None, count: int) -> list[int]:
    """``seeds`` as ints (fresh random ones when None), or ``BadRequest`` when they do not fit ``count``."""
    if not isinstance(count, (int, np.integer)) or count < 1:
        raise BadRequest(f"count must be a positive integer, got {count}")
    if seeds is None:
        return random_seeds(count)
    seeds = [int(s) for s in seeds]
    if len(seeds) != count:
        raise BadRequest(f"got {len(seeds)} seeds for {count} results")
    if any(not 0 <= s < SEED_LIMIT for s in seeds):
        raise BadRequest(f"seeds must be in [0, {SEED_LIMIT})")
    return seeds


def edge_anchored(bundle: ModelBundle) -> bool:
    """Whether the network finds where its sound starts from the window's edge (silent ``lead`` frames in
    training), so that it must not run with circular padding."""
    return bundle.representation.lead > 0 and not bundle.net.config.beat_conditioning


@contextlib.contextmanager
def running(bundle: ModelBundle, loop: bool) -> Iterator[None]:
    """Inference mode with the network's loop (circular padding) switch set for the call, then restored;
    an edge-anchored network always runs with zero padding."""
    net = bundle.net
    previous = net.loop
    net.set_loop(loop and not edge_anchored(bundle))
    try:
        with torch.inference_mode():
            yield
    finally:
        net.set_loop(previous)


class ProgressMap:
    """Maps sampler steps in ``phases`` equal parts onto one monotonic 0..1 report."""

    def __init__(self, report: Progress | None, phases: int = 1) -> None:
        self.report, self.phases, self.last = report, phases, -1.0

    def emit(self, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self.report is not None and fraction > self.last:
            self.last = fraction
            self.report(fraction)

    def callback(self, phase: int, total: int) -> Callable[[dict], None]:
        def on_step(info: dict) -> None:
            n = info.get("total") or total
            self.emit((phase + min((info["i"] + 1) / n, 1.0)) / self.phases)

        return on_step


def sample(s: CallSetup, model, x: torch.Tensor, sigmas: torch.Tensor, noise, on_step) -> torch.Tensor:
    """Run the call's sampler from ``x`` along ``sigmas`` with the call's conditioning."""
    return s.sampler(model, x, sigmas, extra_args=s.extra_args(x.shape[0]), callback=on_step, noise_sampler=noise)
