"""diffusers' ``UNet1DModel`` in the Dance Diffusion layout, read and written without diffusers.

Structure correspondence (level 1 = outermost, ``depth`` = deepest):

- level 1: ``net.0-2`` = ``down_blocks.0.resnets.0-2``; ``net.4-6`` = ``up_blocks.{depth-2}.resnets.0-2``
- level L in 2..depth-1: down half (``main.1-6``) = ``down_blocks.{L-1}``, up half (``main.8-13``)
  = ``up_blocks.{depth-1-L}``; resnets at odd positions, attentions at even ones
- level ``depth``: both halves = ``mid_block`` (resnets/attentions 0-2 down, 3-5 up)
- ``timestep_embed.weight`` [8, 1] = ``time_proj.weight`` [8]; ``qkv_proj`` (1×1 conv, 3C) = ``query`` /
  ``key`` / ``value`` (linear, C each); ``out_proj`` = ``proj_attn``.

diffusers builds the timestep features as cos-then-sin when ``flip_sin_to_cos`` is true (its
default, and the released conversions), which is our order; sin-then-cos weights are handled by
swapping the matching input columns of the first convolution.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ddbridge.model.layout import DIFFUSERS_CONFIG, DIFFUSERS_WEIGHTS
from ddbridge.model.original_format import read_checkpoint
from ddbridge.model.unet import TIMESTEP_FEATURES, DanceDiffusionUNet, UNetConfig
from ddbridge.model.weights import attention_levels, build_net, describe, key_report, n_attn_layers_for
from ddbridge.protocol.errors import ModelLoadError

_RES = {"main.0": ("conv_1",), "main.1": ("group_norm_1",), "main.3": ("conv_2",), "main.4": ("group_norm_2",)}
_RES_SKIP = {"skip": ("conv_skip",)}
_ATTN = {"norm": ("group_norm",), "qkv_proj": ("query", "key", "value"), "out_proj": ("proj_attn",)}
_SQUEEZED = ("qkv_proj.weight", "out_proj.weight", "timestep_embed.weight")  # 1×1 conv / [8, 1] -> matrix / [8]
_HUB_FILES = ("model_index.json", f"unet/{DIFFUSERS_CONFIG}")
_MIRRORED = {("DownBlock1D", "UpBlock1D"), ("AttnDownBlock1D", "AttnUpBlock1D")}
_TRUE = {"1", "ON", "YES", "TRUE"}


def diffusers_config_for(config: UNetConfig, sample_rate: int, sample_size: int) -> dict:
    """The ``UNet1DModel`` config whose network equals ours (pass to ``UNet1DModel(**cfg)`` / ``from_config``).

    Raises ValueError for shapes diffusers cannot express (see :func:`diffusers_incompatibility`).
    """
    reason = diffusers_incompatibility(config)
    if reason:
        raise ValueError(f"a {describe(config)} network has no diffusers equivalent: {reason}")
    attn = set(attention_levels(config))
    down = ["AttnDownBlock1D" if level in attn else "DownBlock1D" for level in range(2, config.depth)]
    up = ["AttnUpBlock1D" if level in attn else "UpBlock1D" for level in range(config.depth - 1, 1, -1)]
    return {
        "sample_size": int(sample_size),
        "sample_rate": int(sample_rate),
        "in_channels": config.io_channels,
        "out_channels": config.io_channels,
        "extra_in_channels": TIMESTEP_FEATURES,
        "time_embedding_type": "fourier",
        "time_embedding_dim": TIMESTEP_FEATURES,
        "flip_sin_to_cos": True,
        "use_timestep_embedding": False,
        "freq_shift": 0.0,
        "down_block_types": ["DownBlock1DNoSkip", *down],
        "up_block_types": [*up, "UpBlock1DNoSkip"],
        "mid_block_type": "UNetMidBlock1D",
        "out_block_type": None,
        "block_out_channels": list(config.channels[: config.depth - 1]),
        "act_fn": None,
        "norm_num_groups": 8,
        "layers_per_block": 1,
        "downsample_each_block": False,
    }


def diffusers_incompatibility(config: UNetConfig) -> str | None:
    """Why diffusers' ``UNet1DModel`` cannot hold this network, or None when it can."""
    c = config.channels[: config.depth]
    if config.num_classes:
        return "it is class-conditioned"
    if config.level_conditioning:
        return "it feeds the noise level to every level"
    if config.depth < 2:
        return "it needs at least 2 levels"
    if not config.n_attn_layers:
        return "its middle block always has attention"
    for level in attention_levels(config):
        if c[level - 1] < 32:
            return f"attention at level {level} has {c[level - 1]} channels; diffusers needs >= 32 (32 per head)"
        if c[level - 1] != c[level - 2]:
            return f"attention level {level} changes width ({c[level - 2]} -> {c[level - 1]})"
    return None


def unet_to_diffusers_state_dict(net: DanceDiffusionUNet) -> dict[str, torch.Tensor]:
    """Our network's weights under diffusers' ``UNet1DModel`` keys (for ``load_state_dict``)."""
    reason = diffusers_incompatibility(net.config)
    if reason:
        raise ValueError(f"a {describe(net.config)} network has no diffusers equivalent: {reason}")
    ours = net.state_dict()
    out: dict[str, torch.Tensor] = {}
    for key, d_keys in key_map(net.config).items():
        for d_key, part in zip(d_keys, _split(key, ours[key].detach(), len(d_keys)), strict=True):
            out[d_key] = part.clone()
    return out


def unet_from_diffusers(
    state_dict: Mapping[str, torch.Tensor],
    config: Mapping,
    origin: str = "diffusers weights",
    device: str | torch.device = "cpu",
) -> DanceDiffusionUNet:
    """Our network from a ``UNet1DModel`` state dict and its config (``config.json`` contents)."""
    ucfg = config_from_diffusers(config, origin)
    mapping = key_map(ucfg)
    with torch.device("meta"):
        template = DanceDiffusionUNet(ucfg).state_dict()
    ours: dict[str, torch.Tensor] = {}
    missing: list[str] = []
    for key, d_keys in mapping.items():
        absent = [k for k in d_keys if k not in state_dict]
        if absent:
            if not key.endswith(".kernel"):  # resampler kernels are constants and may be left out
                missing += absent
            continue
        want = _split(key, template[key], len(d_keys))
        for d_key, w in zip(d_keys, want, strict=True):
            if tuple(state_dict[d_key].shape) != tuple(w.shape):
                raise ModelLoadError(
                    f"{origin}: '{d_key}' has shape {list(state_dict[d_key].shape)}, "
                    f"a {describe(ucfg)} network needs {list(w.shape)}"
                )
        ours[key] = torch.cat([state_dict[k] for k in d_keys]).reshape(template[key].shape)
    known = {k for d_keys in mapping.values() for k in d_keys}
    unexpected = [k for k in state_dict if k not in known]
    if missing or unexpected:
        raise ModelLoadError(
            f"{origin}: weights do not fit the network config.json describes ({describe(ucfg)}): "
            + key_report(missing, unexpected)
        )
    if not config.get("flip_sin_to_cos", True):
        _swap_sin_cos_inputs(ours, ucfg.io_channels)
    return build_net(ucfg, ours, origin, device)


def config_from_diffusers(cfg: Mapping, origin: str) -> UNetConfig:
    """Our network shape from a ``UNet1DModel`` config; ModelLoadError if it is not the Dance Diffusion layout."""

    def need(field: str, ok: bool, expected: str) -> None:
        if not ok:
            raise ModelLoadError(f"{origin}: '{field}' is {cfg.get(field)!r}; a Dance Diffusion UNet has {expected}")

    need("_class_name", cfg.get("_class_name", "UNet1DModel") == "UNet1DModel", "UNet1DModel")
    need("time_embedding_type", cfg.get("time_embedding_type", "fourier") == "fourier", "'fourier'")
    need("use_timestep_embedding", not cfg.get("use_timestep_embedding", False), "false")
    need("mid_block_type", cfg.get("mid_block_type", "UNetMidBlock1D") == "UNetMidBlock1D", "'UNetMidBlock1D'")
    need("out_block_type", cfg.get("out_block_type") is None, "null")
    need("extra_in_channels", cfg.get("extra_in_channels") == TIMESTEP_FEATURES, str(TIMESTEP_FEATURES))
    io = cfg.get("in_channels", 2)
    need("out_channels", cfg.get("out_channels", 2) == io, f"the same as in_channels ({io})")
    widths = cfg.get("block_out_channels")
    need("block_out_channels", isinstance(widths, list) and len(widths) >= 1, "a list of widths")
    n = len(widths)
    down, up = list(cfg.get("down_block_types") or []), list(cfg.get("up_block_types") or [])
    need("down_block_types", len(down) == n and down[:1] == ["DownBlock1DNoSkip"], f"{n}, DownBlock1DNoSkip first")
    need("up_block_types", len(up) == n and up[-1:] == ["UpBlock1DNoSkip"], f"{n}, UpBlock1DNoSkip last")
    depth = n + 1
    attn = [depth]
    for level in range(2, depth):
        kinds = (down[level - 1], up[depth - 1 - level])
        need("down_block_types", kinds[0] in ("DownBlock1D", "AttnDownBlock1D"), "DownBlock1D / AttnDownBlock1D")
        need("up_block_types", kinds in _MIRRORED, f"the mirror image of down_block_types (level {level})")
        if kinds[0] == "AttnDownBlock1D":
            attn.append(level)
    n_attn = n_attn_layers_for(min(attn), depth)
    try:
        config = UNetConfig(io, depth, tuple(widths) + (widths[-1],), n_attn)
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"{origin}: unsupported network shape: {e}") from None
    if sorted(attn) != attention_levels(config):
        raise ModelLoadError(f"{origin}: attention on levels {sorted(attn)} is not a Dance Diffusion layout")
    reason = diffusers_incompatibility(config)
    if reason:
        raise ModelLoadError(f"{origin}: not a Dance Diffusion layout: {reason}")
    return config


def key_map(config: UNetConfig) -> dict[str, tuple[str, ...]]:
    """Each of our state-dict keys -> the diffusers key(s) holding it (q, k, v are separate there)."""
    with torch.device("meta"):
        template = DanceDiffusionUNet(config).state_dict()
    out: dict[str, tuple[str, ...]] = {}
    for ours, theirs, leaves in _module_pairs(config.depth):
        for leaf, d_leaves in leaves.items():
            for param in ("weight", "bias", "kernel"):
                key = f"{ours}.{leaf}.{param}" if leaf else f"{ours}.{param}"
                if key in template:
                    out[key] = tuple(f"{theirs}.{d}.{param}" if d else f"{theirs}.{param}" for d in d_leaves)
    return out


def read_diffusers_folder(unet_dir: Path, trust_pickle: bool = False) -> tuple[dict[str, torch.Tensor], dict]:
    """The weights and parsed ``config.json`` of a diffusers UNet folder (``trust_pickle``: as for ``.ckpt``)."""
    config_path = unet_dir / DIFFUSERS_CONFIG
    try:
        cfg = json.loads(config_path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelLoadError(f"cannot read {config_path}: {e.strerror or e}") from None
    except ValueError as e:
        raise ModelLoadError(f"{config_path}: not valid JSON: {e}") from None
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{config_path}: expected a JSON object")
    for name in DIFFUSERS_WEIGHTS:
        weights_path = unet_dir / name
        if weights_path.is_file():
            break
    else:
        raise ModelLoadError(f"{unet_dir} has {DIFFUSERS_CONFIG} but no weights ({' or '.join(DIFFUSERS_WEIGHTS)})")
    if weights_path.suffix == ".safetensors":
        try:
            return load_file(str(weights_path)), cfg
        except (SafetensorError, OSError, ValueError) as e:
            raise ModelLoadError(f"{weights_path}: unreadable safetensors file (truncated or corrupt?): {e}") from None
    return read_checkpoint(weights_path, trust_pickle), cfg


def fetch_from_hub(repo_id: str) -> Path:
    """A local snapshot of hub repository ``repo_id`` (config + one weights file), downloading if allowed.

    Honours ``HF_HUB_OFFLINE``; a snapshot that is neither cached nor downloadable raises ModelLoadError.
    """
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUE
    try:
        for weights in DIFFUSERS_WEIGHTS:  # the safetensors file when the repository has one, else the .bin
            patterns = [*_HUB_FILES, f"unet/{weights}"]
            folder = Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=offline))
            if (folder / "unet" / weights).is_file():
                break
    except Exception as e:  # huggingface_hub signals offline, unreachable and missing repositories in many ways
        detail = (str(e).strip().splitlines() or [""])[0]
        why = "HF_HUB_OFFLINE is set" if offline else f"could not be downloaded ({type(e).__name__}: {detail})"
        raise ModelLoadError(
            f"model '{repo_id}' is not in the local Hugging Face cache and {why}. Download it on a connected "
            f"machine (huggingface-cli download {repo_id}) or pass the path of a local copy."
        ) from None
    return folder


def _module_pairs(depth: int) -> Iterator[tuple[str, str, Mapping[str, tuple[str, ...]]]]:
    """(our module, diffusers module, leaf names) for every module holding weights."""
    res = {**_RES, **_RES_SKIP}
    yield "timestep_embed", "time_proj", {"": ("",)}
    for k in range(3):
        yield f"net.{k}", f"down_blocks.0.resnets.{k}", res
        yield f"net.{4 + k}", f"up_blocks.{depth - 2}.resnets.{k}", res
    for level in range(2, depth + 1):
        p = "net.3." + "main.7." * (level - 2) + "main."
        if level == depth:
            down, up, offset = "mid_block", "mid_block", 3
        else:
            down, up, offset = f"down_blocks.{level - 1}", f"up_blocks.{depth - 1 - level}", 0
        yield f"{p}0", f"{down}.down", {"": ("",)}
        yield f"{p}14", f"{up}.up", {"": ("",)}
        for k in range(3):
            yield f"{p}{1 + 2 * k}", f"{down}.resnets.{k}", res
            yield f"{p}{2 + 2 * k}", f"{down}.attentions.{k}", _ATTN
            yield f"{p}{8 + 2 * k}", f"{up}.resnets.{k + offset}", res
            yield f"{p}{9 + 2 * k}", f"{up}.attentions.{k + offset}", _ATTN


def _split(key: str, tensor: torch.Tensor, parts: int) -> tuple[torch.Tensor, ...]:
    if key.endswith(_SQUEEZED):
        tensor = tensor.squeeze(-1)
    return tensor.chunk(parts) if parts > 1 else (tensor,)


def _swap_sin_cos_inputs(sd: dict[str, torch.Tensor], io: int) -> None:
    """Reorder the first convolution's timestep input columns from sin-then-cos to cos-then-sin."""
    half = TIMESTEP_FEATURES // 2
    order = [*range(io), *range(io + half, io + 2 * half), *range(io, io + half)]
    for key in ("net.0.main.0.weight", "net.0.skip.weight"):
        if key in sd:
            w = sd[key]
            sd[key] = torch.cat([w[:, order], w[:, io + 2 * half :]], dim=1)
