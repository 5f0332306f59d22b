"""Procedural drums: deterministic, clean, distinct per category; ``ddbridge synth`` writes the labelled set."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ddbridge.cli import main
from ddbridge.dataset.synth import CATEGORIES, PEAK, RELEASE, SILENCE, render
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.tuning import detect_pitch
from ddbridge.train.features import FEATURE_NAMES, decay_times, features


@pytest.mark.parametrize("category", CATEGORIES)
def test_render_is_deterministic_clean_and_audible(category):
    a = render(category, 7)
    assert a.shape == (2, 44100) and a.dtype == np.float32
    assert np.array_equal(a, render(category, 7))
    assert not np.array_equal(a, render(category, 8))
    assert np.isfinite(a).all()
    assert np.abs(a).max() == pytest.approx(PEAK, abs=1e-6)  # -1 dBFS: headroom, no clipping
    assert np.sqrt((a**2).mean()) > 0.01
    assert np.abs(a[:, -10:]).max() < 0.05  # faded out, no click at the end


@pytest.mark.parametrize("category", CATEGORIES)
def test_render_at_a_low_rate(category):
    a = render(category, 3, sample_rate=8000, seconds=0.25)
    assert a.shape == (2, 2000)
    assert np.isfinite(a).all() and np.abs(a).max() == pytest.approx(PEAK, abs=1e-6)


def _mean_feature(category: str, name: str, seeds: int = 6) -> float:
    i = FEATURE_NAMES.index(name)
    return float(np.mean([features(render(category, s), 44100)[i] for s in range(seeds)]))


def test_categories_differ_in_their_features():
    centroid = {c: _mean_feature(c, "log_centroid") for c in ("kick", "bass", "snare", "hat_closed")}
    assert centroid["kick"] < centroid["bass"] < centroid["snare"] < centroid["hat_closed"]  # as in real one-shots
    assert _mean_feature("kick", "low_band_ratio") > 0.8 > 0.01 > _mean_feature("hat_open", "low_band_ratio")
    assert _mean_feature("bass", "low_band_ratio") > 0.5
    assert _mean_feature("808", "low_band_ratio") > 0.8
    assert _mean_feature("808", "log_decay") > _mean_feature("kick", "log_decay") + 1.0
    assert _mean_feature("hat_open", "log_decay") > _mean_feature("hat_closed", "log_decay") + 1.0
    assert _mean_feature("pluck", "log_dominant") > _mean_feature("bass", "log_dominant") + 1.0
    assert _mean_feature("tom", "log_dominant") > _mean_feature("kick", "log_dominant")


def _stats(category: str, seeds: int = 16) -> np.ndarray:
    """Per seed, at 44.1 kHz over 1 s: energy share above 8 kHz, share below 200 Hz, seconds to -60 dB re peak."""
    rows = []
    for seed in range(seeds):
        mono = render(category, seed).mean(axis=0).astype(np.float64)
        power = np.abs(np.fft.rfft(mono)) ** 2
        freqs = np.fft.rfftfreq(len(mono), 1 / 44100)
        t60 = np.flatnonzero(np.abs(mono) > np.abs(mono).max() * 1e-3)[-1] / 44100
        rows.append((power[freqs > 8000].sum() / power.sum(), power[freqs < 200].sum() / power.sum(), t60))
    return np.array(rows)


def test_closed_hats_are_as_bright_and_as_short_as_real_ones():
    """Real closed hats: ~58 % of their energy above 8 kHz, -60 dB within ~0.25 s."""
    hats = _stats("hat_closed")
    assert 0.35 <= np.median(hats[:, 0]) <= 0.80
    assert np.median(hats[:, 2]) <= 0.3
    assert np.median(_stats("hat_open")[:, 2]) > 2 * np.median(hats[:, 2])


def test_kicks_have_most_of_their_energy_below_200_hz():
    low = _stats("kick")[:, 1]
    assert np.median(low) >= 0.95 and low.min() >= 0.85  # real kicks: 97 %, a quarter of them below 95 %


def test_snares_have_a_body_below_200_hz():
    low = _stats("snare")[:, 1]
    assert 0.05 <= np.median(low) <= 0.5 and np.percentile(low, 25) >= 0.03  # real: 17 %, middle half 6 to 49 %


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_hit_ends_in_silence_inside_its_window(category):
    """Below -60 dB re peak before the window ends, and digital silence at its end."""
    stats = _stats(category, seeds=8)
    assert stats[:, 2].max() < 1.0 - SILENCE
    if category in ("kick", "snare", "hat_closed", "clap"):
        assert stats[:, 2].max() < 1.0 - SILENCE - RELEASE  # they decay by themselves, before the final fade
    for seed in range(3):
        for seconds in (1.0, 0.25):
            a = render(category, seed, seconds=seconds)
            assert not a[:, -int(44100 * seconds * SILENCE) :].any()


def test_stereo_width_where_it_fits():
    kick, hat, clap = render("kick", 1), render("hat_open", 1), render("clap", 1)
    assert np.array_equal(kick[0], kick[1])
    for wide in (hat, clap):
        assert not np.allclose(wide[0], wide[1])
        assert np.corrcoef(wide)[0, 1] > 0.5


@pytest.mark.parametrize("seconds", [1.0, 2.5])
def test_808s_are_subs_on_a_semitone_that_ring_as_long_as_asked(seconds):
    rings = []
    for seed in range(6):
        audio = render("808", seed, seconds=seconds)
        assert detect_pitch(audio.T, 44100).hz is not None, seed  # a clear pitch
        steady = audio.mean(axis=0)[int(0.3 * 44100) :]  # after the glide: the spectral peak is the note
        spectrum = np.abs(np.fft.rfft(steady * np.hanning(len(steady)), 1 << 20))
        hz = np.argmax(spectrum) * 44100 / (1 << 20)
        semitones = 12 * np.log2(hz / 32.70)
        assert -0.2 <= semitones <= 24.2 and abs(semitones - round(semitones)) < 0.2, (seed, hz)  # C1 to C3
        rings.append(decay_times(audio, 44100, (20.0,))[0])
    assert min(rings) >= 0.3 * seconds  # a sustained sub, not a blip
    assert np.median(
        [decay_times(render("kick", s, seconds=seconds), 44100, (20.0,))[0] for s in range(6)]
    ) < 0.4 * min(rings)


def test_bad_arguments_are_refused():
    with pytest.raises(BadRequest, match="unknown drum category 'cowbell'"):
        render("cowbell", 0)
    with pytest.raises(BadRequest, match="sample_rate"):
        render("kick", 0, sample_rate=100)


def test_cli_writes_a_labelled_data_set(tmp_path, capsys):
    out = tmp_path / "set"
    rc = main(
        ["synth", "--out", str(out), "--per-category", "2", "--categories", "kick", "clap"]
        + ["--seed", "5", "--bit-depth", "16", "--seconds", "0.5"]
    )
    assert rc == 0
    assert "wrote 4 files" in capsys.readouterr().out
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav")) == [
        "clap/clap_0.wav",
        "clap/clap_1.wav",
        "kick/kick_0.wav",
        "kick/kick_1.wav",
    ]
    info = sf.info(str(out / "kick" / "kick_1.wav"))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 2, 22050, "PCM_16")
    data, _ = sf.read(str(out / "kick" / "kick_1.wav"), dtype="float32")
    np.testing.assert_allclose(data.T, render("kick", 6, seconds=0.5), atol=1 / 2**15)


def test_cli_refuses_unknown_categories(tmp_path, capsys):
    rc = main(["synth", "--out", str(tmp_path / "x"), "--per-category", "1", "--categories", "kick", "gong"])
    assert rc == 2
    assert "unknown drum category 'gong'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
