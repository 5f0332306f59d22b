"""Seeded, randomly initialised networks small enough for tests to run them in milliseconds."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ddbridge.model.bundle import ModelBundle
from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig


def tiny_network(
    depth: int = 3, width: int = 4, *, attn: int = 0, classes: int = 0, class_dim: int = 16, seed: int = 0
) -> DanceDiffusionUNet:
    """A ``depth``-level network ``width`` channels wide at every level, initialised from ``seed``."""
    torch.manual_seed(seed)
    config = UNetConfig(
        io_channels=2,
        depth=depth,
        channels=(width,) * depth,
        n_attn_layers=attn,
        num_classes=classes,
        class_embed_dim=class_dim,
    )
    return DanceDiffusionUNet(config).eval()


def tiny_bundle(
    categories: Sequence[str] = (),
    *,
    name: str = "tiny",
    sample_rate: int = 8000,
    sample_size: int = 256,
    defaults: dict | None = None,
    **network: int,
) -> ModelBundle:
    """A bundle around :func:`tiny_network`, conditioned on ``categories`` when there are any."""
    net = tiny_network(classes=len(categories), **network)
    return ModelBundle(net, name, sample_rate, sample_size, tuple(categories), defaults or {})
