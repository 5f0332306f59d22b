"""Seeded, randomly initialised networks small enough for tests to run them in milliseconds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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


def tiny_loop_network(
    *,
    name: str = "tiny-loops",
    sample_rate: int = 8000,
    bands: int = 4,
    depth: int = 3,
    width: int = 8,
    class_dim: int = 4,
    steps: int = 2,
    seed: int = 1,
) -> ModelBundle:
    """A beat-conditioned loop network (``UNetConfig.beat_conditioning``) over the loop genres, as
    ``ddbridge train --loops`` makes one: stereo, a ``bands``-band PQMF representation without lead
    (``bands`` 1: the waveform), its length one bar at 120 BPM."""
    from ddbridge.loops.genres import GENRES

    hop = max(1, bands)
    torch.manual_seed(seed)
    config = UNetConfig(
        io_channels=2 * hop,
        depth=depth,
        channels=(width,) * depth,
        n_attn_layers=0,
        num_classes=len(GENRES),
        class_embed_dim=class_dim,
        beat_conditioning=True,
    )
    net = DanceDiffusionUNet(config).eval()
    net.set_loop(True)
    info: dict = {"default_steps": steps}
    if hop > 1:
        info["representation"] = {"kind": "pqmf", "bands": hop, "taps": 0, "band_scales": [], "mu": 0.0, "lead": 0}
    stride = net.stride * hop
    size = max(1, round(sample_rate * 2.0 / stride)) * stride  # one bar at 120 BPM, to the nearest valid length
    return ModelBundle(net, name, sample_rate, size, tuple(GENRES), info)


def save_with_loop_network(one_shot: ModelBundle, folder: Path, loops: ModelBundle | None = None) -> Path:
    """Save ``loops`` (default :func:`tiny_loop_network` at ``one_shot``'s rate) and ``one_shot`` carrying it
    (``info["loop_model"]``: its absolute path) under ``folder``; the one-shot model's path."""
    from ddbridge.model.checkpoints import save_model

    loops = loops or tiny_loop_network(sample_rate=one_shot.sample_rate)
    loop_path = save_model(loops, Path(folder).absolute() / f"{one_shot.name}-loops")
    one_shot.info["loop_model"] = str(loop_path)
    return save_model(one_shot, Path(folder) / one_shot.name)
