"""Finished jobs as results: raw model output finished and written as WAVs (or their bytes), or kept
in memory as a ``Sound``, each with the metadata that regenerates it."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ddbridge import __version__
from ddbridge.daemon.engine import Engine, Work
from ddbridge.daemon.orders import Order
from ddbridge.loops.genres import ANY, BEATS_PER_BAR, loop_samples
from ddbridge.protocol.errors import DDBridgeError
from ddbridge.protocol.schema import SOURCE_REGION
from ddbridge.sound import audio as audio_ops
from ddbridge.sound import render
from ddbridge.sound.tuning import tune

HELD_DELIVERIES = 4  # finished ``deliver: "reply"`` jobs whose audio is kept for a resent request


@dataclass(frozen=True, eq=False)
class Sound:
    """One finished sound kept in memory (for audition): ``audio`` ``[L, C]`` at ``sample_rate``.

    ``out_dir``, ``stem``, ``bit_depth`` and ``metadata`` say how ``render.write_wav`` should keep it.
    """

    audio: np.ndarray
    sample_rate: int
    seed: int
    from_pool: bool
    out_dir: Path
    stem: str
    bit_depth: int
    metadata: dict


class Results:
    """Turns an order's raw audio into the reply's file entries or a ``Sound``; holds recent delivered audio."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: deque[list[dict]] = deque()
        self._lock = threading.Lock()

    def files(
        self, order: Order, work: Work, audio: np.ndarray, finished: list[np.ndarray | None] | None = None
    ) -> list[dict]:
        """Finish (unless given finished) and write each item of ``audio`` ``[B, C, L]``; the reply's file entries."""
        rate = self.engine.output_rate(work)
        files = []
        for i, (item, seed) in enumerate(zip(audio, work.seeds, strict=True)):
            ready = finished[i] if finished else None
            if order.samples and work.loop:
                item = audio_ops.fit_length(item, order.samples, circular=True)
            elif order.samples:
                item = item[:, : order.samples]
            if ready is None:
                frames = _frames(order, work)
                ready = audio_ops.finish(
                    item, rate, order.sample_rate, normalize=order.normalize, loop=work.loop, frames=frames
                )
            ready, tuning = _tuned(order, ready)
            metadata = {**_metadata(order, work, seed, i, ready.shape[0]), **tuning}
            if order.deliver_reply:
                wav = render.encode_wav(ready, order.sample_rate, bit_depth=order.bit_depth, metadata=metadata)
                entry = {"name": order.stem, "folder": order.folder, "seed": seed, "metadata": metadata, "wav": wav}
                files.append(entry)
                continue
            try:
                path = render.write_wav(
                    ready, order.sample_rate, order.out_dir, order.stem, bit_depth=order.bit_depth, metadata=metadata
                )
            except OSError as e:
                raise DDBridgeError(f"writing into '{order.out_dir}' failed: {e}") from None
            files.append(
                {"path": str(path), "sidecar": str(path.with_suffix(".json")), "seed": seed, "metadata": metadata}
            )
        if order.deliver_reply:
            self._hold(files)
        return files

    def _hold(self, files: list[dict]) -> None:
        """Keep the audio of the last ``HELD_DELIVERIES`` delivered jobs (for resends); drop older audio."""
        with self._lock:
            self._held.append(files)
            while len(self._held) > HELD_DELIVERIES:
                for entry in self._held.popleft():
                    entry.pop("wav", None)

    def sound(self, order: Order, work: Work, raw: np.ndarray, ready: np.ndarray | None = None) -> Sound:
        """A ``Core.sound`` result: raw ``[C, L]`` finished like a file would be (unless ``ready``)."""
        if ready is None:
            rate = self.engine.output_rate(work)
            if order.samples and work.loop:
                raw = audio_ops.fit_length(raw, order.samples, circular=True)
            elif order.samples:
                raw = raw[:, : order.samples]
            ready = audio_ops.finish(
                raw, rate, order.sample_rate, normalize=order.normalize, loop=work.loop, frames=_frames(order, work)
            )
        seed, rate = work.seeds[0], order.sample_rate
        ready, tuning = _tuned(order, ready)
        metadata = {**_metadata(order, work, seed, 0, ready.shape[0]), **tuning}
        return Sound(ready, rate, seed, order.from_pool, order.out_dir, order.stem, order.bit_depth, metadata)


def _tuned(order: Order, ready: np.ndarray) -> tuple[np.ndarray, dict]:
    """``ready`` retuned to the order's note (a pooled sound too, on delivery) and the metadata saying how."""
    if order.note is None:
        return ready, {}
    tuned, tuning = tune(ready, order.sample_rate, order.note)
    return tuned, tuning.metadata()


def _frames(order: Order, work: Work) -> int | None:
    """A loop at a tempo's exact length at the file's rate (None for anything else)."""
    return loop_samples(*work.tempo, order.sample_rate) if work.tempo and work.loop else None


def _metadata(order: Order, work: Work, seed: int, index: int, frames: int) -> dict:
    meta = {
        "seed": seed,
        "model": work.model,
        "sampler": work.sampler,
        "steps": work.steps,
        "category": order.category,
        "conditioned": work.category is not None,  # for a loop network's loop: on its genre
        "op": work.op,
        "guidance_scale": work.guidance_scale,
        "loop": work.loop,
        "sample_rate": order.sample_rate,
        "bit_depth": order.bit_depth,
        "seconds": round(frames / order.sample_rate, 6),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "software": f"ddbridge {__version__}",
        "normalize": order.normalize or "none",
    }
    if work.tempo is not None:
        bpm, bars = work.tempo
        meta.update(bpm=bpm, bars=bars, beats=bars * BEATS_PER_BAR, genre=work.genre or ANY)
    if order.request.get("seconds") is not None and work.op == "generate":
        meta["request_seconds"] = order.request["seconds"]  # the length asked for, before silence was trimmed
    if work.op == "variate":
        meta.update(source=work.sources[0], strength=work.strength)
        meta.update({k: order.request[k] for k in SOURCE_REGION if k in order.request})
    elif work.op == "interpolate":
        meta.update(source_a=work.sources[0], source_b=work.sources[1], position=work.positions[index])
    elif work.op == "extend":
        meta.update(source=work.sources[0], extend_seconds=work.seconds)
    return meta
