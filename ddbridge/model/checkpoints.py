"""Load a Dance Diffusion model from any supported source into a :class:`ModelBundle`.

A source is a registry name (``maestro-150k``, ``default``, a model in the models folder), a path
(original ``.ckpt``, diffusers folder, own-format folder or ``.safetensors``) or a hub id
(``harmonai/maestro-150k``). Nothing is cached here: the daemon keeps models warm.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ddbridge.model.bundle import ModelBundle
from ddbridge.model.diffusers_format import (
    diffusers_config_for,
    fetch_from_hub,
    read_diffusers_folder,
    unet_from_diffusers,
    unet_to_diffusers_state_dict,
)
from ddbridge.model.layout import CKPT_SUFFIXES, detect_format
from ddbridge.model.original_format import EMA_PREFIX, TRAIN_PREFIX, network_weights, read_checkpoint, training_info
from ddbridge.model.own_format import load_own, save_model
from ddbridge.model.registry import find_released, resolve
from ddbridge.model.train_state import bundle_from_state, is_train_state
from ddbridge.model.unet import DanceDiffusionUNet
from ddbridge.model.weights import build_net, infer_config
from ddbridge.protocol.errors import BadRequest, UnknownModel

__all__ = [
    "diffusers_config_for",
    "load_model",
    "locate",
    "save_model",
    "unet_from_diffusers",
    "unet_to_diffusers_state_dict",
]

# sample-generator's training defaults, used when a file does not say (recorded in info["assumed"])
FALLBACK_SAMPLE_RATE = 48000
FALLBACK_SAMPLE_SIZE = 65536
MODEL_SUFFIXES = (*CKPT_SUFFIXES, ".safetensors", ".bin")
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
_WEIGHT_KIND = {EMA_PREFIX: "ema", TRAIN_PREFIX: "training"}


def load_model(
    source: str | Path,
    device: str | torch.device = "cpu",
    *,
    trust_pickle: bool = False,
    sample_rate: int | None = None,
    sample_size: int | None = None,
) -> ModelBundle:
    """Load ``source`` (see module doc) onto ``device``, in eval mode, float32.

    ``trust_pickle`` allows original checkpoints that pickle Python objects (this can run code).
    ``sample_rate`` / ``sample_size`` override what the file says or what is assumed.
    Raises UnknownModel for unknown names and ModelLoadError for anything wrong with the files.
    """
    target, name = locate(source)
    hub_id = target if isinstance(target, str) else None
    kind, where = detect_format(fetch_from_hub(hub_id) if hub_id else target)
    if kind == "ddbridge":
        bundle = load_own(where, device)
    elif kind == "diffusers":
        name = name or (hub_id.split("/")[-1] if hub_id else _folder_name(where))
        bundle = _load_diffusers(where, name, device, trust_pickle)
    else:
        bundle = _load_ckpt(where, name or where.stem, device, trust_pickle)
    if hub_id:
        bundle.info["hub_id"] = hub_id
    if kind == "ddbridge" and bundle.info.get("loop_model"):
        bundle.loop_network = load_model(_beside(where, bundle.info["loop_model"]), device)
    if sample_rate is not None or sample_size is not None:
        bundle = _override(bundle, sample_rate, sample_size)
    return bundle


def _beside(model: Path, name: str) -> str:
    """``name`` (a model a model names) as a path when it is one relative to ``model``'s folder, else as given."""
    folder = model if model.is_dir() else model.parent
    nearby = folder / name
    return str(nearby) if not Path(name).is_absolute() and nearby.exists() else name


def locate(source: str | Path) -> tuple[Path | str, str | None]:
    """What ``source`` refers to: ``(local path or hub id, registry name or None)``."""
    if isinstance(source, Path):
        return source.expanduser(), None
    text = str(source).strip()
    if not text:
        raise UnknownModel("no model given: name a model, a path or a hub id")
    suffix = Path(text).suffix
    path = Path(text).expanduser()
    if "/" not in text and "\\" not in text and suffix not in MODEL_SUFFIXES:
        released = find_released(text)
        try:
            return resolve(text), released.name if released else text
        except UnknownModel:
            if path.exists():  # a folder in the working directory, named without "./"
                return path, None
            raise
    if path.exists() or suffix in MODEL_SUFFIXES or text.startswith(".") or not _HUB_ID.fullmatch(text):
        return path, None
    return text, None


def _load_ckpt(path: Path, name: str, device: str | torch.device, trust_pickle: bool) -> ModelBundle:
    checkpoint = read_checkpoint(path, trust_pickle)
    if is_train_state(checkpoint):
        return bundle_from_state(checkpoint, name, device, {"source": str(path), "format": "ckpt", "weights": "ema"})
    weights, prefix = network_weights(checkpoint, str(path))
    net = build_net(infer_config(weights, str(path)), weights, str(path), device)
    info = {"source": str(path), "format": "ckpt", "weights": _WEIGHT_KIND.get(prefix, "network")}
    return _bundle(net, name, None, None, {**info, **training_info(checkpoint)})


def _load_diffusers(unet_dir: Path, name: str, device: str | torch.device, trust_pickle: bool) -> ModelBundle:
    weights, cfg = read_diffusers_folder(unet_dir, trust_pickle)
    net = unet_from_diffusers(weights, cfg, str(unet_dir), device)
    info = {"source": str(unet_dir), "format": "diffusers"}
    return _bundle(net, name, cfg.get("sample_rate"), cfg.get("sample_size"), info)


def _bundle(net: DanceDiffusionUNet, name: str, rate: int | None, size: int | None, info: dict) -> ModelBundle:
    """Fill in rate and size from the released-models table, else the training defaults (noted as assumed)."""
    released = find_released(name)
    if released:
        name = released.name
        rate, size = rate or released.sample_rate, size or released.sample_size
    assumed = [field for field, value in (("sample_rate", rate), ("sample_size", size)) if not value]
    if assumed:
        info["assumed"] = assumed
    return ModelBundle(net, name, int(rate or FALLBACK_SAMPLE_RATE), int(size or FALLBACK_SAMPLE_SIZE), (), info)


def _override(bundle: ModelBundle, sample_rate: int | None, sample_size: int | None) -> ModelBundle:
    given = {"sample_rate": sample_rate, "sample_size": sample_size}
    for field, value in given.items():
        if value is not None:
            if int(value) <= 0:
                raise BadRequest(f"{field} must be positive, got {value}")
            setattr(bundle, field, int(value))
    assumed = [f for f in bundle.info.get("assumed", []) if given.get(f) is None]
    bundle.info.pop("assumed", None)
    if assumed:
        bundle.info["assumed"] = assumed
    return bundle


def _folder_name(unet_dir: Path) -> str:
    return unet_dir.resolve().parent.name if unet_dir.name == "unet" else unet_dir.resolve().name
