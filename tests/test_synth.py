"""Procedural drums: deterministic, clean, distinct per category; ``ddbridge synth`` writes the labelled set."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ddbridge.cli import main
from ddbridge.errors import BadRequest
from ddbridge.train.features import FEATURE_NAMES, features
from ddbridge.train.synth import CATEGORIES, PEAK, render


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
    assert centroid["bass"] < centroid["kick"] < centroid["snare"] < centroid["hat_closed"]
    assert _mean_feature("bass", "low_band_ratio") > 0.8 > 0.01 > _mean_feature("hat_open", "low_band_ratio")
    assert _mean_feature("hat_open", "log_decay") > _mean_feature("hat_closed", "log_decay") + 1.0
    assert _mean_feature("pluck", "log_dominant") > _mean_feature("bass", "log_dominant") + 1.0
    assert _mean_feature("tom", "log_dominant") > _mean_feature("kick", "log_dominant")


def test_stereo_width_where_it_fits():
    kick, hat, clap = render("kick", 1), render("hat_open", 1), render("clap", 1)
    assert np.array_equal(kick[0], kick[1])
    for wide in (hat, clap):
        assert not np.allclose(wide[0], wide[1])
        assert np.corrcoef(wide)[0, 1] > 0.5


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
