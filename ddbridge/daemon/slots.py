"""Slots: each mapped note (a pad) holds its current sound; pressing it asks for a new one and plays it.

A press asks ``Core.sound`` for a new one-shot of the slot's category (served from the pool when
it has one, else generated at audition priority) and plays it when it arrives, with the velocity
scaling its level. A new press on the same slot cancels the sound still on its way and cuts the
one playing; a release cuts it too (unless ``note_off_stops`` is off). ``keep`` writes the last
sound that arrived into the project folder, once.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ddbridge.protocol.errors import Cancelled, DDBridgeError
from ddbridge.sound import render

if TYPE_CHECKING:
    import numpy as np

    from ddbridge.daemon.core import Core
    from ddbridge.daemon.results import Sound

log = logging.getLogger(__name__)

MAX_VELOCITY = 127


class Player(Protocol):
    """Where the slots play their sounds: the audio output the MIDI front end opened (its ``Audition``)."""

    def play(self, audio: np.ndarray, sample_rate: int, key: Hashable, gain: float = 1.0) -> None: ...

    def stop(self, key: Hashable) -> None: ...


@dataclass(eq=False)
class Slot:
    """One pad: its note, category, current sound and the request on its way, if any."""

    note: int
    category: str
    sound: Sound | None = None
    pending: str | None = None
    presses: int = 0
    held: bool = False
    kept: Path | None = None
    error: str | None = None

    def state(self) -> dict:
        s = self.sound
        return {
            "note": self.note,
            "category": self.category,
            "state": "generating" if self.pending else "ready" if s else "empty",
            "seed": s.seed if s else None,
            "from_pool": s.from_pool if s else None,
            "seconds": round(len(s.audio) / s.sample_rate, 4) if s else None,
            "presses": self.presses,
            "kept": str(self.kept) if self.kept else None,
            "error": self.error,
        }


class Slots:
    """The per-note sounds and what a press, a release and ``keep`` do with them. Thread-safe."""

    def __init__(
        self,
        core: Core,
        notes: dict[int, str],
        audition: Player | None = None,
        *,
        note_off_stops: bool = True,
        project_dir: str = "",
        conditional: bool = True,
    ) -> None:
        self.core, self.audition, self.note_off_stops = core, audition, note_off_stops
        self.project_dir, self.conditional = project_dir, conditional
        self._slots = {note: Slot(note, category) for note, category in sorted(notes.items())}
        self._last: tuple[Slot, Sound] | None = None
        self._kept: tuple[Sound, Path] | None = None  # the last sound kept, so it is kept once
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ddbridge-keep")

    def press(self, note: int, velocity: int = MAX_VELOCITY) -> bool:
        """Ask for a new sound for ``note``'s slot and play it on arrival; False if ``note`` is not mapped."""
        slot = self._slots.get(note)
        if slot is None:
            return False
        rid = f"midi-{note}-{secrets.token_hex(6)}"
        with self._lock:
            slot.presses += 1
            press, previous = slot.presses, slot.pending
            slot.pending, slot.held = rid, True
        if previous:
            self.core.handle({"id": f"{rid}-cancel", "op": "cancel", "job": previous}, _ignore)
        if self.audition is not None:
            self.audition.stop(note)
        request = {"id": rid}
        if self.conditional:
            request["category"] = slot.category
        if self.project_dir:
            request["project_dir"] = self.project_dir
        started = time.perf_counter()
        gain = max(0, min(velocity, MAX_VELOCITY)) / MAX_VELOCITY
        self.core.sound(request, lambda result: self._arrived(slot, press, gain, started, result))
        return True

    def release(self, note: int) -> None:
        """The pad was let go: with ``note_off_stops``, cut its sound (and skip one still on its way)."""
        slot = self._slots.get(note)
        if slot is None:
            return
        with self._lock:
            slot.held = False
        if self.note_off_stops and self.audition is not None:
            self.audition.stop(note)

    def keep(self) -> Future:
        """Write the last sound that arrived into the project folder (once); the future's result is its path.

        The path is None when no sound has arrived yet. Writing happens on a thread of its own.
        """
        with self._lock:
            last = self._last
        return self._writer.submit(self._keep, last)

    def state(self) -> list[dict]:
        """Every slot's state, for ``status``."""
        with self._lock:
            return [slot.state() for slot in self._slots.values()]

    @property
    def last_note(self) -> int | None:
        with self._lock:
            return self._last[0].note if self._last else None

    def close(self) -> None:
        """Finish writes in progress."""
        self._writer.shutdown(wait=True)

    # -- arrivals -------------------------------------------------------------------------------

    def _arrived(self, slot: Slot, press: int, gain: float, started: float, result: Sound | DDBridgeError) -> None:
        with self._lock:
            current = press == slot.presses
            if current:
                slot.pending = None
                if isinstance(result, DDBridgeError):
                    slot.error = str(result)
                else:
                    slot.sound, slot.error = result, None
                    self._last = (slot, result)
            play = current and (slot.held or not self.note_off_stops)
        if isinstance(result, DDBridgeError):
            if not isinstance(result, Cancelled):
                log.warning("midi: note %d (%s): %s", slot.note, slot.category, result)
            return
        if not current:
            return  # a newer press on this slot wants its own sound
        if play and self.audition is not None:
            self.audition.play(result.audio, result.sample_rate, slot.note, gain)
        source = "from the pool" if result.from_pool else "generated"
        elapsed = (time.perf_counter() - started) * 1000
        log.info("midi: note %d -> %s seed %d (%s in %.0f ms)", slot.note, slot.category, result.seed, source, elapsed)

    def _keep(self, last: tuple[Slot, Sound] | None) -> Path | None:
        if last is None:
            log.info("midi: nothing to keep yet; press a pad first")
            return None
        slot, sound = last
        with self._lock:
            kept = self._kept
        if kept is not None and kept[0] is sound:
            log.info("midi: the last sound is already kept as %s", kept[1])
            return kept[1]
        try:
            path = render.write_wav(
                sound.audio,
                sound.sample_rate,
                sound.out_dir,
                sound.stem,
                bit_depth=sound.bit_depth,
                metadata=sound.metadata,
            )
        except DDBridgeError as e:
            log.warning("midi: keeping the %s sound failed: %s", slot.category, e)
            return None
        with self._lock:
            self._kept = (sound, path)
            slot.kept = path
        log.info("midi: kept %s", path)
        return path


def _ignore(_reply: dict) -> None:
    """Replies nobody waits for (cancelling a superseded request)."""
