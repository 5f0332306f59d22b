"""Which model format a path holds, told from file names alone (no torch import).

- ``ddbridge``: a folder with ``model.json`` + ``model.safetensors``, or ``NAME.safetensors`` + ``NAME.json``.
- ``diffusers``: a pipeline folder with ``unet/config.json``, or the ``unet`` folder itself.
- ``ckpt``: any other file, read as an original (Lightning) checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

from ddbridge.protocol.errors import ModelLoadError

OWN_WEIGHTS = "model.safetensors"
OWN_META = "model.json"
DIFFUSERS_CONFIG = "config.json"
DIFFUSERS_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
CKPT_SUFFIXES = (".ckpt", ".pt", ".pth")


def own_paths(path: Path) -> tuple[Path, Path]:
    """(weights, metadata JSON) of an own-format folder or ``.safetensors`` file."""
    if path.suffix == ".safetensors":
        return path, path.with_suffix(".json")
    return path / OWN_WEIGHTS, path / OWN_META


def detect_format(path: Path) -> tuple[str, Path]:
    """``(format, path)``; for diffusers the path is the folder holding ``config.json`` and the weights."""
    if path.is_dir():
        if (path / OWN_META).is_file():
            return "ddbridge", path
        for unet in (path / "unet", path):
            if (unet / DIFFUSERS_CONFIG).is_file():
                return "diffusers", unet
        raise ModelLoadError(
            f"{path} holds no model: expected {OWN_META} + {OWN_WEIGHTS} (ddbridge), "
            f"unet/{DIFFUSERS_CONFIG} (diffusers) or a .ckpt file"
        )
    if not path.is_file():
        raise ModelLoadError(f"no such file or folder: {path}")
    if path.suffix == ".safetensors":
        if own_paths(path)[1].is_file():
            return "ddbridge", path
        if (path.parent / DIFFUSERS_CONFIG).is_file():
            return "diffusers", path.parent
        raise ModelLoadError(f"{path} has no {path.with_suffix('.json').name} beside it describing the network")
    return "ckpt", path


def peek_rate_and_size(path: Path) -> tuple[int | None, int | None]:
    """Sample rate and size from a model's JSON, without loading weights; None where unknown."""
    try:
        kind, where = detect_format(path)
    except ModelLoadError:
        return None, None
    if kind == "ckpt":
        return None, None
    meta_file = own_paths(where)[1] if kind == "ddbridge" else where / DIFFUSERS_CONFIG
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(meta, dict):
        return None, None
    rate, size = meta.get("sample_rate"), meta.get("sample_size")
    return (rate if isinstance(rate, int) else None), (size if isinstance(size, int) else None)
