"""The network a training run starts from: a fresh one, or a loaded one adapted to the data's categories."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.model.weights import CLASS_EMBED
from ddbridge.protocol.errors import BadRequest


def parse_channels(spec: str | Sequence[int], depth: int) -> tuple[int, ...]:
    """Channel widths per level from ``"32,32,64"`` or a list; one number means the same width everywhere.

    A list shorter than ``depth`` repeats its last entry.
    """
    try:
        widths = [int(c) for c in (spec.split(",") if isinstance(spec, str) else spec)]
    except ValueError:
        raise BadRequest(f"channels must be comma-separated integers, got '{spec}'") from None
    if not widths or min(widths) < 1:
        raise BadRequest(f"channels must be positive integers, got '{spec}'")
    widths += [widths[-1]] * (depth - len(widths))
    return tuple(widths[:depth])


def new_network(config: UNetConfig, seed: int) -> DanceDiffusionUNet:
    """A freshly initialised network; the same seed gives the same weights without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            return DanceDiffusionUNet(config)
        except ValueError as e:
            raise BadRequest(
                f"unsupported network shape: {e} (attention levels need widths that are multiples of 32)"
            ) from None


def adapt_classes(
    net: DanceDiffusionUNet, categories: Sequence[str], wanted: Sequence[str], seed: int
) -> tuple[DanceDiffusionUNet, tuple[str, ...]]:
    """Make ``net`` (trained on ``categories``) know every category in ``wanted`` as well.

    New categories are appended (their embeddings freshly initialised; the null class keeps its
    row). A network without class conditioning gains it with zero weights on the new input planes,
    so its output is unchanged until training moves them. Returns the network and its categories.
    """
    categories = tuple(categories)
    if net.config.num_classes not in (0, len(categories)):
        raise BadRequest(
            f"the model has {net.config.num_classes} classes but names {len(categories)} categories, so its "
            "classes cannot be matched to the data's sub-folders; fine-tune it without labels (--no-class-cond)"
        )
    merged = categories + tuple(c for c in wanted if c not in categories)
    if merged == categories:
        return net, categories
    config = UNetConfig.from_dict({**net.config.to_dict(), "num_classes": len(merged)})
    fresh = new_network(config, seed)
    old = net.state_dict()
    new = fresh.state_dict()
    for key, value in new.items():
        if key not in old:
            continue
        src = old[key]
        if key == CLASS_EMBED:
            value[: len(categories)] = src[:-1]
            value[-1] = src[-1]
        elif src.shape == value.shape:
            value.copy_(src)
        elif src.dim() == value.dim() and src.shape[0] == value.shape[0] and src.shape[2:] == value.shape[2:]:
            # Input convolutions gain the class planes: keep the old channels, the new ones start at zero.
            value.zero_()
            value[:, : src.shape[1]] = src
        else:
            raise BadRequest(f"cannot carry weight '{key}' of shape {list(src.shape)} into {list(value.shape)}")
    fresh.load_state_dict(new)
    return fresh, merged
