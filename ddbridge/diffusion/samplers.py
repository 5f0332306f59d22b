"""Samplers for a k-diffusion denoiser ``model(x, sigma, **extra_args) -> x0``, all with one signature.

``sampler(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None, **options) -> x0``

* ``x`` is the starting sample at ``sigmas[0]`` (noise already scaled by ``sigmas[0]``); ``sigmas``
  decreases and ends in 0 (see ``schedule.get_sigmas``).
* ``callback`` is called once per step, after it, with ``{"i", "x", "sigma", "denoised", "total"}``:
  ``x`` is the sample after step ``i`` (now at ``sigma``), ``denoised`` the model's x0 estimate of
  that step, and ``(i + 1) / total`` the fraction done. ``total`` is ``len(sigmas) - 1`` except for
  dpm-fast (its solver steps plus the final denoise) and dpm-adaptive (an estimate that is revised
  as the step size adapts; it equals ``i + 1`` on the last call).
* ``noise_sampler()`` returns fresh standard normal noise shaped like ``x`` (default
  ``torch.randn_like``); only the stochastic samplers draw from it.

Step sizes are worked out on Python floats from one host copy of ``sigmas``; only the model runs on the device.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ddbridge.protocol.errors import BadRequest

Sampler = Callable[..., torch.Tensor]
NoiseSampler = Callable[[], torch.Tensor]
StepCallback = Callable[[dict], None]

# Adams–Bashforth coefficients for equal steps, newest first; the iPLMS warm-up uses the lower orders.
_AB_COEFFS = ((1.0,), (3 / 2, -1 / 2), (23 / 12, -16 / 12, 5 / 12), (55 / 24, -59 / 24, 37 / 24, -9 / 24))


def noise_sampler_from_seeds(seeds: list[int], shape_like: torch.Tensor) -> NoiseSampler:
    """A noise sampler whose batch item i is drawn from its own generator seeded with ``seeds[i]``."""
    if len(seeds) != shape_like.shape[0]:
        raise ValueError(f"{len(seeds)} seeds for a batch of {shape_like.shape[0]}")
    device, dtype, shape = shape_like.device, shape_like.dtype, shape_like.shape[1:]
    generators = [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]

    def sample() -> torch.Tensor:
        # Drawn in float32 so that a seed gives the same noise whatever the working dtype.
        noise = [torch.randn(shape, generator=g, device=device, dtype=torch.float32) for g in generators]
        return torch.stack(noise).to(dtype)

    return sample


def _prepare(x: torch.Tensor, sigmas: torch.Tensor, extra_args: dict | None, noise_sampler: NoiseSampler | None):
    sig = [float(s) for s in sigmas.tolist()]
    return sig, extra_args or {}, noise_sampler or (lambda: torch.randn_like(x))


def _denoise(model: Callable, x: torch.Tensor, sigma: float, extra_args: dict) -> torch.Tensor:
    return model(x, torch.full((x.shape[0],), sigma, device=x.device), **extra_args)


def _report(callback: StepCallback | None, i: int, x, sigma: float, denoised, total: int) -> None:
    if callback is not None:
        callback({"i": i, "x": x, "sigma": sigma, "denoised": denoised, "total": total})


def _euler(x: torch.Tensor, denoised: torch.Tensor, sigma: float, sigma_next: float) -> torch.Tensor:
    """One Euler step of dx/dsigma = (x - denoised) / sigma."""
    return denoised + (x - denoised) * (sigma_next / sigma)


def _ancestral_step(sigma: float, sigma_next: float, eta: float) -> tuple[float, float]:
    """Split a step into a deterministic part down to sigma_down and fresh noise of std sigma_up."""
    if not eta or sigma_next == 0:
        return sigma_next, 0.0
    sigma_up = min(sigma_next, eta * math.sqrt(sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2))
    return math.sqrt(sigma_next**2 - sigma_up**2), sigma_up


@torch.no_grad()
def sample_v_ddim(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None, eta: float = 0.0):
    """DDIM as in v-diffusion: deterministic for eta = 0 (Euler in sigma), ancestral noise for eta > 0."""
    sig, extra_args, noise_sampler = _prepare(x, sigmas, extra_args, noise_sampler)
    for i in range(len(sig) - 1):
        s, s_next = sig[i], sig[i + 1]
        denoised = _denoise(model, x, s, extra_args)
        if s_next == 0:
            x = denoised
        else:
            # The v-diffusion step on (alpha, sigma) pairs, then scaled back to sigma_k space by 1 / alpha_next.
            alpha, alpha_next = 1 / math.sqrt(1 + s**2), 1 / math.sqrt(1 + s_next**2)
            sv, sv_next = s * alpha, s_next * alpha_next
            ddim_sigma = eta * (sv_next / sv) * math.sqrt(max(1 - alpha**2 / alpha_next**2, 0.0))
            adjusted = math.sqrt(max(sv_next**2 - ddim_sigma**2, 0.0))
            x = denoised + (x - denoised) * (adjusted / alpha_next / s)
            if ddim_sigma:
                x = x + noise_sampler() * (ddim_sigma / alpha_next)
        _report(callback, i, x, s_next, denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_iplms(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None):
    """Improved pseudo linear multistep (v-iPLMS; diffusers calls it IPNDM).

    Adams–Bashforth on eps = (x - denoised) / sigma with equal-step coefficients, warming up through
    orders 1–3, and a DDIM transfer (an Euler step in sigma) with the combined eps.
    """
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    history: list[torch.Tensor] = []
    for i in range(len(sig) - 1):
        s, s_next = sig[i], sig[i + 1]
        denoised = _denoise(model, x, s, extra_args)
        history = [(x - denoised) / s, *history[:3]]
        eps = sum(c * e for c, e in zip(_AB_COEFFS[len(history) - 1], history, strict=True))
        x = x + eps * (s_next - s)
        _report(callback, i, x, s_next, denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_heun(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None):
    """Heun's second-order method (Karras et al. 2022, no churn); the last step to sigma 0 is Euler."""
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    for i in range(len(sig) - 1):
        s, s_next = sig[i], sig[i + 1]
        denoised = _denoise(model, x, s, extra_args)
        x_euler = _euler(x, denoised, s, s_next)
        if s_next == 0:
            x = x_euler
        else:
            d = (x - denoised) / s
            d_next = (x_euler - _denoise(model, x_euler, s_next, extra_args)) / s_next
            x = x + (d + d_next) * ((s_next - s) / 2)
        _report(callback, i, x, s_next, denoised, len(sig) - 1)
    return x


def linear_multistep_coeffs(sigmas: list[float], i: int, order: int) -> list[float]:
    """Weights of the last ``order`` derivatives (newest first) for the LMS step sigmas[i] -> sigmas[i + 1].

    Each is the integral over the step of a Lagrange basis polynomial through sigmas[i], ..., sigmas[i - order + 1];
    Gauss–Legendre quadrature with ``order`` nodes is exact for these polynomials of degree ``order - 1``.
    """
    nodes, weights = np.polynomial.legendre.leggauss(order)
    a, b = sigmas[i], sigmas[i + 1]
    tau = (b - a) / 2 * nodes + (a + b) / 2
    points = [sigmas[i - k] for k in range(order)]
    coeffs = []
    for j in range(order):
        basis = np.ones_like(tau)
        for k in range(order):
            if k != j:
                basis *= (tau - points[k]) / (points[j] - points[k])
        coeffs.append(float((b - a) / 2 * np.dot(weights, basis)))
    return coeffs


@torch.no_grad()
def sample_lms(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None, order: int = 4):
    """Linear multistep in sigma with coefficients for the actual (unequal) steps."""
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    history: list[torch.Tensor] = []
    for i in range(len(sig) - 1):
        denoised = _denoise(model, x, sig[i], extra_args)
        history = [(x - denoised) / sig[i], *history[: order - 1]]
        coeffs = linear_multistep_coeffs(sig, i, len(history))
        x = x + sum(c * d for c, d in zip(coeffs, history, strict=True))
        _report(callback, i, x, sig[i + 1], denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_dpm_2(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None):
    """DPM-Solver-2 as in Karras et al. 2022: midpoint in log sigma; the last step to sigma 0 is Euler."""
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    for i in range(len(sig) - 1):
        s, s_next = sig[i], sig[i + 1]
        denoised = _denoise(model, x, s, extra_args)
        if s_next == 0:
            x = denoised
        else:
            s_mid = math.sqrt(s * s_next)
            x_mid = _euler(x, denoised, s, s_mid)
            d_mid = (x_mid - _denoise(model, x_mid, s_mid, extra_args)) / s_mid
            x = x + d_mid * (s_next - s)
        _report(callback, i, x, s_next, denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_euler_ancestral(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None, eta: float = 1.0):
    """Euler down to sigma_down, then fresh noise up to sigma_next (eta = 0: plain Euler)."""
    sig, extra_args, noise_sampler = _prepare(x, sigmas, extra_args, noise_sampler)
    for i in range(len(sig) - 1):
        s = sig[i]
        denoised = _denoise(model, x, s, extra_args)
        sigma_down, sigma_up = _ancestral_step(s, sig[i + 1], eta)
        x = _euler(x, denoised, s, sigma_down)
        if sigma_up:
            x = x + noise_sampler() * sigma_up
        _report(callback, i, x, sig[i + 1], denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_dpmpp_2s_ancestral(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None, eta: float = 1.0):
    """DPM-Solver++(2S) (single-step, midpoint in log sigma) down to sigma_down, then ancestral noise."""
    sig, extra_args, noise_sampler = _prepare(x, sigmas, extra_args, noise_sampler)
    for i in range(len(sig) - 1):
        s = sig[i]
        denoised = _denoise(model, x, s, extra_args)
        sigma_down, sigma_up = _ancestral_step(s, sig[i + 1], eta)
        if sigma_down == 0:
            x = denoised
        else:
            s_mid = math.sqrt(s * sigma_down)
            x_mid = (s_mid / s) * x + (1 - s_mid / s) * denoised
            x = (sigma_down / s) * x + (1 - sigma_down / s) * _denoise(model, x_mid, s_mid, extra_args)
        if sigma_up:
            x = x + noise_sampler() * sigma_up
        _report(callback, i, x, sig[i + 1], denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_dpmpp_2m(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None):
    """DPM-Solver++(2M): second-order multistep in log sigma on the denoised estimates."""
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    old_denoised, h_last = None, 0.0
    for i in range(len(sig) - 1):
        s, s_next = sig[i], sig[i + 1]
        denoised = _denoise(model, x, s, extra_args)
        if s_next == 0:
            x = denoised
        else:
            h = math.log(s / s_next)
            d = denoised
            if old_denoised is not None:
                half_inv_r = h / (2 * h_last)
                d = (1 + half_inv_r) * denoised - half_inv_r * old_denoised
            x = (s_next / s) * x - math.expm1(-h) * d
            h_last = h
        old_denoised = denoised
        _report(callback, i, x, s_next, denoised, len(sig) - 1)
    return x


@torch.no_grad()
def sample_dpmpp_3m_sde(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None, eta: float = 1.0):
    """DPM-Solver++(3M) SDE: third-order multistep with injected noise (eta = 0: the 3M ODE solver)."""
    sig, extra_args, noise_sampler = _prepare(x, sigmas, extra_args, noise_sampler)
    denoised_1 = denoised_2 = None
    h_1 = h_2 = None
    for i in range(len(sig) - 1):
        s, s_next = sig[i], sig[i + 1]
        denoised = _denoise(model, x, s, extra_args)
        if s_next == 0:
            x = denoised
        else:
            h = math.log(s / s_next)
            h_eta = h * (eta + 1)
            x = math.exp(-h_eta) * x - math.expm1(-h_eta) * denoised
            phi_2 = math.expm1(-h_eta) / h_eta + 1
            if h_2 is not None:
                r0, r1 = h_1 / h, h_2 / h
                d1_0 = (denoised - denoised_1) / r0
                d1_1 = (denoised_1 - denoised_2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * (r0 / (r0 + r1))
                d2 = (d1_0 - d1_1) / (r0 + r1)
                x = x + phi_2 * d1 - (phi_2 / h_eta - 0.5) * d2
            elif h_1 is not None:
                x = x + phi_2 * (denoised - denoised_1) / (h_1 / h)
            if eta:
                x = x + noise_sampler() * (s_next * math.sqrt(-math.expm1(-2 * h * eta)))
            h_1, h_2 = h, h_1
        denoised_1, denoised_2 = denoised, denoised_1
        _report(callback, i, x, s_next, denoised, len(sig) - 1)
    return x


# DPM-Solver (Lu et al. 2022) in log-time lam = -log(sigma), k-diffusion's data-free form on eps.


def _dpm_eps(model, x: torch.Tensor, lam: float, extra_args: dict) -> tuple[torch.Tensor, torch.Tensor]:
    sigma = math.exp(-lam)
    denoised = _denoise(model, x, sigma, extra_args)
    return (x - denoised) / sigma, denoised


def _dpm_solver_1(x, lam, lam_next, eps):
    return x - math.exp(-lam_next) * math.expm1(lam_next - lam) * eps


def _dpm_solver_2(model, x, lam, lam_next, eps, extra_args, r1: float = 0.5):
    h = lam_next - lam
    s1 = lam + r1 * h
    eps_r1, _ = _dpm_eps(model, _dpm_solver_1(x, lam, s1, eps), s1, extra_args)
    sigma_next = math.exp(-lam_next)
    return x - sigma_next * math.expm1(h) * eps - sigma_next / (2 * r1) * math.expm1(h) * (eps_r1 - eps)


def _dpm_solver_3(model, x, lam, lam_next, eps, extra_args) -> tuple[torch.Tensor, torch.Tensor]:
    """A third-order step (r1 = 1/3, r2 = 2/3) and the second-order estimate that shares its evaluations."""
    r1, r2 = 1 / 3, 2 / 3
    h = lam_next - lam
    s1, s2 = lam + r1 * h, lam + r2 * h
    eps_r1, _ = _dpm_eps(model, _dpm_solver_1(x, lam, s1, eps), s1, extra_args)
    sigma_s2, sigma_next = math.exp(-s2), math.exp(-lam_next)
    u2 = _dpm_solver_1(x, lam, s2, eps) - sigma_s2 * (r2 / r1) * (math.expm1(r2 * h) / (r2 * h) - 1) * (eps_r1 - eps)
    eps_r2, _ = _dpm_eps(model, u2, s2, extra_args)
    first = x - sigma_next * math.expm1(h) * eps
    x_3 = first - sigma_next / r2 * (math.expm1(h) / h - 1) * (eps_r2 - eps)
    x_2 = first - sigma_next / (2 * r1) * math.expm1(h) * (eps_r1 - eps)
    return x_3, x_2


def _vp_scale(lam: float) -> float:
    """alpha = 1 / sqrt(1 + sigma^2): maps x at sigma = exp(-lam) to the variance-preserving sample."""
    return 1 / math.sqrt(1 + math.exp(-2 * lam))


def _dpm_range(sig: list[float]) -> tuple[float, float, bool]:
    """(sigma_max, sigma_min, final_denoise): the solver runs down to the last nonzero sigma."""
    final_denoise = sig[-1] == 0
    return sig[0], sig[-2] if final_denoise else sig[-1], final_denoise


@torch.no_grad()
def sample_dpm_fast(model, x, sigmas, extra_args=None, callback=None, noise_sampler=None):
    """DPM-Solver-fast: orders 3,3,...,(2,1 | remainder) on equal log-sigma steps.

    The evaluation budget is ``len(sigmas) - 1``; one of them is the final denoise when sigmas ends in 0.
    """
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    sigma_max, sigma_min, final_denoise = _dpm_range(sig)
    nfe = len(sig) - 1 - int(final_denoise)
    m = nfe // 3 + 1
    orders = ([3] * (m - 2) + [2, 1] if nfe % 3 == 0 else [3] * (m - 1) + [nfe % 3]) if nfe else []
    lams = np.linspace(-math.log(sigma_max), -math.log(sigma_min), len(orders) + 1).tolist()
    total = len(orders) + int(final_denoise)
    for i, order in enumerate(orders):
        lam, lam_next = lams[i], lams[i + 1]
        eps, denoised = _dpm_eps(model, x, lam, extra_args)
        if order == 1:
            x = _dpm_solver_1(x, lam, lam_next, eps)
        elif order == 2:
            x = _dpm_solver_2(model, x, lam, lam_next, eps, extra_args)
        else:
            x, _ = _dpm_solver_3(model, x, lam, lam_next, eps, extra_args)
        _report(callback, i, x, math.exp(-lam_next), denoised, total)
    if final_denoise:
        x = _denoise(model, x, sigma_min, extra_args)
        _report(callback, total - 1, x, 0.0, x, total)
    return x


@torch.no_grad()
def sample_dpm_adaptive(
    model,
    x,
    sigmas,
    extra_args=None,
    callback=None,
    noise_sampler=None,
    rtol: float = 0.05,
    atol: float = 0.0078,
    h_init: float = 0.05,
    accept_safety: float = 0.81,
    h_max: float = 2.0,
):
    """DPM-Solver-12/23 with an embedded error estimate and an integral step-size controller.

    Runs from sigmas[0] to the last nonzero sigma, then denoises; the number of steps follows the
    tolerances, not ``len(sigmas)``. Errors are measured on the variance-preserving sample
    ``x / sqrt(1 + sigma^2)`` (unit scale at every sigma, audio amplitude at the end), where the
    tolerances mean the same along the whole path; on ``x`` itself, which shrinks a thousandfold, a
    relative tolerance taken from the previous point lets large late steps through. Steps are capped at
    ``h_max`` in log sigma: the embedded estimate can miss the error of one long step across the range
    where the denoiser changes fastest. The step size is controlled for the batch as a whole, so an
    item's result can differ (within tolerance) with the batch it was sampled in.
    """
    sig, extra_args, _ = _prepare(x, sigmas, extra_args, noise_sampler)
    sigma_max, sigma_min, final_denoise = _dpm_range(sig)
    lam, lam_end = -math.log(sigma_max), -math.log(sigma_min)
    h, x_prev, i, eps = h_init, x * _vp_scale(lam), 0, None
    while lam < lam_end - 1e-5:
        if eps is None:  # kept across rejected attempts from the same point
            eps, denoised = _dpm_eps(model, x, lam, extra_args)
        lam_next = min(lam_end, lam + h)
        x_high, x_low = _dpm_solver_3(model, x, lam, lam_next, eps, extra_args)
        x_high_vp, x_low_vp = x_high * _vp_scale(lam_next), x_low * _vp_scale(lam_next)
        scale = torch.clamp(rtol * torch.maximum(x_low_vp.abs(), x_prev.abs()), min=atol)
        error = float(torch.linalg.vector_norm((x_low_vp - x_high_vp) / scale)) / math.sqrt(x.numel())
        factor = 1 + math.atan((1 / (error + 1e-8)) ** (1 / 3) - 1)
        h = min(h * factor, h_max)
        if factor >= accept_safety:
            x_prev, x, lam = x_low_vp, x_high, lam_next
            remaining = math.ceil(max(lam_end - lam - 1e-5, 0) / h)
            _report(callback, i, x, math.exp(-lam), denoised, i + 1 + remaining + int(final_denoise))
            i, eps = i + 1, None
    if final_denoise:
        x = _denoise(model, x, sigma_min, extra_args)
        _report(callback, i, x, 0.0, x, i + 1)
    return x


SAMPLERS: dict[str, Sampler] = {
    "v-ddim": sample_v_ddim,
    "v-iplms": sample_iplms,
    "heun": sample_heun,
    "lms": sample_lms,
    "dpm-2": sample_dpm_2,
    "dpmpp-2s-ancestral": sample_dpmpp_2s_ancestral,
    "dpm-fast": sample_dpm_fast,
    "dpm-adaptive": sample_dpm_adaptive,
    "ipndm": sample_iplms,
    "dpmpp-2m": sample_dpmpp_2m,
    "dpmpp-3m-sde": sample_dpmpp_3m_sde,
    "euler-ancestral": sample_euler_ancestral,
}


def get_sampler(name: str) -> Sampler:
    """The sampler registered as ``name``; BadRequest naming the valid choices otherwise."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise BadRequest(f"unknown sampler '{name}'; choose one of: {', '.join(SAMPLERS)}") from None
