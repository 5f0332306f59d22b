"""The v-diffusion noise schedule: continuous t in [0, 1], alpha = cos(pi t / 2), sigma = sin(pi t / 2).

Samplers work in the k-diffusion parameterisation, sigma_k = sigma / alpha = tan(pi t / 2), where
``x_k = x / alpha`` and the network is wrapped as a denoiser (see ``denoiser.py``).
"""

from __future__ import annotations

import math

import torch

# sigma_k at the start of sampling; t = 1 itself maps to an infinite sigma_k. At 1e3 the signal
# share of x is 1e-6 of its energy, i.e. pure noise for 16- and 24-bit audio alike.
SIGMA_MAX = 1000.0


def t_to_alpha_sigma(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (alpha, sigma) for diffusion time t."""
    return torch.cos(t * math.pi / 2), torch.sin(t * math.pi / 2)


def alpha_sigma_to_t(alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Inverse of ``t_to_alpha_sigma`` (accepts unnormalised pairs)."""
    return torch.atan2(sigma, alpha) / math.pi * 2


def crash_schedule(t: torch.Tensor) -> torch.Tensor:
    """Dance Diffusion's "crash" warp of uniform time: sigma' = sin^2(pi t / 2)."""
    sigma = torch.sin(t * math.pi / 2) ** 2
    alpha = (1 - sigma**2).clamp(min=0).sqrt()
    return alpha_sigma_to_t(alpha, sigma)


def t_to_sigma(t: torch.Tensor) -> torch.Tensor:
    """k-diffusion sigma for diffusion time t."""
    return torch.tan(t * math.pi / 2)


def sigma_to_t(sigma: torch.Tensor) -> torch.Tensor:
    """Diffusion time for a k-diffusion sigma (inf maps to 1)."""
    return torch.atan(sigma) / math.pi * 2


def get_sigmas(
    steps: int, t_start: float = 1.0, sigma_max: float = SIGMA_MAX, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Crash-schedule sigmas for ``steps`` model steps, from ``t_start`` down to 0, ending in 0.

    ``t_start`` < 1 starts part-way (variations, inpainting); the result has ``steps + 1`` entries.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if not 0.0 < t_start <= 1.0:
        raise ValueError(f"t_start must be in (0, 1], got {t_start}")
    t = crash_schedule(torch.linspace(t_start, 0, steps + 1, dtype=torch.float64))
    sigmas = t_to_sigma(t).clamp(max=sigma_max)
    sigmas[-1] = 0.0
    return sigmas.to(device=device, dtype=torch.float32)
