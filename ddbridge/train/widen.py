"""Widen a trained network's outermost U-Net level by a whole factor without changing what it computes.

Every channel of the level is repeated ``factor`` times: layers that write the level copy their rows, layers
that read it share each weight among the copies. ``GroupNorm(1, c)`` sees the same mean and variance over
repeated channels, so the wider network gives the same output. Each shared weight gets noise that sums to
zero over its copies: the output stays the same, but the copies receive different gradients and grow apart
as training goes on. The outermost level runs at the full frame rate, where a sub-band network renders its
finest detail; widening it keeps every trained inner level.
"""

from __future__ import annotations

import copy

import torch

from ddbridge.model.original_format import EMA_PREFIX, TRAIN_PREFIX
from ddbridge.model.train_state import STATE_KEY, prefixed_weights
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.protocol.errors import BadRequest


def wider_config(config: UNetConfig, factor: int) -> UNetConfig:
    """``config`` with its outermost level ``factor`` times as wide."""
    if factor < 2:
        raise BadRequest(f"the widening factor must be a whole number of at least 2, got {factor}")
    if config.n_attn_layers and config.depth > 1 and config.depth - config.n_attn_layers - 1 <= 2:
        raise BadRequest("attention reads this network's outermost level; only a level without it can be widened")
    channels = (config.channels[0] * factor,) + tuple(config.channels[1:])
    return UNetConfig.from_dict({**config.to_dict(), "channels": channels})


def _source_index(old: int, new: int, width: int, factor: int) -> torch.Tensor:
    """For each of ``new`` positions along a widened axis, the old position it repeats. The axis is the level
    itself (``old == width``) or the level's input after the inner level, the inner output beside the skip
    (``old == 2 * width``), each half repeated on its own."""
    j = torch.arange(new)
    if old == width:
        return j % width
    if old == 2 * width:
        return (j // (width * factor)) * width + (j % (width * factor)) % width
    raise BadRequest(f"cannot widen an axis of {old} channels on a level of {width}")


def _zero_sum_noise(
    shape: torch.Size, source: torch.Tensor, dim: int, scale: float, gen: torch.Generator
) -> torch.Tensor:
    """Gaussian noise of ``shape`` whose values sum to zero over the copies of each old position along ``dim``."""
    noise = torch.randn(shape, generator=gen) * scale
    moved = noise.movedim(dim, 0)
    sums = torch.zeros((int(source.max()) + 1, *moved.shape[1:])).index_add_(0, source, moved)
    counts = torch.bincount(source).to(noise.dtype).reshape(-1, *([1] * (moved.dim() - 1)))
    return (moved - (sums / counts)[source]).movedim(0, dim)


def widen_weights(
    weights: dict[str, torch.Tensor], config: UNetConfig, factor: int, noise: float = 1e-2, seed: int = 0
) -> dict[str, torch.Tensor]:
    """The weights of ``config``'s network, widened to ``wider_config(config, factor)`` (same output).

    ``noise``: the symmetry-breaking noise on shared weights, relative to each tensor's standard deviation."""
    width, gen = config.channels[0], torch.Generator().manual_seed(seed)
    shapes = {k: v.shape for k, v in DanceDiffusionUNet(wider_config(config, factor)).state_dict().items()}
    gone = [k for k in weights if k not in shapes]
    if gone:
        raise BadRequest(f"cannot widen: the wider network has no place for {', '.join(gone)}")
    # a residual block that kept its width had an identity skip; widened on one side it needs a 1x1 one
    identity = torch.eye(width, dtype=next(iter(weights.values())).dtype)[:, :, None]
    weights = {**{k: identity for k in shapes if k not in weights and k.endswith("skip.weight")}, **weights}
    wider = {}
    for key, value in weights.items():
        value = value.float()
        for dim, (old, new) in enumerate(zip(value.shape, shapes[key], strict=True)):
            if old == new:
                continue
            source = _source_index(old, new, width, factor)
            spread = value.index_select(dim, source)
            if dim == 1:  # an input axis: the copies share the weight
                scale = noise * float(value.std()) if value.numel() > 1 else 0.0
                spread = spread / factor + _zero_sum_noise(spread.shape, source, dim, scale, gen)
            value = spread
        wider[key] = value.to(weights[key].dtype)
    return wider


def widen_state(state: dict, factor: int, noise: float = 1e-2, seed: int = 0) -> dict:
    """A training checkpoint whose network (training and EMA weights) has its outermost level ``factor`` times
    as wide, computing the same output. The optimizer's moments are dropped: resuming warms the learning rate
    up again."""
    meta = state[STATE_KEY]
    config = UNetConfig.from_dict(meta["unet"])
    wider = wider_config(config, factor)
    weights = {}
    for prefix in (TRAIN_PREFIX, EMA_PREFIX):
        part = prefixed_weights(state, prefix)
        if part:
            widened = widen_weights(part, config, factor, noise, seed)
            weights |= {prefix + k: v for k, v in widened.items()}
    new_meta = copy.deepcopy(meta)
    new_meta["unet"] = wider.to_dict()
    new_meta["config"]["channels"] = ",".join(str(c) for c in wider.channels)
    return {**{k: v for k, v in state.items() if k != "optimizer"}, "state_dict": weights, STATE_KEY: new_meta}
