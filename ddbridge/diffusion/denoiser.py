"""Wrap a v-predicting network as a k-diffusion denoiser ``D(x, sigma) -> x0``."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ddbridge.diffusion.parallel import sharded_forward

Denoiser = Callable[..., torch.Tensor]


class VDenoiser:
    """k-diffusion's VDenoiser (sigma_data = 1) around a Dance Diffusion network.

    ``guidance_scale`` > 1 applies classifier-free guidance toward ``class_labels``; it needs a
    class-conditioned network (the unconditional branch uses its null class).
    """

    def __init__(self, net: nn.Module) -> None:
        self.net = net

    def v(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        class_labels: torch.Tensor | None = None,
        guidance_scale: float = 1.0,
        beats: float | None = None,
    ) -> torch.Tensor:
        """The network's v prediction at diffusion time t, with classifier-free guidance applied; ``beats`` goes to
        beat-conditioned (loop) networks."""
        if class_labels is None or guidance_scale == 1.0:
            return sharded_forward(self.net, x, t, class_labels, beats)
        null = torch.full_like(class_labels, self.net.config.num_classes)
        both = sharded_forward(self.net, torch.cat([x, x]), torch.cat([t, t]), torch.cat([class_labels, null]), beats)
        v_cond, v_uncond = both.chunk(2)
        return v_uncond + guidance_scale * (v_cond - v_uncond)

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, **extra_args) -> torch.Tensor:
        sigma = sigma.to(x.dtype).reshape(-1).expand(x.shape[0])
        s = sigma[:, None, None]
        c_skip = 1 / (s**2 + 1)
        c_out = -s / (s**2 + 1).sqrt()
        c_in = 1 / (s**2 + 1).sqrt()
        t = torch.atan(sigma) * 2 / math.pi
        return self.v(x * c_in, t, **extra_args) * c_out + x * c_skip
