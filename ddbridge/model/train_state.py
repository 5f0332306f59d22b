"""The run a ``ddbridge train`` checkpoint carries besides its weights, and the model it stands for."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ddbridge.model.bundle import DEFAULT_SAMPLER, DEFAULT_STEPS, ModelBundle
from ddbridge.model.original_format import EMA_PREFIX
from ddbridge.model.representation import RepresentationConfig
from ddbridge.model.unet import UNetConfig
from ddbridge.model.weights import build_net

STATE_KEY = "ddbridge_train"
STATE_VERSION = 1


def is_train_state(checkpoint: Mapping) -> bool:
    """Whether ``checkpoint`` was written by ``ddbridge train``."""
    return isinstance(checkpoint.get(STATE_KEY), dict)


def prefixed_weights(state: Mapping, prefix: str) -> dict[str, torch.Tensor]:
    """The network weights stored under ``prefix`` (``TRAIN_PREFIX`` or ``EMA_PREFIX``), prefix removed."""
    return {k[len(prefix) :]: v for k, v in state["state_dict"].items() if k.startswith(prefix)}


def model_name(cfg: dict) -> str:
    """The exported model's name: ``--name``, else the run folder's name."""
    return cfg.get("name") or Path(cfg["out"]).resolve().name


def representation_config(cfg: dict) -> RepresentationConfig:
    """The signal representation a run's settings describe (``waveform`` for runs that predate the choice)."""
    kind = cfg.get("representation") or "waveform"
    scale = float(cfg.get("data_scale") or 1.0)
    if kind == "waveform":
        return RepresentationConfig(data_scale=scale)
    bands = int(cfg["bands"])
    taps = 32 * bands + 1 if kind == "pqmf" else 0
    # frames that hold the filters' reach around a one-shot; a loop wraps instead
    lead = math.ceil((taps - 1) / 2 / bands) if taps and not cfg.get("loops") else 0
    return RepresentationConfig(
        kind=kind, bands=bands, taps=taps, band_scales=tuple(cfg.get("band_scales") or ()),
        mu=float(cfg.get("mu") or 0.0), band_mu=tuple(cfg.get("band_mu") or ()), data_scale=scale, lead=lead,
    ).check()  # fmt: skip


def model_info(cfg: dict, step: int, losses: list[float]) -> dict:
    """Sampler defaults and training provenance stored with an exported model."""
    window = losses[-max(int(cfg.get("log_every") or 1), 1) :]
    keys = ("data", "init", "seed", "batch_size", "lr", "ema_decay", "class_dropout")
    rep = representation_config(cfg)
    return {
        **({"representation": rep.to_info()} if rep.kind != "waveform" else {}),
        "default_sampler": cfg.get("default_sampler") or DEFAULT_SAMPLER,
        "default_steps": int(cfg.get("default_steps") or DEFAULT_STEPS),
        "default_guidance": float(1.0 if cfg.get("default_guidance") is None else cfg["default_guidance"]),
        "data_scale": float(cfg.get("data_scale") or 1.0),
        "training": {
            "trainer": "ddbridge train",
            "steps": int(step),
            "final_loss": float(np.mean(window)) if window else None,
            **{k: cfg.get(k) for k in keys},
        },
    }


def bundle_from_state(
    state: Mapping, name: str | None = None, device: str | torch.device = "cpu", info: dict | None = None
) -> ModelBundle:
    """The checkpoint's EMA network with its run's rate, length, categories, data scale and sampler defaults."""
    meta = state[STATE_KEY]
    cfg = meta["config"]
    net = build_net(
        UNetConfig.from_dict(meta["unet"]), prefixed_weights(state, EMA_PREFIX), "training checkpoint", device
    )
    rate, size = int(cfg["sample_rate"]), int(cfg["sample_size"])
    info = {**(info or {}), **model_info(cfg, int(state["global_step"]), meta["losses"])}
    return ModelBundle(net, name or model_name(cfg), rate, size, tuple(meta["categories"]), info)
