"""MIDI front end (mido over python-rtmidi): pads trigger new one-shots, a keep note or CC saves one.

Listens on an existing MIDI input or on a virtual input of its own named "ddbridge". A mapped
note-on presses that note's slot (``ddbridge.daemon.slots``), a note-off (or a note-on with velocity 0)
releases it, and the keep note or keep controller (value >= 64) keeps the last sound. Messages
arrive on the MIDI library's thread and are handled in order on one thread of this front end, so
the library's (possibly real-time) thread never waits. Sounds play through ``Audition`` when an
audio output is available; without one the slots still fill and keep still works.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from typing import TYPE_CHECKING

from ddbridge.daemon.config import AuditionConfig, MidiConfig
from ddbridge.daemon.slots import Slots
from ddbridge.frontends.audition import Audition
from ddbridge.protocol.errors import Unavailable

if TYPE_CHECKING:
    from ddbridge.daemon.core import Core

log = logging.getLogger(__name__)

VIRTUAL_NAME = "ddbridge"
RTMIDI_APIS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "windows": "WINDOWS_MM"}
KEEP_CC_THRESHOLD = 64


def midi_backend(api: str = ""):
    """The mido rtmidi backend for ``api`` ("" = the platform's default), or ``Unavailable``."""
    try:
        import mido
    except ImportError:
        raise Unavailable("MIDI needs the mido and python-rtmidi packages: pip install mido python-rtmidi") from None
    name = "mido.backends.rtmidi" + (f"/{RTMIDI_APIS[api]}" if api else "")
    try:
        return mido.Backend(name, load=True)
    except ImportError:
        raise Unavailable("MIDI needs the python-rtmidi package: pip install python-rtmidi") from None


class MidiFrontend:
    """Maps MIDI messages onto ``Slots``; reports itself as ``midi`` in ``status``."""

    def __init__(self, core: Core, config: MidiConfig, audition: AuditionConfig | None = None) -> None:
        self.core, self.config, self.audition_config = core, config, audition
        self.port_name = ""
        self.audition: Audition | None = None
        self.slots: Slots | None = None
        self._port = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the MIDI input (``Unavailable`` says why it cannot) and the audio output (a warning if absent)."""
        backend = midi_backend(self.config.api)
        bundle = self.core.engine.bundle(None)
        notes = self.config.note_map()
        _warn_unknown_categories(notes, bundle.name, bundle.categories)
        if self.audition_config is not None and self.audition_config.enabled:
            audition = Audition(self.audition_config.device, self.audition_config.gain_db)
            try:
                audition.start()
                self.audition = audition
            except Unavailable as e:
                log.warning("%s", e)
        self.slots = Slots(
            self.core,
            notes,
            self.audition,
            note_off_stops=self.config.note_off_stops,
            project_dir=self.config.project_dir,
            conditional=bool(bundle.categories),
        )
        try:
            self._port = self._open(backend)
        except Unavailable:
            self._close_outputs()
            raise
        self._thread = threading.Thread(target=self._serve, name="ddbridge-midi", daemon=True)
        self._thread.start()
        self.core.add_report("midi", self.state)
        keep = f"note {self.config.keep_note}" if self.config.keep_note >= 0 else "off"
        if self.config.keep_cc >= 0:
            keep += f", CC {self.config.keep_cc}"
        log.info(
            "midi: listening on '%s'; pads: %s; keep: %s; audition: %s",
            self.port_name,
            ", ".join(f"{n} {c}" for n, c in sorted(notes.items())),
            keep,
            self.audition.device_name if self.audition else "off",
        )

    def stop(self) -> None:
        """Close the MIDI input, finish pending keeps, release the audio output."""
        if self._port is not None:
            self._port.close()
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(5)
        self._close_outputs()

    def describe(self) -> str:
        """One line for the daemon's ready message."""
        audio = self.audition.device_name if self.audition else "none"
        return f"midi '{self.port_name}' audio '{audio}'"

    def state(self) -> dict:
        """What ``status`` reports under ``midi``: the port, the audio output and every slot."""
        return {
            "port": self.port_name,
            "keep_note": self.config.keep_note,
            "keep_cc": self.config.keep_cc,
            "audition": self.audition.state() if self.audition else None,
            "last_note": self.slots.last_note if self.slots else None,
            "slots": self.slots.state() if self.slots else [],
        }

    def handle(self, message) -> None:
        """Act on one mido message (the front end's thread calls this for every message in order)."""
        channel = getattr(message, "channel", None)
        if self.config.channel and channel is not None and channel != self.config.channel - 1:
            return
        kind = message.type
        if kind == "note_on" and message.velocity > 0:
            if message.note == self.config.keep_note:
                self.slots.keep()
            else:
                self.slots.press(message.note, message.velocity)
        elif kind in ("note_on", "note_off"):
            self.slots.release(message.note)
        elif kind == "control_change" and message.control == self.config.keep_cc:
            if message.value >= KEEP_CC_THRESHOLD:
                self.slots.keep()

    # -- internals ------------------------------------------------------------------------------

    def _open(self, backend):
        wanted = self.config.port
        try:
            if not wanted:
                port = backend.open_input(
                    VIRTUAL_NAME, virtual=True, client_name=VIRTUAL_NAME, callback=self._inbox.put
                )
                self.port_name = VIRTUAL_NAME
                return port
            name = _match_port(wanted, backend.get_input_names())
            port = backend.open_input(name, client_name=VIRTUAL_NAME, callback=self._inbox.put)
            self.port_name = name
            return port
        except Unavailable:
            raise
        except Exception as e:
            what = f"MIDI input '{wanted}'" if wanted else f"a virtual MIDI input '{VIRTUAL_NAME}'"
            hint = ""
            if not wanted and sys.platform == "win32":
                hint = "; Windows has no virtual MIDI ports: create one (e.g. with loopMIDI) and set midi.port"
            reason = str(e).strip() or type(e).__name__
            raise Unavailable(f"cannot open {what} ({self.config.api or 'default'} MIDI API): {reason}{hint}") from None

    def _serve(self) -> None:
        while True:
            message = self._inbox.get()
            if message is None:
                return
            try:
                self.handle(message)
            except Exception:
                log.exception("handling MIDI message %s failed", message)

    def _close_outputs(self) -> None:
        if self.slots is not None:
            self.slots.close()
        if self.audition is not None:
            self.audition.close()


def _match_port(wanted: str, names: list[str]) -> str:
    """The input named ``wanted``, else the one name containing it (any case); ``Unavailable`` otherwise."""
    if wanted in names:
        return wanted
    matches = [n for n in names if wanted.lower() in n.lower()]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(f"'{n}'" for n in names) or "none"
    if matches:
        raise Unavailable(f"midi.port '{wanted}' matches several MIDI inputs: {listed}; give more of the name")
    raise Unavailable(f"no MIDI input matches midi.port '{wanted}'; inputs: {listed}")


def _warn_unknown_categories(notes: dict[int, str], model: str, categories) -> None:
    if not categories:
        log.info("midi: model '%s' has no categories; every pad generates unconditional sounds", model)
        return
    unknown = [f"{n} ({c})" for n, c in sorted(notes.items()) if c not in categories]
    if unknown:
        log.warning(
            "midi: notes %s name categories model '%s' does not have (it has: %s); those pads will fail",
            ", ".join(unknown),
            model,
            ", ".join(categories),
        )
