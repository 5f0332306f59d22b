"""Harmonai's DiffusionAttnUnet1D, the Dance Diffusion network, with optional class conditioning.

Module and parameter names follow the original ``audio_diffusion/models.py`` so that the
released ``.ckpt`` state dicts load key for key. Two departures that do not change the output:
the cubic resamplers use a depthwise convolution instead of a dense, mostly-zero C×C kernel,
and attention runs through ``F.scaled_dot_product_attention``.

The original feeds the timestep (and here the class) only to the first convolution, as constant
input planes. ``level_conditioning`` also adds a learnt per-channel offset of that conditioning at
the entry of every deeper level, so a network with narrow outer levels still hears the noise level
and the category where its coarse structure is decided. Released models do not use it.

``beat_conditioning`` (loop networks) tells the network where the beats fall: the input gets
``BEAT_PLANES`` cosine/sine planes whose periods are a sixteenth, an eighth, a beat, two beats and a
bar of the window's ``beats``, and the conditioning vector gets Fourier features of the beat's length
in frames (the tempo). With circular padding a network is otherwise blind to position: the planes put
the downbeat at the start of the window and the grid under every hit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

CUBIC_KERNEL = (-0.01171875, -0.03515625, 0.11328125, 0.43359375, 0.43359375, 0.11328125, -0.03515625, -0.01171875)
TIMESTEP_FEATURES = 16
BEAT_PERIODS = (0.25, 0.5, 1.0, 2.0, 4.0)  # in beats: sixteenth, eighth, beat, half bar, bar
BEAT_PLANES = 2 * len(BEAT_PERIODS)
TEMPO_FEATURES = 16
TEMPO_CENTRE = 10.0  # log2 of a beat's length in frames around which the tempo features turn


@dataclass(frozen=True)
class UNetConfig:
    """Shape of a Dance Diffusion network; the defaults are those of the released models."""

    io_channels: int = 2
    depth: int = 14
    channels: tuple[int, ...] = field(default=(128, 128, 256, 256) + (512,) * 10)
    n_attn_layers: int = 4
    num_classes: int = 0
    class_embed_dim: int = 16
    level_conditioning: bool = False
    beat_conditioning: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if self.depth < 1 or len(self.channels) < self.depth:
            raise ValueError(f"depth {self.depth} needs {self.depth} channel entries, got {len(self.channels)}")
        if self.io_channels < 1 or self.n_attn_layers < 0 or self.num_classes < 0:
            raise ValueError("io_channels must be >= 1, n_attn_layers and num_classes >= 0")

    @property
    def stride(self) -> int:
        """Input lengths must be a multiple of this (one factor of two per down-sampling)."""
        return 2 ** (self.depth - 1)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> UNetConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


class ResidualBlock(nn.Module):
    def __init__(self, main: list[nn.Module], skip: nn.Module | None = None) -> None:
        super().__init__()
        self.main = nn.Sequential(*main)
        self.skip = skip if skip is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x) + self.skip(x)


class ResConvBlock(ResidualBlock):
    """conv5 → GroupNorm → GELU → conv5 → GroupNorm → GELU, plus a 1×1 skip when widths differ."""

    def __init__(self, c_in: int, c_mid: int, c_out: int, is_last: bool = False) -> None:
        skip = None if c_in == c_out else nn.Conv1d(c_in, c_out, 1, bias=False)
        super().__init__(
            [
                nn.Conv1d(c_in, c_mid, 5, padding=2),
                nn.GroupNorm(1, c_mid),
                nn.GELU(),
                nn.Conv1d(c_mid, c_out, 5, padding=2),
                nn.GroupNorm(1, c_out) if not is_last else nn.Identity(),
                nn.GELU() if not is_last else nn.Identity(),
            ],
            skip,
        )


class SelfAttention1d(nn.Module):
    def __init__(self, c_in: int, n_head: int = 1) -> None:
        super().__init__()
        if c_in % n_head:
            raise ValueError(f"{c_in} channels do not split into {n_head} heads")
        self.norm = nn.GroupNorm(1, c_in)
        self.n_head = n_head
        self.qkv_proj = nn.Conv1d(c_in, c_in * 3, 1)
        self.out_proj = nn.Conv1d(c_in, c_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, s = x.shape
        qkv = self.qkv_proj(self.norm(x)).view(n, self.n_head * 3, c // self.n_head, s).transpose(2, 3)
        q, k, v = qkv.chunk(3, dim=1)
        y = F.scaled_dot_product_attention(q.contiguous(), k.contiguous(), v.contiguous())
        return x + self.out_proj(y.transpose(2, 3).reshape(n, c, s))


class Downsample1d(nn.Module):
    """Halve the length with the cubic kernel, one channel at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("kernel", torch.tensor(CUBIC_KERNEL))
        self.pad = len(CUBIC_KERNEL) // 2 - 1
        self.pad_mode = "reflect"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        x = F.pad(x, (self.pad, self.pad), self.pad_mode)
        weight = self.kernel.to(x.dtype).expand(c, 1, -1)
        return F.conv1d(x, weight, stride=2, groups=c)


class Upsample1d(nn.Module):
    """Double the length with the cubic kernel, one channel at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("kernel", torch.tensor(CUBIC_KERNEL) * 2)
        self.pad = len(CUBIC_KERNEL) // 2 - 1
        self.pad_mode = "reflect"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        p = (self.pad + 1) // 2
        x = F.pad(x, (p, p), self.pad_mode)
        weight = self.kernel.to(x.dtype).expand(c, 1, -1)
        return F.conv_transpose1d(x, weight, stride=2, padding=self.pad * 2 + 1, groups=c)


class SkipBlock(nn.Module):
    """One U-Net level: ``main`` (down, blocks, the inner level, blocks, up) beside the identity.

    With ``cond_channels`` the conditioning vector is projected to a per-channel offset that is
    added to the input of ``main`` (a constant survives the cubic downsampling unchanged).
    """

    def __init__(self, *main: nn.Module, c_in: int = 0, cond_channels: int = 0) -> None:
        super().__init__()
        self.main = nn.Sequential(*main)
        self.cond_proj = nn.Linear(cond_channels, c_in) if cond_channels else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        inner = x if self.cond_proj is None or cond is None else x + self.cond_proj(cond)[:, :, None]
        return torch.cat([run_blocks(self.main, inner, cond), x], dim=1)


def run_blocks(blocks: nn.Sequential, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    """Apply ``blocks`` in order, handing ``cond`` to the nested level."""
    for block in blocks:
        x = block(x, cond) if isinstance(block, SkipBlock) else block(x)
    return x


class FourierFeatures(nn.Module):
    def __init__(self, in_features: int, out_features: int, std: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features // 2, in_features) * std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = 2 * math.pi * x @ self.weight.T
        return torch.cat([f.cos(), f.sin()], dim=-1)


def beat_planes(length: int, beats: float, like: torch.Tensor) -> torch.Tensor:
    """``[1, BEAT_PLANES, length]``: a cosine and a sine per period of :data:`BEAT_PERIODS`, the window holding
    ``beats`` beats, phase 0 at its first frame."""
    position = torch.arange(length, dtype=torch.float64, device=like.device) * (beats / length)
    angles = torch.stack([2 * math.pi * position / p for p in BEAT_PERIODS])
    return torch.cat([angles.cos(), angles.sin()]).to(like.dtype)[None]


class DanceDiffusionUNet(nn.Module):
    """v-predicting U-Net: ``forward(x [B, io, L], t [B]) -> v [B, io, L]``."""

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or UNetConfig()
        self.timestep_embed = FourierFeatures(1, TIMESTEP_FEATURES)
        cond_channels = TIMESTEP_FEATURES
        if config.beat_conditioning:
            self.tempo_embed = FourierFeatures(1, TEMPO_FEATURES)
            cond_channels += TEMPO_FEATURES
        if config.num_classes:
            # The last row is the null class used for classifier-free guidance.
            self.class_embed = nn.Embedding(config.num_classes + 1, config.class_embed_dim)
            cond_channels += config.class_embed_dim
        level_cond = cond_channels if config.level_conditioning else 0
        c_mults, depth = config.channels, config.depth
        attn_layer = depth - config.n_attn_layers - 1

        def attn(c: int, add: bool) -> nn.Module:
            return SelfAttention1d(c, max(c // 32, 1)) if add else nn.Identity()

        block: nn.Module = nn.Identity()
        for i in range(depth, 0, -1):
            c = c_mults[i - 1]
            if i > 1:
                c_prev = c_mults[i - 2]
                add = i >= attn_layer and config.n_attn_layers > 0
                block = SkipBlock(
                    Downsample1d(),
                    ResConvBlock(c_prev, c, c), attn(c, add),
                    ResConvBlock(c, c, c), attn(c, add),
                    ResConvBlock(c, c, c), attn(c, add),
                    block,
                    ResConvBlock(c * 2 if i != depth else c, c, c), attn(c, add),
                    ResConvBlock(c, c, c), attn(c, add),
                    ResConvBlock(c, c, c_prev), attn(c_prev, add),
                    Upsample1d(),
                    c_in=c_prev, cond_channels=level_cond,
                )  # fmt: skip
            else:
                block = nn.Sequential(
                    ResConvBlock(config.io_channels + cond_channels + self.beat_plane_count, c, c),
                    ResConvBlock(c, c, c),
                    ResConvBlock(c, c, c),
                    block,
                    ResConvBlock(c * 2 if depth > 1 else c, c, c),
                    ResConvBlock(c, c, c),
                    ResConvBlock(c, c, config.io_channels, is_last=True),
                )
        self.net = block
        self._loop = False

    @property
    def stride(self) -> int:
        return self.config.stride

    @property
    def beat_plane_count(self) -> int:
        """Input planes that mark the beat grid (0 unless the network is beat-conditioned)."""
        return BEAT_PLANES if self.config.beat_conditioning else 0

    @property
    def loop(self) -> bool:
        return self._loop

    def set_loop(self, loop: bool) -> None:
        """Switch every convolution and resampler to circular padding so outputs loop seamlessly."""
        self._loop = loop
        for m in self.modules():
            if isinstance(m, nn.Conv1d) and m.kernel_size[0] > 1:
                m.padding_mode = "circular" if loop else "zeros"
            elif isinstance(m, (Downsample1d, Upsample1d)):
                m.pad_mode = "circular" if loop else "reflect"

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, class_labels: torch.Tensor | None = None, beats: float | None = None
    ) -> torch.Tensor:
        """``v`` for ``x`` at time ``t``; ``beats``: how many beats the window holds (beat-conditioned networks)."""
        if x.shape[-1] % self.stride:
            raise ValueError(f"length {x.shape[-1]} is not a multiple of the network stride {self.stride}")
        n, _, length = x.shape
        t = t.to(x.dtype).reshape(-1).expand(n) if t.numel() == 1 else t.to(x.dtype)
        cond = [self.timestep_embed(t[:, None])]
        planes = [x]
        if self.config.beat_conditioning:
            if beats is None or not beats > 0:
                raise ValueError(f"a beat-conditioned network needs the window's beats (> 0), got {beats}")
            tempo = torch.full((n, 1), math.log2(length / beats) - TEMPO_CENTRE, dtype=x.dtype, device=x.device)
            cond.append(self.tempo_embed(tempo))
            planes.append(beat_planes(length, float(beats), x).expand(n, -1, -1))
        if self.config.num_classes:
            if class_labels is None:
                class_labels = torch.full((n,), self.config.num_classes, dtype=torch.long, device=x.device)
            cond.append(self.class_embed(class_labels.to(x.device)).to(x.dtype))
        cond_vector = torch.cat(cond, dim=1)
        planes.append(cond_vector[:, :, None].expand(n, -1, length))
        return run_blocks(self.net, torch.cat(planes, dim=1), cond_vector)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
