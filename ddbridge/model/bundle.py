"""A loaded model: the network plus what is needed to use it (rate, length, categories, defaults)."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ddbridge.categories import CATEGORY_ALIASES, LOOP_NAMES
from ddbridge.model.representation import Representation, RepresentationConfig
from ddbridge.model.unet import DanceDiffusionUNet
from ddbridge.protocol.errors import BadRequest

DEFAULT_SAMPLER = "v-iplms"
DEFAULT_STEPS = 50

_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")


class CategoryChoice(NamedTuple):
    """A requested category resolved against one model.

    ``label`` names and tags the files (None: no category asked for); ``category`` and ``index``
    are the model category conditioned on (None: unconditional); ``loop`` means a seamless loop.
    """

    label: str | None
    category: str | None
    index: int | None
    loop: bool

    def check_guidance(self, guidance_scale: float) -> None:
        """``BadRequest`` when ``guidance_scale`` is not 1 but the model is conditioned on nothing."""
        if guidance_scale == 1.0 or self.index is not None:
            return
        if self.label is None:
            raise BadRequest("a guidance scale other than 1 needs a category")
        raise BadRequest(
            f"a guidance scale other than 1 needs a category the model is conditioned on; '{self.label}' is not"
        )


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def resolve_category(model: str, categories: tuple[str, ...], name: str | None) -> CategoryChoice:
    """Resolve ``name`` against a model called ``model`` with ``categories`` (empty: unconditional).

    Rules, in order: no name (None or "") is unconditional; names compare case-insensitively with
    ``-`` and spaces as ``_``; a name the model has is used as is; ``loop``/``loops`` ask for a
    seamless loop, conditioned on the model's own ``loop`` category if it has one; an alias
    (:data:`CATEGORY_ALIASES`) takes the first of its targets the model has. A model without
    categories accepts any well-formed name as a label for the files and ignores it for sampling.
    Anything else is ``BadRequest`` naming what this model accepts.
    """
    if name is None or not name.strip():
        return CategoryChoice(None, None, None, False)
    key = _key(name)
    if not _NAME.fullmatch(key):
        raise BadRequest(
            f"category '{name}' is not a valid name: use letters, digits, '_' or '-' (at most 64 characters)"
        )
    own = {_key(c): i for i, c in enumerate(categories)}
    is_loop = key in LOOP_NAMES
    if key in own:
        return CategoryChoice(categories[own[key]], categories[own[key]], own[key], is_loop)
    if is_loop:
        index = next((own[n] for n in LOOP_NAMES if n in own), None)
        return CategoryChoice("loop", None if index is None else categories[index], index, True)
    if not categories:
        return CategoryChoice(key, None, None, False)
    index = next((own[t] for t in CATEGORY_ALIASES.get(key, ()) if t in own), None)
    if index is not None:
        return CategoryChoice(categories[index], categories[index], index, False)
    accepted = sorted(a for a, targets in CATEGORY_ALIASES.items() if a not in own and any(t in own for t in targets))
    valid = list(categories) + ([] if any(n in own for n in LOOP_NAMES) else ["loop"])
    also = f"; aliases: {', '.join(accepted)}" if accepted else ""
    raise BadRequest(f"unknown category '{name}' for model '{model}'; choose one of: {', '.join(valid)}{also}")


@dataclass
class ModelBundle:
    """A ready network. ``info`` holds provenance (source, training steps) and sampler defaults."""

    net: DanceDiffusionUNet
    name: str
    sample_rate: int
    sample_size: int
    categories: tuple[str, ...] = ()
    info: dict = field(default_factory=dict)
    loop_network: ModelBundle | None = None  # makes this model's loops at a tempo (``info["loop_model"]`` names it)

    @functools.cached_property
    def representation(self) -> Representation:
        """How audio maps to this network's signal (``info["representation"]``; released models: the waveform)."""
        return Representation(RepresentationConfig.from_info(self.info))

    @property
    def stride(self) -> int:
        """Audio lengths this model takes are multiples of this many samples."""
        return self.net.stride * self.representation.hop

    @property
    def audio_channels(self) -> int:
        """Channels of the audio the model makes (its network's io channels over the bands per channel)."""
        return self.net.config.io_channels // self.representation.hop

    @property
    def default_sampler(self) -> str:
        return self.info.get("default_sampler", DEFAULT_SAMPLER)

    @property
    def default_steps(self) -> int:
        return int(self.info.get("default_steps", DEFAULT_STEPS))

    @property
    def default_guidance(self) -> float:
        """Classifier-free guidance scale used when a request names a category but no scale."""
        return float(self.info.get("default_guidance", 1.0))

    def guidance_for(self, choice: CategoryChoice, requested: float | None) -> float:
        """``requested``, or without one the model's default where ``choice`` conditions on a category
        (1 otherwise); ``BadRequest`` when the scale is invalid or needs a category ``choice`` lacks."""
        if requested is None:
            return self.default_guidance if choice.index is not None else 1.0
        if not math.isfinite(requested) or requested < 0:
            raise BadRequest(f"guidance scale must be a finite number >= 0, got {requested}")
        choice.check_guidance(requested)
        return float(requested)

    @property
    def data_scale(self) -> float:
        """Gain from audio to the network's signal (what its training multiplied the data by; 1 for released models)."""
        return float(self.info.get("data_scale", 1.0))

    def resolve_category(self, name: str | None) -> CategoryChoice:
        """How this model serves a requested category (see :func:`resolve_category`)."""
        return resolve_category(self.name, self.categories, name)

    def length_for_seconds(self, seconds: float) -> int:
        """Smallest valid network length (a multiple of the stride) that holds ``seconds`` of audio."""
        if not seconds > 0:
            raise BadRequest(f"seconds must be > 0, got {seconds}")
        samples = int(round(seconds * self.sample_rate))
        return max(1, -(-samples // self.stride)) * self.stride
