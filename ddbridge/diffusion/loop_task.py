"""Drum loops at a tempo from a loop network: exactly ``bars * 4 * 60 / bpm`` seconds, seamless, by genre.

A loop network (``UNetConfig.beat_conditioning``) is trained on whole loops with circular padding and
is told where the beats fall, so it runs circularly and puts the downbeat at the start. It makes the
nearest length its stride allows; the result is then stretched by at most half a stride to the exact
length (at 120 BPM a bar is 88,200 samples and the stride 2,048: under 1.2 % of tempo, before the
stretch puts it right). A model may carry its loop network as ``bundle.loop_network``; ``default`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ddbridge.diffusion.calls import Progress, ProgressMap, check_seeds, running, sample, setup_call
from ddbridge.diffusion.samplers import noise_sampler_from_seeds
from ddbridge.diffusion.schedule import get_sigmas
from ddbridge.loops.genres import BARS, BEATS_PER_BAR, BPM_RANGE, check_tempo, loop_samples, resolve_genre
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.audio import fit_length

DEFAULT_BPM = 120.0
DEFAULT_BARS = 1


def loop_network(bundle: ModelBundle) -> ModelBundle | None:
    """The model that makes ``bundle``'s loops at a tempo: itself when it is a loop network, else the loop
    network it carries, else None."""
    if bundle.net.config.beat_conditioning:
        return bundle
    return bundle.loop_network


def tempo_network(bundle: ModelBundle, category: str | None, loop: bool) -> ModelBundle | None:
    """The loop network a generate request goes to: a loop (``category`` loop, or ``loop`` with no category) from
    a model with a loop network, or anything asked of a loop network itself; None when the model makes it
    (a one-shot category as a loop is that one-shot, folded)."""
    net = loop_network(bundle)
    if net is None or net is bundle:
        return net
    choice = bundle.resolve_category(category)
    return net if choice.loop or (loop and choice.category is None) else None


def tempo_for(bpm: float | None, bars: int | None, seconds: float | None = None) -> tuple[float, int]:
    """The ``(bpm, bars)`` of a loop request: both given; or only ``seconds`` (one bar, or two or four when one
    bar would be slower than the range allows); or nothing (one bar at 120 BPM)."""
    if bpm is not None or bars is not None:
        if bpm is None or bars is None:
            raise BadRequest("a loop's tempo needs both bpm and bars")
        return check_tempo(bpm, bars)
    if seconds is None:
        return DEFAULT_BPM, DEFAULT_BARS
    low, high = BPM_RANGE
    for n in BARS:
        tempo = n * BEATS_PER_BAR * 60.0 / seconds
        if low <= tempo <= high:
            return check_tempo(round(tempo, 3), n)
    raise BadRequest(f"a loop of {seconds:g} s is not 1, 2 or 4 bars at 70-180 BPM; give bpm and bars")


def generate_loop(
    bundle: ModelBundle,
    count: int = 1,
    *,
    bpm: float = DEFAULT_BPM,
    bars: int = DEFAULT_BARS,
    genre: str | None = None,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    guidance_scale: float | None = None,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """``count`` loops of ``bars`` bars at ``bpm`` in ``genre`` (None or ``any``: unconditional), float32 CPU audio
    ``[count, channels, round(bars * 4 * 60 / bpm * rate)]`` at the loop network's rate."""
    net_bundle = loop_network(bundle)
    if net_bundle is None:
        raise BadRequest(f"model '{bundle.name}' has no loop network; loops at a tempo need one (model 'default')")
    bpm, bars = check_tempo(bpm, bars)
    seeds = check_seeds(seeds, count)
    s = setup_call(net_bundle, steps, sampler, resolve_genre(genre), guidance_scale, device)
    s.beats = float(bars * BEATS_PER_BAR)
    exact = loop_samples(bpm, bars, net_bundle.sample_rate)
    length = max(1, round(exact / net_bundle.stride)) * net_bundle.stride
    rep = net_bundle.representation
    track = ProgressMap(progress)
    with running(net_bundle, True):
        track.emit(0.0)
        sigmas = get_sigmas(s.steps, device=s.device)
        shape = (count, net_bundle.net.config.io_channels, rep.frames(length, net_bundle.net.stride, loop=True))
        noise = noise_sampler_from_seeds(seeds, torch.empty(shape, device=s.device, dtype=s.dtype))
        out = sample(s, s.denoiser, noise() * sigmas[0], sigmas, noise, track.callback(0, s.steps))
        track.emit(1.0)
    audio = rep.decode(out.float(), length, loop=True).cpu().numpy()
    return torch.from_numpy(np.stack([fit_length(item, exact, circular=True) for item in audio]))
