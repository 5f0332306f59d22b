"""Audition: low-latency playback of finished sounds on an audio output (sounddevice / PortAudio).

Sounds are resampled to the device's rate on the caller's thread and handed to the audio callback
through a queue: playing never waits for the audio thread, and the audio thread never waits for
anything. Voices are keyed (a MIDI note): a new sound on a key replaces the one playing there,
``stop`` fades a key out, and sounds on different keys mix.

sounddevice is imported only when an ``Audition`` starts: it fails at import when the PortAudio
library is missing, which must not stop the daemon.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import queue
import sys
import threading
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from ddbridge.protocol.errors import Unavailable
from ddbridge.sound import audio as audio_ops

log = logging.getLogger(__name__)

CLIENT_NAME = "ddbridge-audio"
FADE_MS = 5.0
CHANNELS = 2

_client_name_buffers: list[ctypes.Array] = []  # PortAudio keeps the pointer, so the bytes must stay alive


def set_jack_client_name(name: str) -> bool:
    """Name the JACK client PortAudio will open (default "PortAudio"); True if it took effect.

    Works only before sounddevice is first imported in this process, and only where PortAudio
    was built with JACK.
    """
    if "sounddevice" in sys.modules:
        return False
    path = ctypes.util.find_library("portaudio")
    if not path:
        return False
    try:
        setter = ctypes.CDLL(path).PaJack_SetClientName
    except (OSError, AttributeError):
        return False
    buffer = ctypes.create_string_buffer(name.encode())
    _client_name_buffers.append(buffer)
    return setter(buffer) == 0


def import_sounddevice():
    """The sounddevice module, or ``Unavailable`` saying what is missing."""
    try:
        import sounddevice
    except ImportError:
        raise Unavailable("audio playback needs the sounddevice package: pip install sounddevice") from None
    except OSError as e:
        raise Unavailable(f"audio playback needs the PortAudio library ({e}); e.g. apt install libportaudio2") from None
    return sounddevice


def parse_device(device: str) -> int | str | None:
    """A configured device: "" is the default (None), digits an index, anything else a name or part of one."""
    device = device.strip()
    if not device:
        return None
    return int(device) if device.isdigit() else device


@dataclass(eq=False)
class _Voice:
    key: Hashable
    audio: np.ndarray  # [L, CHANNELS] at the device rate, gain applied
    pos: int = 0
    fade_left: int = -1  # samples of fade-out left; -1: not fading


class Audition:
    """Plays sounds on one output device; ``start`` opens it, ``close`` releases it."""

    def __init__(self, device: str = "", gain_db: float = 0.0, client_name: str = CLIENT_NAME) -> None:
        self.device, self.gain = parse_device(device), 10 ** (gain_db / 20)
        self.client_name = client_name
        self.device_name = ""
        self.sample_rate = 0
        self.played = 0
        self._stream = None
        self._commands: queue.SimpleQueue[tuple[str, Hashable, np.ndarray | None]] = queue.SimpleQueue()
        self._voices: list[_Voice] = []  # touched by the audio callback only
        self._fade = 1
        self._playing = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Open and start the output stream; ``Unavailable`` says why when there is no usable device."""
        set_jack_client_name(self.client_name)
        sd = import_sounddevice()
        try:
            info = sd.query_devices(self.device, kind="output")
            stream = sd.OutputStream(
                device=self.device,
                channels=min(CHANNELS, int(info["max_output_channels"])),
                samplerate=info["default_samplerate"],
                dtype="float32",
                latency="low",
                callback=self._callback,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as e:
            if not any(d["max_output_channels"] > 0 for d in sd.query_devices()):
                raise Unavailable(
                    "no audio output device found (PortAudio sees none: no sound card, JACK or PulseAudio); "
                    "audition is off"
                ) from None
            wanted = f"'{self.device}'" if self.device is not None else "the default"
            raise Unavailable(f"cannot use audio output {wanted} ({_first_line(e)}); audition is off") from None
        hostapi = sd.query_hostapis(info["hostapi"])["name"]
        self.device_name = f"{info['name']} ({hostapi})"
        self.sample_rate = int(stream.samplerate)
        self._fade = max(1, int(self.sample_rate * FADE_MS / 1000))
        self._stream = stream

    @property
    def running(self) -> bool:
        return self._stream is not None

    def play(self, audio: np.ndarray, sample_rate: int, key: Hashable, gain: float = 1.0) -> None:
        """Play ``audio`` ``[L, C]`` at ``sample_rate`` on voice ``key`` (replacing what plays there)."""
        stream = self._stream
        if stream is None:
            return
        a = audio_ops.resample(np.asarray(audio, dtype=np.float32).T, sample_rate, self.sample_rate)
        a = audio_ops.to_channels(a, stream.channels).T * np.float32(self.gain * gain)
        self._commands.put(("play", key, np.ascontiguousarray(a, dtype=np.float32)))
        with self._lock:
            self.played += 1

    def stop(self, key: Hashable) -> None:
        """Fade out what plays on voice ``key`` (a few milliseconds, so it does not click)."""
        if self._stream is not None:
            self._commands.put(("stop", key, None))

    def state(self) -> dict:
        """What ``status`` reports: the device, its rate, sounds started and voices playing now."""
        with self._lock:
            played = self.played
        return {"device": self.device_name, "sample_rate": self.sample_rate, "played": played, "playing": self._playing}

    def close(self) -> None:
        """Stop and release the output stream."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
            stream.close()

    # -- the audio thread -----------------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, _time, _status) -> None:
        while True:
            try:
                command, key, audio = self._commands.get_nowait()
            except queue.Empty:
                break
            for voice in self._voices:
                if voice.key == key and voice.fade_left < 0:
                    voice.fade_left = self._fade
            if command == "play":
                self._voices.append(_Voice(key, audio))
        outdata.fill(0)
        for voice in self._voices:
            n = min(frames, len(voice.audio) - voice.pos)
            chunk = voice.audio[voice.pos : voice.pos + n]
            if voice.fade_left >= 0:
                n = min(n, voice.fade_left)
                ramp = (voice.fade_left - np.arange(n, dtype=np.float32)) / np.float32(self._fade)
                chunk = chunk[:n] * ramp[:, None]
                voice.fade_left -= n
            outdata[:n] += chunk
            voice.pos += n
        self._voices = [v for v in self._voices if v.pos < len(v.audio) and v.fade_left != 0]
        np.clip(outdata, -1.0, 1.0, out=outdata)
        self._playing = len(self._voices)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
