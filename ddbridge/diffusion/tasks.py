"""What a producer asks of Dance Diffusion: generate, variate, interpolate, inpaint and extend.

Every task returns float32 CPU audio ``[B, channels, L]`` at the model's rate; the model's
representation (``bundle.representation``) maps audio to the network's signal and back. Item ``i``
depends only on ``seeds[i]`` (its own noise streams), so a batch equals the single runs.
``loop=True`` makes the result wrap seamlessly. A network that places its sound by the window's
edge (a one-shot sub-band model, trained with silence before every onset) cannot run circularly:
with no edge it cannot tell where the hit goes and makes silence. It generates its loops in its own
window, and what runs past a shorter loop's end is folded onto its start; a sound asked longer than
the window is the window's sound followed by silence (it would otherwise start a second sound); it
varies, interpolates and inpaints a loop with zero padding, the input wrapping only in the filter
bank. Every other network runs with circular padding for the call. A model with a loop network (see
:mod:`ddbridge.diffusion.loop_task`) makes its loops there, at a tempo. ``category`` is resolved by
``ModelBundle.resolve_category`` (aliases such as ``hat``; ``loop`` also turns on ``loop``; a model
without categories ignores it). ``progress(fraction)`` is called with 0..1; raising ``Cancelled``
from it aborts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ddbridge.diffusion.calls import (
    CallSetup,
    Progress,
    ProgressMap,
    check_length,
    check_seeds,
    edge_anchored,
    running,
    sample,
    setup_call,
)
from ddbridge.diffusion.denoiser import VDenoiser
from ddbridge.diffusion.loop_task import generate_loop, tempo_for, tempo_network
from ddbridge.diffusion.samplers import noise_sampler_from_seeds
from ddbridge.diffusion.schedule import get_sigmas, sigma_to_t, t_to_alpha_sigma
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound import audio as audio_ops


def _to_model(s: CallSetup, audio, sample_rate: int) -> np.ndarray:
    """Input audio as finite ``[channels, L]`` at the model's rate and channel count."""
    if not (isinstance(sample_rate, (int, float, np.integer)) and sample_rate > 0):
        raise BadRequest(f"sample rate must be > 0, got {sample_rate}")
    a = audio_ops.check_audio(audio_ops.as_array(audio))
    a = audio_ops.to_channels(a, s.bundle.audio_channels)
    return audio_ops.check_audio(audio_ops.resample(a, sample_rate, s.bundle.sample_rate))


def valid_length(bundle: ModelBundle, length: int, *, loop: bool = False) -> int:
    """Network length for ``length`` samples: the next multiple of the stride (the rest is padding),
    or in loop mode the nearest one (the loop is stretched to fit)."""
    stride = bundle.stride
    n = round(length / stride) if loop else -(-length // stride)
    return max(1, n) * stride


def _fit(a: np.ndarray, length: int, loop: bool) -> np.ndarray:
    """Loops are stretched to ``length`` (they must stay loops); anything else is zero-padded or cropped."""
    if loop:
        return audio_ops.fit_length(a, length, circular=True)
    if a.shape[-1] >= length:
        return a[:, :length]
    return np.pad(a, ((0, 0), (0, length - a.shape[-1])))


def _frames(s: CallSetup, length: int, loop: bool) -> int:
    """Network frames that hold ``length`` audio samples (a multiple of the model's stride)."""
    return s.bundle.representation.frames(length, s.bundle.net.stride, loop)


def _audio(s: CallSetup, out: torch.Tensor, length: int, loop: bool) -> torch.Tensor:
    """The network's signal as ``length`` samples of float32 CPU audio."""
    return s.bundle.representation.decode(out.float(), length, loop).cpu()


def _unfit(s: CallSetup, out: torch.Tensor, valid: int, length: int, loop: bool) -> torch.Tensor:
    """Undo ``_fit`` (to ``valid`` samples) on a batch and return float32 CPU audio."""
    out = _audio(s, out, valid, loop)
    if loop and out.shape[-1] != length:
        return torch.stack([torch.from_numpy(audio_ops.fit_length(item, length, circular=True)) for item in out])
    return out[..., :length].contiguous()


def _tensor(s: CallSetup, a: np.ndarray, batch: int, loop: bool) -> torch.Tensor:
    """Audio ``[C, L]`` (``L`` a valid length) as ``batch`` copies of the network's signal."""
    audio = torch.from_numpy(a).to(s.device)[None]
    signal = s.bundle.representation.encode(audio, _frames(s, a.shape[-1], loop), loop)
    return signal.to(s.dtype).expand(batch, -1, -1).contiguous()


def generate(
    bundle: ModelBundle,
    count: int = 1,
    length: int | None = None,
    *,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    category: str | None = None,
    guidance_scale: float | None = None,
    loop: bool = False,
    tempo: tuple[float, int] | None = None,
    genre: str | None = None,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """``count`` new sounds of ``length`` samples (default: the model's sample size) from pure noise.

    A loop (``category`` loop, or ``loop`` with no category) from a model with a loop network is made there
    (:func:`loop_task.generate_loop`) at ``tempo`` (bpm, bars; default: one bar of ``length``, or at 120 BPM)
    in ``genre``, exactly as long as its bars.
    """
    if tempo_network(bundle, category, loop) is not None:
        seconds = None if length is None else length / bundle.sample_rate
        bpm, bars = tempo or tempo_for(None, None, seconds)
        return generate_loop(
            bundle, count, bpm=bpm, bars=bars, genre=genre, seeds=seeds, steps=steps, sampler=sampler,
            guidance_scale=guidance_scale, progress=progress, device=device,
        )  # fmt: skip
    length = check_length(bundle, bundle.sample_size if length is None else length)
    seeds = check_seeds(seeds, count)
    s = setup_call(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    anchored = edge_anchored(bundle)
    # An anchored network makes one sound in its own window: a loop is made there and folded, and a request
    # longer than the window gets that sound followed by silence, never a second sound the window cannot hold.
    made = bundle.sample_size if anchored and (loop or length > bundle.sample_size) else length
    circular = loop and not anchored
    track = ProgressMap(progress)
    with running(bundle, loop):
        track.emit(0.0)
        sigmas = get_sigmas(s.steps, device=s.device)
        shape = (count, bundle.net.config.io_channels, _frames(s, made, circular))
        noise = noise_sampler_from_seeds(seeds, torch.empty(shape, device=s.device, dtype=s.dtype))
        out = sample(s, s.denoiser, noise() * sigmas[0], sigmas, noise, track.callback(0, s.steps))
        track.emit(1.0)
    audio = _audio(s, out, made, circular)
    if audio.shape[-1] < length:
        return torch.nn.functional.pad(audio, (0, length - audio.shape[-1]))
    return fold(audio, length) if loop and audio.shape[-1] > length else audio


def fold(audio: torch.Tensor, length: int) -> torch.Tensor:
    """``audio [..., L]`` (L >= length) as a loop of ``length`` samples: whatever runs past the end is added
    onto the start, as the sound would ring on into the next repetition."""
    out = audio[..., :length].clone()
    rest = audio[..., length:]
    for start in range(0, rest.shape[-1], length):
        piece = rest[..., start : start + length]
        out[..., : piece.shape[-1]] += piece
    return out


def variate(
    bundle: ModelBundle,
    audio,
    sample_rate: int,
    strength: float = 0.7,
    count: int = 1,
    *,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    category: str | None = None,
    guidance_scale: float | None = None,
    loop: bool = False,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """``count`` variations of ``audio`` ``[C, L]``: noised to ``strength`` in (0, 1], then denoised.

    Small strengths stay close to the input; 1.0 keeps nothing but its length. The result has
    the input's duration at the model's rate.
    """
    if not (isinstance(strength, (int, float)) and 0.0 < strength <= 1.0):
        raise BadRequest(f"strength must be in (0, 1], got {strength}")
    seeds = check_seeds(seeds, count)
    s = setup_call(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    a = _to_model(s, audio, sample_rate)
    length = a.shape[-1]
    valid = valid_length(s.bundle, length, loop=loop)
    x0 = _tensor(s, _fit(a, valid, loop), count, loop)
    track = ProgressMap(progress)
    with running(bundle, loop):
        track.emit(0.0)
        sigmas = get_sigmas(s.steps, t_start=float(strength), device=s.device)
        noise = noise_sampler_from_seeds(seeds, x0)
        out = sample(s, s.denoiser, x0 + noise() * sigmas[0], sigmas, noise, track.callback(0, s.steps))
        track.emit(1.0)
    return _unfit(s, out, valid, length, loop)


def _invert(s: CallSetup, x0: torch.Tensor, on_step: Callable[[dict], None]) -> torch.Tensor:
    """Run deterministic v-DDIM backwards from x0 (sigma 0) to the largest sigma; return k-diffusion x there."""
    sigmas = get_sigmas(s.steps, device=s.device).flip(0).double()
    ts = sigma_to_t(sigmas)
    extra = s.extra_args(x0.shape[0])
    x = x0
    for i in range(s.steps):
        alpha, sigma = t_to_alpha_sigma(ts[i])
        alpha_next, sigma_next = t_to_alpha_sigma(ts[i + 1])
        v = s.denoiser.v(x, ts[i].to(x.dtype).expand(x.shape[0]), **extra)
        pred, eps = x * alpha - v * sigma, x * sigma + v * alpha
        x = (pred * alpha_next + eps * sigma_next).to(x0.dtype)
        on_step({"i": i, "total": s.steps})
    return x / t_to_alpha_sigma(ts[-1])[0].to(x.dtype)


def slerp(a: torch.Tensor, b: torch.Tensor, position: float) -> torch.Tensor:
    """Spherical interpolation between two tensors (treated as flat vectors); 0 gives ``a``, 1 gives ``b``."""
    cos = torch.dot(a.flatten().double(), b.flatten().double()) / (a.double().norm() * b.double().norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6:
        return a + (b - a) * position
    so = torch.sin(omega)
    wa, wb = torch.sin((1 - position) * omega) / so, torch.sin(position * omega) / so
    return (a.double() * wa + b.double() * wb).to(a.dtype)


def interpolate(
    bundle: ModelBundle,
    audio_a,
    audio_b,
    sample_rate: int,
    positions: Sequence[float] = (0.5,),
    *,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    category: str | None = None,
    guidance_scale: float | None = None,
    loop: bool = False,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Sounds between ``audio_a`` and ``audio_b``, one per position in [0, 1] (0 = a, 1 = b).

    Both are inverted to noise with deterministic v-DDIM, the two noises are slerped at each
    position, and the blends denoised. Seeds only matter for stochastic samplers.
    """
    positions = [float(p) for p in positions]
    if not positions or any(not 0.0 <= p <= 1.0 for p in positions):
        raise BadRequest(f"positions must be a non-empty list of numbers in [0, 1], got {positions}")
    seeds = check_seeds(seeds, len(positions))
    s = setup_call(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    a, b = _to_model(s, audio_a, sample_rate), _to_model(s, audio_b, sample_rate)
    length = max(a.shape[-1], b.shape[-1])
    valid = valid_length(s.bundle, length, loop=loop)
    pair = torch.cat([_tensor(s, _fit(a, valid, loop), 1, loop), _tensor(s, _fit(b, valid, loop), 1, loop)])
    track = ProgressMap(progress, phases=2)
    with running(bundle, loop):
        track.emit(0.0)
        latent_a, latent_b = _invert(s, pair, track.callback(0, s.steps))
        x = torch.stack([slerp(latent_a, latent_b, p) for p in positions])
        sigmas = get_sigmas(s.steps, device=s.device)
        noise = noise_sampler_from_seeds(seeds, x)
        out = sample(s, s.denoiser, x, sigmas, noise, track.callback(1, s.steps))
        track.emit(1.0)
    return _unfit(s, out, valid, length, loop)


class _KeepRegion:
    """Denoiser wrapper for inpainting: the kept region is the original, noised to the current sigma.

    The model sees ``x0 + sigma * noise`` where ``keep`` is set, and its estimate there is replaced
    by ``x0``; any sampler then carries the kept region to exactly ``x0`` at sigma 0 while the rest
    is generated to fit around it.
    """

    def __init__(self, denoiser: VDenoiser, x0: torch.Tensor, keep: torch.Tensor, noise: torch.Tensor) -> None:
        self.denoiser, self.x0, self.keep, self.noise = denoiser, x0, keep, noise

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, **extra_args) -> torch.Tensor:
        s = sigma.to(x.dtype).reshape(-1, 1, 1)
        x = torch.where(self.keep, self.x0 + s * self.noise, x)
        return torch.where(self.keep, self.x0, self.denoiser(x, sigma, **extra_args))


def _inpaint(
    s: CallSetup, x0: torch.Tensor, keep: torch.Tensor, seeds: list[int], progress: Progress | None
) -> torch.Tensor:
    track = ProgressMap(progress)
    track.emit(0.0)
    sigmas = get_sigmas(s.steps, device=s.device)
    noise = noise_sampler_from_seeds(seeds, x0)
    start = noise()
    model = _KeepRegion(s.denoiser, x0, keep.to(s.device)[None, None], start)
    out = sample(s, model, start * sigmas[0], sigmas, noise, track.callback(0, s.steps))
    track.emit(1.0)
    return out


def _mask_to_model(keep_mask, in_length: int, out_length: int) -> np.ndarray:
    """Resample a boolean mask by nearest sample."""
    keep = np.asarray(keep_mask.cpu() if hasattr(keep_mask, "cpu") else keep_mask)
    if keep.ndim != 1 or keep.shape[0] != in_length:
        raise BadRequest(f"keep_mask must be 1-D with one entry per input sample ({in_length}), got {keep.shape}")
    return keep.astype(bool)[np.arange(out_length) * in_length // out_length]


def inpaint(
    bundle: ModelBundle,
    audio,
    sample_rate: int,
    keep_mask,
    count: int = 1,
    *,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    category: str | None = None,
    guidance_scale: float | None = None,
    loop: bool = False,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Regenerate ``audio`` where ``keep_mask`` (bool, one per input sample) is False, keeping the rest."""
    seeds = check_seeds(seeds, count)
    s = setup_call(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    in_length = audio_ops.as_array(audio).shape[-1]
    a = _to_model(s, audio, sample_rate)
    length = a.shape[-1]
    keep = _mask_to_model(keep_mask, in_length, length)
    valid = valid_length(s.bundle, length, loop=loop)
    keep = _fit(keep[None].astype(np.float32), valid, loop)[0] > 0.5
    x0 = _tensor(s, _fit(a, valid, loop), count, loop)
    frames = bundle.representation.keep_frames(torch.from_numpy(keep), x0.shape[-1], loop)
    with running(bundle, loop):
        out = _inpaint(s, x0, frames, seeds, progress)
    return _unfit(s, out, valid, length, loop)


def extend(
    bundle: ModelBundle,
    audio,
    sample_rate: int,
    seconds: float,
    count: int = 1,
    *,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    category: str | None = None,
    guidance_scale: float | None = None,
    loop: bool = False,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """``audio`` followed by ``seconds`` of new material that continues it (inpainting with the original kept).

    The result is the input (at the model's rate) plus ``round(seconds * model rate)`` samples.
    ``loop`` only sets circular padding here: the result wraps seamlessly when its length is a
    multiple of the stride.
    """
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise BadRequest(f"seconds to extend by must be > 0, got {seconds}")
    seeds = check_seeds(seeds, count)
    s = setup_call(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    a = _to_model(s, audio, sample_rate)
    kept = a.shape[-1]
    length = kept + int(round(seconds * bundle.sample_rate))
    valid = valid_length(s.bundle, length)
    keep = np.zeros(valid, dtype=bool)
    keep[:kept] = True
    x0 = _tensor(s, _fit(a, valid, loop=False), count, loop=False)
    frames = bundle.representation.keep_frames(torch.from_numpy(keep), x0.shape[-1])
    with running(bundle, loop):
        out = _inpaint(s, x0, frames, seeds, progress)
    return _unfit(s, out, valid, length, loop=False)
