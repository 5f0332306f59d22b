"""Harmonai's original checkpoints: Lightning ``.ckpt`` files whose ``state_dict`` holds the
training network under ``diffusion.`` and its EMA copy (what inference uses) under ``diffusion_ema.``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from ddbridge.model.files import atomic_output
from ddbridge.model.unet import UNetConfig
from ddbridge.model.weights import build_net, infer_config
from ddbridge.protocol.errors import ModelLoadError

EMA_PREFIX = "diffusion_ema."
TRAIN_PREFIX = "diffusion."
TRUST_HINT = "pass --trust-checkpoint (trust_pickle=True) only if you trust where the file came from"


def read_checkpoint(path: Path, trust_pickle: bool = False) -> dict:
    """The unpickled checkpoint. Tensors only, unless ``trust_pickle`` allows arbitrary objects."""
    if not path.is_file():
        raise ModelLoadError(f"checkpoint not found: {path}")
    mmap = zipfile.is_zipfile(path)  # memory-map the (multi-GB) zip format instead of reading it all
    try:
        return _as_dict(torch.load(path, map_location="cpu", weights_only=True, mmap=mmap), path)
    except ModelLoadError:
        raise
    except Exception as e:  # torch.load raises many types for a bad file
        pickled = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        if pickled is None:
            raise ModelLoadError(f"{path}: unreadable checkpoint (truncated or corrupt?): {_first_line(e)}") from None
        if not trust_pickle:
            raise ModelLoadError(
                f"{path} stores a pickled Python object ({pickled.group(1)}), not just weights, and loading it "
                f"could run code; {TRUST_HINT}"
            ) from None
    try:
        return _as_dict(torch.load(path, map_location="cpu", weights_only=False, mmap=mmap), path)
    except ModelLoadError:
        raise
    except Exception as e:
        raise ModelLoadError(f"{path}: could not load even with pickled objects allowed: {_first_line(e)}") from None


def network_weights(checkpoint: Mapping, origin: str) -> tuple[dict[str, torch.Tensor], str]:
    """The network's state dict (prefix stripped) and the prefix it came from.

    Prefers the EMA weights; falls back to the training weights, then to a bare network state dict.
    """
    sd = checkpoint.get("state_dict", checkpoint)
    if not isinstance(sd, Mapping):
        raise ModelLoadError(f"{origin}: 'state_dict' is a {type(sd).__name__}, not a mapping of weights")
    for prefix in (EMA_PREFIX, TRAIN_PREFIX):
        picked = {k[len(prefix) :]: v for k, v in sd.items() if isinstance(k, str) and k.startswith(prefix)}
        if picked:
            return picked, prefix
    return dict(sd), ""


def training_info(checkpoint: Mapping) -> dict:
    """Step and epoch counters a Lightning checkpoint carries, when present."""
    return {k: int(checkpoint[k]) for k in ("global_step", "epoch") if isinstance(checkpoint.get(k), int)}


def trim_checkpoint(src: Path, dst: Path, trust_pickle: bool = False) -> UNetConfig:
    """Write only the inference (EMA) weights of ``src`` to ``dst`` as a small ``.ckpt``.

    The weights are checked first; ``dst`` is written atomically and never overwritten.
    Returns the network's shape.
    """
    checkpoint = read_checkpoint(src, trust_pickle)
    weights, prefix = network_weights(checkpoint, str(src))
    config = infer_config(weights, str(src))
    build_net(config, weights, str(src))
    kept = prefix or EMA_PREFIX
    trimmed = {"state_dict": {kept + k: v for k, v in weights.items()}, **training_info(checkpoint)}
    with atomic_output(dst) as tmp:
        torch.save(trimmed, tmp)
    return config


def _as_dict(obj: object, path: Path) -> dict:
    if not isinstance(obj, dict):
        raise ModelLoadError(f"{path}: holds a {type(obj).__name__}, expected a checkpoint dictionary")
    return obj


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
