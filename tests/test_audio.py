"""Audio finishing and loading (ddbridge.sound.audio)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from ddbridge.protocol.errors import BadAudio, BadRequest
from ddbridge.sound import audio

RATE = 48000


def tone(seconds: float = 0.5, freq: float = 220.0, rate: int = RATE, channels: int = 2, amp: float = 0.5):
    t = np.arange(int(seconds * rate)) / rate
    return np.tile(amp * np.sin(2 * np.pi * freq * t), (channels, 1)).astype(np.float32)


def test_remove_dc_takes_out_offset_and_keeps_the_tone():
    x = tone() + np.array([[0.3], [-0.2]], dtype=np.float32)
    y = audio.remove_dc_offset(x, RATE)
    assert np.abs(y.mean(axis=1)).max() < 1e-3
    mid = slice(RATE // 10, None)  # after the high-pass has settled
    clean = tone()[:, mid]
    np.testing.assert_allclose(np.std(y[:, mid], axis=1), np.std(clean, axis=1), rtol=0.005)
    for got, want in zip(y[:, mid], clean, strict=True):  # a causal high-pass at 10 Hz: < 3 degrees at 220 Hz
        assert np.corrcoef(got, want)[0, 1] > 0.998


def test_finish_removes_dc_by_default():
    x = tone() + 0.4
    out = audio.finish(x, RATE, trim_silence=False, fade_out_ms=0, normalize=None)
    assert np.abs(out.mean(axis=0)).max() < 1e-3
    kept = audio.finish(x, RATE, trim_silence=False, fade_out_ms=0, normalize=None, remove_dc=False)
    assert kept.mean() > 0.3


def decaying_sine(rate: int, offset: float = 0.0) -> np.ndarray:
    """A drum-like hit: 20 ms of silence, then a 180 Hz sine decaying to about -100 dB by the end of 1 s."""
    t = np.arange(rate) / rate
    hit = 0.8 * np.sin(2 * np.pi * 180 * t) * np.exp(-t / 0.08)
    return (np.concatenate([np.zeros(rate // 50), hit]) + offset)[None].astype(np.float32)


def tail_db(x: np.ndarray, rate: int) -> float:
    """RMS of the last 100 to 50 ms relative to the peak, in dB."""
    tail = x[-rate // 10 : -rate // 20]
    return 20 * np.log10(np.sqrt(np.mean(tail.astype(np.float64) ** 2)) / np.abs(x).max())


@pytest.mark.parametrize(("offset", "model_rate"), [(0.0, 44100), (0.05, 44100), (0.0, 48000)])
def test_finish_keeps_a_decaying_tail_and_the_attack(offset, model_rate):
    raw = decaying_sine(model_rate, offset)
    clean = decaying_sine(model_rate)[0]
    out = audio.finish(raw, model_rate, 44100)[:, 0]
    assert abs(tail_db(out, 44100) - tail_db(clean, model_rate)) < 1.0
    if model_rate == 44100:  # the attack is not smeared: the first 5 ms after the preroll keep their shape
        start = np.flatnonzero(np.abs(clean) > 1e-3)[0]
        n = int(0.005 * 44100)
        preroll = int(round(audio.PREROLL_MS * 44.1))
        got, want = out[preroll : preroll + n], clean[start : start + n]
        assert np.corrcoef(got, want)[0, 1] > 0.995
        rise = [np.argmax(np.abs(x) > 0.5 * np.abs(x).max()) for x in (got, want)]
        assert abs(rise[0] - rise[1]) <= 1
        assert np.abs(out[: preroll - 1]).max() < 1e-3  # nothing rings before the hit


def test_trim_leading_silence_keeps_preroll():
    silence = np.zeros((2, RATE // 10), dtype=np.float32)
    x = np.concatenate([silence, tone(0.2)], axis=1)
    x[:, RATE // 10] = 0.5  # first loud sample exactly where the tone starts
    y = audio.trim_leading_silence(x, RATE, threshold_db=-60, preroll_ms=2.0)
    preroll = int(round(0.002 * RATE))
    assert y.shape[1] == x.shape[1] - RATE // 10 + preroll
    assert np.all(y[:, :preroll] == 0) and np.all(y[:, preroll] == 0.5)


def test_trim_leaves_all_silent_audio_alone():
    x = np.full((2, 1000), 1e-5, dtype=np.float32)  # -100 dBFS
    assert audio.trim_leading_silence(x, RATE).shape == x.shape


def test_fade_out_reaches_zero_and_leaves_the_start():
    x = np.ones((2, 4800), dtype=np.float32)
    y = audio.fade_out(x, RATE, 10.0)
    assert np.all(y[:, -1] == 0)
    assert np.all(np.diff(y[0, -480:]) <= 0)
    np.testing.assert_array_equal(y[:, :-480], x[:, :-480])


@pytest.mark.parametrize("peak_db", [-1.0, -6.0, 0.0])
def test_peak_normalize_is_exact(peak_db):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 10000)).astype(np.float32) * 3.0  # way over full scale
    y = audio.normalize_peak(x, peak_db)
    assert np.abs(y).max() == pytest.approx(10 ** (peak_db / 20), rel=1e-6)


def test_finish_never_clips_and_returns_frames_first():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.normal(size=(2, 20000)).astype(np.float32) * 5)
    for mode in ("peak", "loudness", None):
        out = audio.finish(x, RATE, 44100, normalize=mode)
        assert out.dtype == np.float32 and out.shape[1] == 2
        assert np.abs(out).max() <= 1.0
    assert np.abs(audio.finish(x, RATE, normalize="peak", peak_db=-3)).max() == pytest.approx(10 ** (-3 / 20), rel=1e-5)


def test_loudness_normalize_hits_target_unless_the_peak_forbids_it():
    quiet = tone(1.0, 1000, amp=0.01)
    y = audio.normalize_loudness(quiet, RATE, target_lufs=-20, peak_db=-1)
    assert audio.loudness(y, RATE) == pytest.approx(-20, abs=0.05)
    # A 0 LUFS target would need a peak far above full scale: the peak limit wins.
    z = audio.normalize_loudness(quiet, RATE, target_lufs=0, peak_db=-1)
    assert np.abs(z).max() == pytest.approx(10 ** (-1 / 20), rel=1e-5)
    assert audio.loudness(z, RATE) < -0.5


def test_k_weighted_loudness_of_a_full_scale_1k_sine():
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LUFS (K-weighting is ~0 dB there).
    x = tone(2.0, 997, channels=1, amp=1.0)
    assert audio.loudness(x, RATE) == pytest.approx(-3.01, abs=0.05)
    assert audio.loudness(np.zeros((2, 100), np.float32), RATE) == -np.inf


def test_resample_length_and_rate():
    x = tone(0.5, 440)
    y = audio.resample(x, RATE, 44100)
    assert y.shape == (2, 22050) and y.dtype == np.float32
    # The tone keeps its pitch: its spectral peak stays at 440 Hz.
    spectrum = np.abs(np.fft.rfft(y[0]))
    assert np.fft.rfftfreq(y.shape[1], 1 / 44100)[spectrum.argmax()] == pytest.approx(440, abs=2)
    np.testing.assert_array_equal(audio.resample(x, RATE, RATE), x)


def test_fit_length_exact_and_circular_keeps_a_loop_seamless():
    n = 1000
    loop = np.sin(2 * np.pi * 5 * np.arange(n) / n)[None].astype(np.float32)  # 5 whole cycles
    for length in (900, 1000, 1234):
        assert audio.fit_length(loop, length).shape == (1, length)
    y = audio.fit_length(loop, 1234, circular=True)
    expected = np.sin(2 * np.pi * 5 * np.arange(1234) / 1234)
    np.testing.assert_allclose(y[0], expected, atol=2e-3)
    plain = audio.fit_length(loop, 1234)
    assert np.abs(plain[0] - expected).max() > np.abs(y[0] - expected).max()


def test_finish_loop_mode_keeps_length_and_wrap():
    n = 4800
    loop = (0.5 * np.sin(2 * np.pi * 10 * np.arange(n) / n) + 0.1)[None].repeat(2, 0).astype(np.float32)
    out = audio.finish(loop, RATE, 44100, loop=True)
    assert out.shape == (4410, 2)
    assert abs(out[0, 0]) < 0.01 and abs(out.mean()) < 1e-3  # no trim/fade; DC gone
    jump = np.abs(out[0] - out[-1]).max()
    assert jump < 2 * np.abs(np.diff(out, axis=0)).max()


def test_channel_helpers():
    mono = tone(0.01, channels=1)
    assert audio.to_stereo(mono).shape == (2, mono.shape[1])
    np.testing.assert_array_equal(audio.to_stereo(mono)[1], mono[0])
    stereo = np.stack([np.ones(10), -np.ones(10)]).astype(np.float32)
    np.testing.assert_array_equal(audio.to_mono(stereo), np.zeros((1, 10)))
    assert audio.to_channels(np.ones((6, 10), np.float32), 2).shape == (2, 10)
    with pytest.raises(BadAudio):
        audio.to_channels(np.ones((2, 10), np.float32), 3)


@pytest.mark.parametrize("fmt,subtype", [("WAV", "PCM_24"), ("AIFF", "PCM_16"), ("FLAC", "PCM_16")])
def test_load_audio_formats(tmp_path, fmt, subtype):
    x = tone(0.1, channels=2)
    path = tmp_path / f"in.{fmt.lower()}"
    sf.write(path, x.T, 22050, format=fmt, subtype=subtype)
    y, rate = audio.load_audio(path)
    assert rate == 22050 and y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1e-3)


def test_load_audio_rejects_bad_files(tmp_path):
    with pytest.raises(BadAudio, match="no audio file"):
        audio.load_audio(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(BadAudio, match="cannot read"):
        audio.load_audio(junk)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 2), np.float32), RATE)
    with pytest.raises(BadAudio, match="empty"):
        audio.load_audio(empty)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([[0.0, np.nan], [0.1, 0.2]], np.float32), RATE, subtype="FLOAT")
    with pytest.raises(BadAudio, match="NaN"):
        audio.load_audio(nan)
    with pytest.raises(BadAudio):
        audio.load_audio(tmp_path)  # a folder


def test_finish_rejects_bad_input_and_options():
    with pytest.raises(BadAudio):
        audio.finish(np.array([[np.inf, 0.0]]), RATE)
    with pytest.raises(BadAudio):
        audio.finish(np.zeros((2, 0)), RATE)
    with pytest.raises(BadRequest):
        audio.finish(tone(), RATE, peak_db=1.0)
    with pytest.raises(BadRequest):
        audio.finish(tone(), RATE, normalize="rms")
