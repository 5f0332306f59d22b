"""Named models: Harmonai's released checkpoints, the user's models folder and the bundled default.

Importing this module does not import torch, so ``ddbridge models list`` starts fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ddbridge.model.layout import CKPT_SUFFIXES, detect_format, own_paths, peek_rate_and_size
from ddbridge.protocol.errors import ModelLoadError, UnknownModel

if TYPE_CHECKING:
    from ddbridge.model.unet import UNetConfig

MODELS_DIR_ENV = "DDBRIDGE_MODELS_DIR"
DEFAULT_NAME = "default"
DEFAULT_LOOPS_NAME = "default-loops"  # the bundled loop network the default model makes its loops with
BUNDLED_NAMES = (DEFAULT_NAME, DEFAULT_LOOPS_NAME)


@dataclass(frozen=True)
class ReleasedModel:
    """A checkpoint Harmonai published. ``ckpt_files``: the name we store it under, then the
    model server's original file name when that differs."""

    name: str
    sample_rate: int
    sample_size: int
    ckpt_files: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    @property
    def hub_id(self) -> str:
        """The diffusers conversion on the Hugging Face hub."""
        return f"harmonai/{self.name}"

    @property
    def ckpt_file(self) -> str:
        return self.ckpt_files[0]

    @property
    def config(self) -> UNetConfig:
        """All six releases share one architecture (depth 14, 4 attention layers): the "large" in
        jmann-large-580k is its training length (131072 samples), not its width. Loading still reads
        the shape off the weights."""
        from ddbridge.model.unet import UNetConfig

        return UNetConfig()


def _released(name: str, rate: int, size: int, server_name: str | None = None) -> ReleasedModel:
    files = (f"{name}.ckpt",) + ((f"{server_name}.ckpt",) if server_name else ())
    return ReleasedModel(name, rate, size, files, (server_name,) if server_name else ())


RELEASED_MODELS: dict[str, ReleasedModel] = {
    m.name: m
    for m in (
        _released("glitch-440k", 48000, 65536, "gwf-440k"),
        _released("jmann-small-190k", 48000, 65536),
        _released("jmann-large-580k", 48000, 131072),
        _released("maestro-150k", 16000, 65536, "maestro-uncond-150k"),
        _released("unlocked-250k", 16000, 65536, "unlocked-uncond-250k"),
        _released("honk-140k", 16000, 65536),
    )
}


@dataclass(frozen=True)
class ModelEntry:
    """One row of ``ddbridge models list``; ``path`` is None when the model is not on disk."""

    name: str
    kind: str  # "bundled", "released" or "user"
    sample_rate: int | None
    sample_size: int | None
    path: Path | None


def models_dir() -> Path:
    """``$DDBRIDGE_MODELS_DIR``, else the per-user data folder's ``models``."""
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("ddbridge", appauthor=False)) / "models"


def default_model_path(name: str = DEFAULT_NAME) -> Path:
    """Where the bundled model ``name`` (the default, or its loop network) lives (it may not be installed)."""
    return Path(__file__).resolve().parent.parent / "assets" / name


def find_released(name: str) -> ReleasedModel | None:
    """The released model called ``name`` or one of its aliases (the model server's file stems), if any."""
    for model in RELEASED_MODELS.values():
        if name == model.name or name in model.aliases:
            return model
    return None


def resolve(name: str) -> Path | str:
    """Where model ``name`` lives: a local path, or the hub id of a released model not on disk yet.

    Raises UnknownModel for names that are neither local nor released.
    """
    if name in BUNDLED_NAMES:
        path = default_model_path(name)
        if not _is_installed(path):
            raise UnknownModel(f"the {name} model is not installed (expected it at {path}); name a model or a path")
        return path
    released = find_released(name)
    local = local_models()
    key = released.name if released else name
    if key in local:
        return local[key]
    if released:
        return released.hub_id
    installed = ([DEFAULT_NAME] if _is_installed(default_model_path()) else []) + sorted(local)
    raise UnknownModel(
        f"unknown model '{name}'. Installed: {', '.join(installed) or 'none'}. "
        f"Released (fetched from the hub unless in the folder): {', '.join(RELEASED_MODELS)}. "
        f"Searched {models_dir()} (set {MODELS_DIR_ENV} to use another folder, or pass a path)."
    )


def local_models() -> dict[str, Path]:
    """Models found in :func:`models_dir`, by name (released files under their release name)."""
    folder = models_dir()
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):  # hidden, e.g. a file still being written
            continue
        name = _model_name(path)
        if name:
            found.setdefault(name, path)
    return found


def list_models() -> list[ModelEntry]:
    """The bundled default, every released model (present or not) and the user's own models."""
    local = local_models()
    entries = []
    for name in BUNDLED_NAMES:
        path = default_model_path(name)
        installed = _is_installed(path)
        if installed or name == DEFAULT_NAME:
            entries.append(ModelEntry(name, "bundled", *_rate_and_size(path), path if installed else None))
    for m in RELEASED_MODELS.values():
        entries.append(ModelEntry(m.name, "released", m.sample_rate, m.sample_size, local.get(m.name)))
    for name, path in local.items():
        if name not in RELEASED_MODELS:
            entries.append(ModelEntry(name, "user", *_rate_and_size(path), path))
    return entries


def _model_name(path: Path) -> str | None:
    """The name ``path`` is listed under, or None when it holds no model."""
    if path.is_file():
        if path.suffix in CKPT_SUFFIXES:
            released = find_released(path.stem)
            return released.name if released else path.stem
        if path.suffix == ".safetensors" and own_paths(path)[1].is_file():
            return path.stem
        return None
    return path.name if path.is_dir() and _is_installed(path) else None


def _is_installed(path: Path) -> bool:
    try:
        detect_format(path)
    except ModelLoadError:
        return False
    return True


def _rate_and_size(path: Path) -> tuple[int | None, int | None]:
    released = find_released(path.stem)
    if released:
        return released.sample_rate, released.sample_size
    return peek_rate_and_size(path)
