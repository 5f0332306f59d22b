"""Widening a trained network's outermost level: the same output and copies that can grow apart (the command
and a run resumed from its checkpoint: ``tests/test_loop_network.py``)."""

from __future__ import annotations

import pytest
import torch

from ddbridge.model.unet import DanceDiffusionUNet, UNetConfig
from ddbridge.protocol.errors import BadRequest
from ddbridge.train.widen import widen_weights, wider_config

# A loop network whose outer width equals its bands (identity skips that must become 1x1 convolutions on
# both sides of the level) and a one-shot network whose outer level differs from everything around it.
CONFIGS = (
    UNetConfig(io_channels=4, depth=3, channels=(4, 4, 8), n_attn_layers=0, num_classes=7, class_embed_dim=4,
               level_conditioning=True, beat_conditioning=True),
    UNetConfig(io_channels=2, depth=5, channels=(6, 8, 32, 32, 32), n_attn_layers=1, num_classes=3, class_embed_dim=4),
)  # fmt: skip


def _net(config: UNetConfig, weights: dict | None = None, seed: int = 0) -> DanceDiffusionUNet:
    torch.manual_seed(seed)
    net = DanceDiffusionUNet(config)
    if weights is not None:
        net.load_state_dict(weights)
    net.set_loop(config.beat_conditioning)
    return net


def _forward(net: DanceDiffusionUNet, seed: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, net.config.io_channels, 64, generator=gen)
    beats = {"beats": 4.0} if net.config.beat_conditioning else {}
    return net(x, torch.tensor([0.2, 0.9]), torch.tensor([0, 1]), **beats)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("factor", (2, 3))
def test_a_widened_network_gives_the_same_output(config, factor):
    narrow = _net(config)
    wide = _net(wider_config(config, factor), widen_weights(narrow.state_dict(), config, factor))
    assert wide.config.channels[0] == factor * config.channels[0]
    assert wide.num_parameters() > narrow.num_parameters()
    with torch.no_grad():
        torch.testing.assert_close(_forward(wide), _forward(narrow), atol=2e-5, rtol=1e-4)


def test_the_copies_of_a_channel_get_different_gradients():
    config = CONFIGS[0]
    weights = widen_weights(_net(config).state_dict(), config, 2)
    width = config.channels[0]
    wide = _net(wider_config(config, 2), weights)
    _forward(wide).pow(2).mean().backward()
    grad = wide.net[1].main[0].weight.grad  # a convolution inside the outer level: rows and their copies
    assert not torch.allclose(grad[:width], grad[width:])
    still = _net(wider_config(config, 2), widen_weights(_net(config).state_dict(), config, 2, noise=0.0))
    _forward(still).pow(2).mean().backward()
    torch.testing.assert_close(still.net[1].main[0].weight.grad[:width], still.net[1].main[0].weight.grad[width:])


def test_widening_refuses_what_it_cannot_keep():
    with pytest.raises(BadRequest, match="at least 2"):
        wider_config(CONFIGS[0], 1)
    attended = UNetConfig(io_channels=2, depth=3, channels=(32, 32, 32), n_attn_layers=2)
    with pytest.raises(BadRequest, match="attention reads"):
        wider_config(attended, 2)
