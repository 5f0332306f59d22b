"""What a producer asks of Dance Diffusion: generate, variate, interpolate, inpaint and extend.

Every task returns float32 CPU audio ``[B, channels, L]`` at the model's rate; the model's
representation (``bundle.representation``) maps audio to the network's signal and back. Item ``i``
depends only on ``seeds[i]`` (its own noise streams), so a batch equals the single runs.
``loop=True`` switches the network to circular padding for the call, so the result wraps
seamlessly. ``category`` is resolved by ``ModelBundle.resolve_category`` (aliases such as ``hat``;
``loop`` also turns on ``loop``; a model without categories ignores it). ``progress(fraction)`` is
called with 0..1; raising ``Cancelled`` from it aborts.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ddbridge.diffusion.denoiser import VDenoiser
from ddbridge.diffusion.samplers import get_sampler, noise_sampler_from_seeds
from ddbridge.diffusion.schedule import get_sigmas, sigma_to_t, t_to_alpha_sigma
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound import audio as audio_ops

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
class _Setup:
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

    def extra_args(self, batch: int) -> dict:
        if self.class_index is None:
            return {}
        labels = torch.full((batch,), self.class_index, dtype=torch.long, device=self.device)
        return {"class_labels": labels, "guidance_scale": self.guidance_scale}


def _setup(bundle, steps, sampler, category, guidance_scale, device) -> _Setup:
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
    return _Setup(
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


def _seeds(seeds: Sequence[int] | None, count: int) -> list[int]:
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


@contextlib.contextmanager
def _running(bundle: ModelBundle, loop: bool) -> Iterator[None]:
    """Inference mode with the network's loop (circular padding) switch set for the call, then restored."""
    net = bundle.net
    previous = net.loop
    net.set_loop(loop)
    try:
        with torch.inference_mode():
            yield
    finally:
        net.set_loop(previous)


class _Progress:
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


def _sample(s: _Setup, model, x: torch.Tensor, sigmas: torch.Tensor, noise, on_step) -> torch.Tensor:
    return s.sampler(model, x, sigmas, extra_args=s.extra_args(x.shape[0]), callback=on_step, noise_sampler=noise)


def _to_model(s: _Setup, audio, sample_rate: int) -> np.ndarray:
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


def _frames(s: _Setup, length: int, loop: bool) -> int:
    """Network frames that hold ``length`` audio samples (a multiple of the model's stride)."""
    return s.bundle.representation.frames(length, s.bundle.net.stride, loop)


def _audio(s: _Setup, out: torch.Tensor, length: int, loop: bool) -> torch.Tensor:
    """The network's signal as ``length`` samples of float32 CPU audio."""
    return s.bundle.representation.decode(out.float(), length, loop).cpu()


def _unfit(s: _Setup, out: torch.Tensor, valid: int, length: int, loop: bool) -> torch.Tensor:
    """Undo ``_fit`` (to ``valid`` samples) on a batch and return float32 CPU audio."""
    out = _audio(s, out, valid, loop)
    if loop and out.shape[-1] != length:
        return torch.stack([torch.from_numpy(audio_ops.fit_length(item, length, circular=True)) for item in out])
    return out[..., :length].contiguous()


def _tensor(s: _Setup, a: np.ndarray, batch: int, loop: bool) -> torch.Tensor:
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
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """``count`` new sounds of ``length`` samples (default: the model's sample size) from pure noise."""
    length = check_length(bundle, bundle.sample_size if length is None else length)
    seeds = _seeds(seeds, count)
    s = _setup(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    track = _Progress(progress)
    with _running(bundle, loop):
        track.emit(0.0)
        sigmas = get_sigmas(s.steps, device=s.device)
        shape = (count, bundle.net.config.io_channels, _frames(s, length, loop))
        noise = noise_sampler_from_seeds(seeds, torch.empty(shape, device=s.device, dtype=s.dtype))
        out = _sample(s, s.denoiser, noise() * sigmas[0], sigmas, noise, track.callback(0, s.steps))
        track.emit(1.0)
    return _audio(s, out, length, loop)


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
    seeds = _seeds(seeds, count)
    s = _setup(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    a = _to_model(s, audio, sample_rate)
    length = a.shape[-1]
    valid = valid_length(s.bundle, length, loop=loop)
    x0 = _tensor(s, _fit(a, valid, loop), count, loop)
    track = _Progress(progress)
    with _running(bundle, loop):
        track.emit(0.0)
        sigmas = get_sigmas(s.steps, t_start=float(strength), device=s.device)
        noise = noise_sampler_from_seeds(seeds, x0)
        out = _sample(s, s.denoiser, x0 + noise() * sigmas[0], sigmas, noise, track.callback(0, s.steps))
        track.emit(1.0)
    return _unfit(s, out, valid, length, loop)


def _invert(s: _Setup, x0: torch.Tensor, on_step: Callable[[dict], None]) -> torch.Tensor:
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
    seeds = _seeds(seeds, len(positions))
    s = _setup(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    a, b = _to_model(s, audio_a, sample_rate), _to_model(s, audio_b, sample_rate)
    length = max(a.shape[-1], b.shape[-1])
    valid = valid_length(s.bundle, length, loop=loop)
    pair = torch.cat([_tensor(s, _fit(a, valid, loop), 1, loop), _tensor(s, _fit(b, valid, loop), 1, loop)])
    track = _Progress(progress, phases=2)
    with _running(bundle, loop):
        track.emit(0.0)
        latent_a, latent_b = _invert(s, pair, track.callback(0, s.steps))
        x = torch.stack([slerp(latent_a, latent_b, p) for p in positions])
        sigmas = get_sigmas(s.steps, device=s.device)
        noise = noise_sampler_from_seeds(seeds, x)
        out = _sample(s, s.denoiser, x, sigmas, noise, track.callback(1, s.steps))
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
    s: _Setup, x0: torch.Tensor, keep: torch.Tensor, seeds: list[int], progress: Progress | None
) -> torch.Tensor:
    track = _Progress(progress)
    track.emit(0.0)
    sigmas = get_sigmas(s.steps, device=s.device)
    noise = noise_sampler_from_seeds(seeds, x0)
    start = noise()
    model = _KeepRegion(s.denoiser, x0, keep.to(s.device)[None, None], start)
    out = _sample(s, model, start * sigmas[0], sigmas, noise, track.callback(0, s.steps))
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
    seeds = _seeds(seeds, count)
    s = _setup(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    in_length = audio_ops.as_array(audio).shape[-1]
    a = _to_model(s, audio, sample_rate)
    length = a.shape[-1]
    keep = _mask_to_model(keep_mask, in_length, length)
    valid = valid_length(s.bundle, length, loop=loop)
    keep = _fit(keep[None].astype(np.float32), valid, loop)[0] > 0.5
    x0 = _tensor(s, _fit(a, valid, loop), count, loop)
    frames = bundle.representation.keep_frames(torch.from_numpy(keep), x0.shape[-1], loop)
    with _running(bundle, loop):
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
    seeds = _seeds(seeds, count)
    s = _setup(bundle, steps, sampler, category, guidance_scale, device)
    loop = loop or s.loop
    a = _to_model(s, audio, sample_rate)
    kept = a.shape[-1]
    length = kept + int(round(seconds * bundle.sample_rate))
    valid = valid_length(s.bundle, length)
    keep = np.zeros(valid, dtype=bool)
    keep[:kept] = True
    x0 = _tensor(s, _fit(a, valid, loop=False), count, loop=False)
    frames = bundle.representation.keep_frames(torch.from_numpy(keep), x0.shape[-1])
    with _running(bundle, loop):
        out = _inpaint(s, x0, frames, seeds, progress)
    return _unfit(s, out, valid, length, loop=False)
