"""ddbridge's own model format: safetensors weights plus a JSON description.

The JSON: ``{"format": "ddbridge", "version": 1, "name", "sample_rate", "sample_size",
"categories": [...], "unet": UNetConfig.to_dict(), "info": {training info, default_sampler, default_steps}}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ddbridge.model.bundle import ModelBundle
from ddbridge.model.files import atomic_output
from ddbridge.model.layout import OWN_META, OWN_WEIGHTS, own_paths
from ddbridge.model.unet import UNetConfig
from ddbridge.model.weights import build_net, resampler_kernels
from ddbridge.protocol.errors import ModelLoadError, PathRefused

FORMAT = "ddbridge"
VERSION = 1
LOAD_TIME_INFO = ("source", "format")  # added when loading, not stored


def save_model(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` to a folder, or to ``NAME.safetensors`` + ``NAME.json`` when ``path`` ends in ``.safetensors``.

    Written atomically; refuses (PathRefused) to overwrite. Returns ``path``.
    """
    path = Path(path)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "name": bundle.name,
        "sample_rate": int(bundle.sample_rate),
        "sample_size": int(bundle.sample_size),
        "categories": list(bundle.categories),
        "unet": bundle.net.config.to_dict(),
        "info": {k: v for k, v in bundle.info.items() if k not in LOAD_TIME_INFO},
    }
    meta_text = json.dumps(meta, indent=2) + "\n"
    skip = resampler_kernels(bundle.net)
    tensors = {
        k: v.detach().to("cpu", torch.float32).contiguous() for k, v in bundle.net.state_dict().items() if k not in skip
    }
    if path.suffix != ".safetensors":
        with atomic_output(path, directory=True) as tmp:
            save_file(tensors, str(tmp / OWN_WEIGHTS))
            (tmp / OWN_META).write_text(meta_text, encoding="utf-8")
        return path
    weights_path, meta_path = own_paths(path)
    if meta_path.exists():
        raise PathRefused(f"{meta_path} already exists; remove it or choose another name")
    with atomic_output(weights_path) as tmp:
        save_file(tensors, str(tmp))
    with atomic_output(meta_path) as tmp:
        tmp.write_text(meta_text, encoding="utf-8")
    return path


def load_own(path: Path, device: str | torch.device = "cpu") -> ModelBundle:
    """Load an own-format folder or ``.safetensors`` file (with its sibling JSON)."""
    weights_path, meta_path = own_paths(path)
    meta = _read_meta(meta_path)
    try:
        config = UNetConfig.from_dict(meta["unet"])
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"{meta_path}: bad 'unet' description: {e}") from None
    categories = tuple(str(c) for c in meta.get("categories") or ())
    if len(categories) != config.num_classes:
        raise ModelLoadError(
            f"{meta_path}: lists {len(categories)} categories but the network has {config.num_classes} classes"
        )
    if not weights_path.is_file():
        raise ModelLoadError(f"weights file missing: {weights_path}")
    try:
        weights = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelLoadError(f"{weights_path}: not a readable safetensors file (truncated or corrupt?): {e}") from None
    net = build_net(config, weights, str(weights_path), device)
    info = dict(meta.get("info") or {})
    info.update(source=str(path), format=FORMAT)
    return ModelBundle(net, str(meta["name"]), int(meta["sample_rate"]), int(meta["sample_size"]), categories, info)


def _read_meta(meta_path: Path) -> dict:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelLoadError(f"cannot read {meta_path}: {e.strerror or e}") from None
    except ValueError as e:
        raise ModelLoadError(f"{meta_path}: not valid JSON: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelLoadError(f'{meta_path}: not a ddbridge model description (no "format": "{FORMAT}")')
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise ModelLoadError(f"{meta_path}: format version {meta.get('version')!r} is newer than this ddbridge reads")
    for field in ("name", "sample_rate", "sample_size", "unet"):
        if field not in meta:
            raise ModelLoadError(f"{meta_path}: missing field '{field}'")
    if not isinstance(meta["unet"], dict):
        raise ModelLoadError(f"{meta_path}: 'unet' must be an object")
    for field in ("sample_rate", "sample_size"):
        if not isinstance(meta[field], int) or meta[field] <= 0:
            raise ModelLoadError(f"{meta_path}: '{field}' must be a positive integer, got {meta[field]!r}")
    return meta
