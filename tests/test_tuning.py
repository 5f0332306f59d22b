"""Notes and tuning: note names, pitch detection and retuning, and the root note a tuned file carries."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from ddbridge.notes import hz_midi, note_hz, note_name, parse_note
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.render import write_wav
from ddbridge.sound.tuning import CLEAR_PITCH, detect_pitch, tune


def harmonic_tone(hz: float, rate: int = 44100, seconds: float = 1.0) -> np.ndarray:
    """A decaying tone with five harmonics (1/k), a 5 ms attack, peak 0.89: ``[L, 1]``."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * k * hz * t) / k for k in range(1, 6)) * np.exp(-3 * t)
    x *= np.minimum(1.0, t / 0.005)
    return (0.89 * x / np.abs(x).max())[:, None].astype(np.float32)


def spectral_pitch(audio: np.ndarray, rate: int, near_hz: float) -> float:
    """An independent measure: the strongest spectral peak within a semitone of ``near_hz`` over 50-500 ms,
    zero-padded and placed between bins by a parabola through the log magnitudes."""
    x = audio[int(0.05 * rate) : int(0.5 * rate), 0].astype(np.float64)
    n = 1 << 21
    spectrum = np.log(np.abs(np.fft.rfft(x * np.hanning(len(x)), n)) + 1e-12)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = np.nonzero((freqs > near_hz * 2 ** (-1 / 12)) & (freqs < near_hz * 2 ** (1 / 12)))[0]
    k = band[np.argmax(spectrum[band])]
    a, b, c = spectrum[k - 1 : k + 2]
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate / n


def cents(hz: float, reference: float) -> float:
    return 1200 * np.log2(hz / reference)


@pytest.mark.parametrize(
    ("value", "midi"),
    [("C2", 36), ("c2", 36), ("C4", 60), ("A4", 69), ("F#1", 30), ("Bb0", 22), ("bb0", 22), ("C-1", 0),
     ("G9", 127), ("Cb4", 59), ("B#3", 60), (" E3 ", 52), (36, 36), ("36", 36), (0, 0), (127.0, 127)],
)  # fmt: skip
def test_notes_are_read_as_names_or_midi_numbers(value, midi):
    assert parse_note(value) == midi


@pytest.mark.parametrize("value", ["H9", "C10", "B#9", "Cb-1", "C#b2", "C", "", "x", 200, 128, -1, 1.5, True, None])
def test_bad_notes_are_refused_saying_what_a_note_is(value):
    with pytest.raises(BadRequest, match="not a note|outside 0-127"):
        parse_note(value)


def test_note_names_and_frequencies():
    assert [note_name(m) for m in (0, 22, 30, 36, 60, 61, 127)] == ["C-1", "A#0", "F#1", "C2", "C4", "C#4", "G9"]
    assert note_hz(36) == pytest.approx(65.406, abs=1e-3) and note_hz(69) == 440.0
    assert hz_midi(note_hz(41.5)) == pytest.approx(41.5)


@pytest.mark.parametrize(("rate", "hz", "note"), [(44100, 100.0, "C2"), (44100, 440.0, "A3"), (48000, 180.0, "F#3"),
                                                  (44100, 830.0, "G5"), (22050, 52.0, "A1")])  # fmt: skip
def test_a_decaying_harmonic_tone_is_retuned_to_the_asked_note(rate, hz, note):
    midi = parse_note(note)
    tone = harmonic_tone(hz, rate)
    tuned, tuning = tune(tone, rate, midi)
    assert tuned.shape == tone.shape and np.isfinite(tuned).all() and np.abs(tuned).max() <= 1.0
    assert tuning.note == midi and abs(tuning.detected.hz - hz) < hz * 0.003  # detection within 5 cents
    assert abs(cents(spectral_pitch(tuned, rate, note_hz(midi)), note_hz(midi))) < 20
    meta = tuning.metadata()
    assert (meta["note"], meta["midi_note"], meta["note_asked"], meta["tuned"]) == (note, midi, note, True)
    assert meta["detected_hz"] == pytest.approx(hz, rel=0.003) and meta["periodicity"] >= CLEAR_PITCH
    assert meta["shift_cents"] == pytest.approx(100 * (midi - hz_midi(hz)), abs=5)


def test_a_note_far_from_the_sound_moves_it_to_the_nearest_octave_of_that_note_and_says_so():
    tuned, tuning = tune(harmonic_tone(400.0), 44100, parse_note("C2"))
    assert tuning.note == parse_note("C5") and "C2 is 31 semitones away" in tuning.message
    assert tuning.metadata()["note"] == "C5" and tuning.metadata()["note_asked"] == "C2"
    assert abs(cents(spectral_pitch(tuned, 44100, note_hz(72)), note_hz(72))) < 20


def test_a_raised_sound_keeps_its_length_and_ends_in_silence():
    tone = harmonic_tone(50.0, seconds=0.5)
    tuned, tuning = tune(tone, 44100, parse_note("G2"))  # 98 Hz: almost twice as fast
    assert tuning.note == parse_note("G2") and len(tuned) == len(tone)
    assert np.abs(tuned[-int(0.2 * 44100) :]).max() == 0.0


def test_noise_is_left_untuned_and_says_why():
    rng = np.random.default_rng(4)
    noise = (rng.standard_normal(44100) * np.exp(-np.arange(44100) / 8000))[:, None].astype(np.float32)
    out, tuning = tune(noise, 44100, parse_note("C2"))
    assert out is noise and tuning.note is None and detect_pitch(noise, 44100).hz is None
    meta = tuning.metadata()
    assert meta["tuned"] is False and meta["note_asked"] == "C2" and meta["periodicity"] < CLEAR_PITCH
    assert "not tuned to C2: no clear pitch" in meta["tuning"]
    assert not {"note", "midi_note", "detected_hz"} & set(meta)  # no root note is claimed


def test_a_tuned_file_carries_its_root_note_in_the_sidecar_and_a_smpl_chunk_samplers_read(tmp_path):
    info = shutil.which("sndfile-info")
    assert info, "sndfile-info (Debian sndfile-programs) reads the chunks as a host would"
    tuned, tuning = tune(harmonic_tone(100.0), 44100, parse_note("C2"))
    path = write_wav(tuned, 44100, tmp_path, "bass", metadata={"seed": 3, **tuning.metadata()})
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert (sidecar["note"], sidecar["midi_note"], sidecar["tuned"]) == ("C2", 36, True)
    assert sidecar["detected_hz"] == pytest.approx(100.0, abs=0.3)
    text = subprocess.run([info, str(path)], capture_output=True, text=True, check=True).stdout
    assert "smpl : 36" in text and "Midi Note    : 36" in text and "Loop Count   : 0" in text
    assert "acid" not in text and '"note":"C2"' in text  # the INFO comment (ICMT) holds the same metadata

    noise = np.random.default_rng(1).standard_normal((4000, 1)).astype(np.float32) * 0.5
    _, untuned = tune(noise, 44100, 36)
    plain = write_wav(noise, 44100, tmp_path, "hat", metadata={"seed": 4, **untuned.metadata()})
    assert "smpl" not in subprocess.run([info, str(plain)], capture_output=True, text=True, check=True).stdout
    assert json.loads(plain.with_suffix(".json").read_text())["tuned"] is False
