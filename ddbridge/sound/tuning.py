"""Pitched one-shots on the note asked for: detect a finished sound's fundamental, then retune it by varispeed.

Detection reads the pitch where the eval reads how clearly a sound has one (``sound.pitch``: the
normalised autocorrelation of the stretch 50-350 ms after the attack, periods of 30-1000 Hz), its period
placed between samples: within a few cents up to 1000 Hz. A tone above 1000 Hz reads an octave (or more) low.

A sound whose periodicity is below ``CLEAR_PITCH`` (noise, most snares, hats and claps) is left as it is
and says so. A clear pitch is moved to the asked note when that is at most ``MAX_SHIFT`` semitones away;
further away it is moved to the asked note's pitch class in the octave nearest the sound (a shift of at
most 6 semitones), and says so, so that the root note a file claims is always the one it has. Retuning
plays the sound faster or slower (soxr resampling) and keeps its length: a raised sound ends in silence,
a lowered one is cut and faded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ddbridge.notes import NAMES, hz_midi, note_hz, note_name
from ddbridge.sound.audio import FADE_OUT_MS, fade_out, resample
from ddbridge.sound.pitch import autocorrelation_peak

CLEAR_PITCH = 0.8  # periodicity at and above which a sound has a pitch to tune (noise stays under 0.5)
MAX_SHIFT = 12  # semitones: further than this, the asked note's pitch class in the nearest octave


@dataclass(frozen=True)
class Pitch:
    """What detection found: ``hz`` (None without a clear pitch) and the sound's periodicity (0..1)."""

    hz: float | None
    periodicity: float


@dataclass(frozen=True)
class Tuning:
    """What ``tune`` did: the note asked, the root note the sound now has (None: not tuned) and why."""

    asked: int
    note: int | None
    detected: Pitch
    shift_cents: float
    message: str

    def metadata(self) -> dict:
        """The fields a file's metadata carries: ``note`` and ``midi_note`` only when the sound has that root."""
        meta = {"note_asked": note_name(self.asked), "tuned": self.note is not None, "tuning": self.message,
                "periodicity": round(self.detected.periodicity, 3)}  # fmt: skip
        if self.note is not None:
            meta.update(note=note_name(self.note), midi_note=self.note, shift_cents=round(self.shift_cents, 1))
            meta["detected_hz"] = round(self.detected.hz, 2)
        return meta


def detect_pitch(audio: np.ndarray, rate: int) -> Pitch:
    """The fundamental of ``audio`` ``[L, C]`` (or ``[L]``) when its periodicity reaches ``CLEAR_PITCH``."""
    clarity, period = autocorrelation_peak(np.asarray(audio).T, rate)
    return Pitch(rate / period if clarity >= CLEAR_PITCH else None, clarity)


def tune(audio: np.ndarray, rate: int, note: int) -> tuple[np.ndarray, Tuning]:
    """A finished one-shot ``audio`` ``[L, C]`` retuned to MIDI ``note`` at the same length, and what was done."""
    pitch = detect_pitch(audio, rate)
    asked = note_name(note)
    if pitch.hz is None:
        why = f"not tuned to {asked}: no clear pitch (periodicity {pitch.periodicity:.2f}, below {CLEAR_PITCH:g})"
        return audio, Tuning(note, None, pitch, 0.0, why)
    found = hz_midi(pitch.hz)
    target = note if abs(note - round(found)) <= MAX_SHIFT else note + 12 * round((found - note) / 12)
    shift = 100 * (target - found)
    message = f"tuned from {pitch.hz:.1f} Hz to {note_name(target)} ({shift:+.0f} cents)"
    if target != note:
        message += (
            f", the {NAMES[note % 12]} nearest its own pitch: {asked} is {abs(note - found):.0f} semitones "
            f"away, more than the {MAX_SHIFT} a retune moves"
        )
    return retune(audio, rate, note_hz(target) / pitch.hz), Tuning(note, target, pitch, shift, message)


def retune(audio: np.ndarray, rate: int, ratio: float) -> np.ndarray:
    """``audio`` ``[L, C]`` played ``ratio`` times as fast (its pitch times ``ratio``), at the same length."""
    a = np.asarray(audio, dtype=np.float32)
    frames = a.shape[0]
    out = resample(a.T, rate * ratio, rate)
    if out.shape[-1] >= frames:
        out = fade_out(out[:, :frames], rate, FADE_OUT_MS)
    else:
        out = np.pad(out, ((0, 0), (0, frames - out.shape[-1])))
    return np.ascontiguousarray(np.clip(out, -1.0, 1.0).T)
