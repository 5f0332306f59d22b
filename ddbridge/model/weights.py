"""Turn a state dict in our key naming into a checked, ready network.

Every loader (original ``.ckpt``, diffusers, own format) ends here, so the checks are the same
for all of them: exact key set, exact shapes, finite values, and the fixed resampler kernels.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ddbridge.model.unet import TIMESTEP_FEATURES, DanceDiffusionUNet, Downsample1d, UNetConfig, Upsample1d
from ddbridge.protocol.errors import ModelLoadError

FIRST_CONV = "net.0.main.0.weight"
LAST_CONV = "net.6.main.3.weight"
CLASS_EMBED = "class_embed.weight"
LEVEL_COND = "net.3.cond_proj.weight"


def level_prefix(level: int) -> str:
    """Key prefix of U-Net level ``level`` (1 = outermost): ``net.`` then ``net.3.main.``, ``net.3.main.7.main.``..."""
    return "net." if level == 1 else "net.3." + "main.7." * (level - 2) + "main."


def attention_levels(config: UNetConfig) -> list[int]:
    """The levels whose blocks carry self-attention (never level 1)."""
    if not config.n_attn_layers:
        return []
    first = config.depth - config.n_attn_layers - 1
    return [level for level in range(2, config.depth + 1) if level >= first]


def n_attn_layers_for(first_attention_level: int, depth: int) -> int:
    """The ``n_attn_layers`` that puts the first attention block on ``first_attention_level``."""
    if first_attention_level > 2:
        return depth - 1 - first_attention_level
    return max(depth - 3, 1)


def infer_config(sd: Mapping[str, torch.Tensor], origin: str) -> UNetConfig:
    """Read depth, widths, attention levels, io channels and class embedding off a state dict."""
    for key in (FIRST_CONV, LAST_CONV):
        if key not in sd:
            sample = ", ".join(sorted(sd)[:3]) or "none"
            raise ModelLoadError(f"{origin}: not a Dance Diffusion network: no '{key}' (first keys: {sample})")
    io_channels = sd[LAST_CONV].shape[0]
    channels = [sd[FIRST_CONV].shape[0]]
    while f"{level_prefix(len(channels) + 1)}1.main.0.weight" in sd:
        channels.append(sd[f"{level_prefix(len(channels) + 1)}1.main.0.weight"].shape[0])
    depth = len(channels)
    with_attention = [lvl for lvl in range(2, depth + 1) if f"{level_prefix(lvl)}2.qkv_proj.weight" in sd]
    n_attn = n_attn_layers_for(with_attention[0], depth) if with_attention else 0
    num_classes, class_embed_dim = 0, UNetConfig.class_embed_dim
    if CLASS_EMBED in sd:
        rows, class_embed_dim = sd[CLASS_EMBED].shape
        num_classes = rows - 1
    cond = sd[FIRST_CONV].shape[1] - io_channels
    expected_cond = TIMESTEP_FEATURES + (class_embed_dim if num_classes else 0)
    if cond != expected_cond:
        raise ModelLoadError(
            f"{origin}: '{FIRST_CONV}' takes {sd[FIRST_CONV].shape[1]} input channels; expected "
            f"{io_channels} audio + {expected_cond} conditioning channels"
        )
    level_conditioning = LEVEL_COND in sd
    try:
        return UNetConfig(io_channels, depth, tuple(channels), n_attn, num_classes, class_embed_dim, level_conditioning)
    except ValueError as e:
        raise ModelLoadError(f"{origin}: unsupported network shape: {e}") from None


def build_net(
    config: UNetConfig, sd: Mapping[str, torch.Tensor], origin: str, device: str | torch.device = "cpu"
) -> DanceDiffusionUNet:
    """A network of ``config`` holding exactly the weights in ``sd`` (float32 on ``device``).

    Missing resampler kernels are filled in (they are constants); anything else missing, extra,
    misshapen or non-finite raises ModelLoadError naming the key.
    """
    try:
        with torch.device("meta"):
            net = DanceDiffusionUNet(config)
    except ValueError as e:
        raise ModelLoadError(f"{origin}: unsupported network shape: {e}") from None
    template = net.state_dict()
    kernels = resampler_kernels(net)
    missing = [k for k in template if k not in sd and k not in kernels]
    unexpected = [k for k in sd if k not in template]
    if missing or unexpected:
        report = key_report(missing, unexpected)
        raise ModelLoadError(f"{origin}: weights do not fit a {describe(config)} network: {report}")
    full: dict[str, torch.Tensor] = {}
    for key, want in template.items():
        if key not in sd:
            full[key] = kernels[key].to(device)
            continue
        value = sd[key]
        if not isinstance(value, torch.Tensor):
            raise ModelLoadError(f"{origin}: '{key}' is a {type(value).__name__}, not a tensor")
        if value.shape != want.shape:
            raise ModelLoadError(
                f"{origin}: '{key}' has shape {list(value.shape)}; a {describe(config)} network "
                f"needs {list(want.shape)}"
            )
        if not value.is_floating_point():
            raise ModelLoadError(f"{origin}: '{key}' holds {value.dtype} values, expected floating point")
        value = value.to(device=device, dtype=torch.float32, copy=True)
        if not torch.isfinite(value).all():
            raise ModelLoadError(f"{origin}: '{key}' contains NaN or infinite values; the file is damaged")
        if key in kernels and not torch.allclose(value, kernels[key].to(device)):
            raise ModelLoadError(f"{origin}: '{key}' is not the cubic resampling kernel Dance Diffusion uses")
        full[key] = value
    net.load_state_dict(full, assign=True)
    return net.eval()


def describe(config: UNetConfig) -> str:
    """Short human summary of a network shape."""
    widths = ",".join(str(c) for c in config.channels[: config.depth])
    extra = f", {config.num_classes} classes" if config.num_classes else ""
    extra += ", conditioning at every level" if config.level_conditioning else ""
    attn = f"{config.n_attn_layers} attention layer" + ("" if config.n_attn_layers == 1 else "s")
    return f"depth-{config.depth} [{widths}] ({attn}, {config.io_channels} io{extra})"


def resampler_kernels(net: DanceDiffusionUNet) -> dict[str, torch.Tensor]:
    """The fixed cubic kernel buffers of a network, by state-dict key (constants, not learnt)."""
    down, up = Downsample1d().kernel, Upsample1d().kernel
    return {
        f"{name}.kernel": down if isinstance(m, Downsample1d) else up
        for name, m in net.named_modules()
        if isinstance(m, (Downsample1d, Upsample1d))
    }


def key_report(missing: list[str], unexpected: list[str], shown: int = 3) -> str:
    """``"2 missing ('a', 'b'); 1 unexpected ('c')"``, listing at most ``shown`` keys of each."""
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected)):
        if keys:
            more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
            parts.append(f"{len(keys)} {label} ({', '.join(repr(k) for k in keys[:shown])}{more})")
    return "; ".join(parts)
