"""The pattern grammar and the rhythm measures that judge loops."""

from __future__ import annotations

import numpy as np
import pytest

from ddbridge.dataset import loop_kits
from ddbridge.loops import rhythm
from ddbridge.loops.genres import GENRES, check_tempo, loop_samples, loop_stem, resolve_genre
from ddbridge.loops.patterns import PARTS, pattern
from ddbridge.protocol.errors import BadRequest
from ddbridge.train.genre_judge import pattern_features

RATE = 44100


def _steps(pat, part: str) -> set[float]:
    return {round(n.beat * 4, 3) for n in pat.notes if n.part == part}


@pytest.mark.parametrize("genre", GENRES)
def test_every_pattern_has_a_kick_on_the_downbeat_and_stays_in_its_bars(genre):
    for seed in range(20):
        pat = pattern(genre, 2, np.random.default_rng(seed))
        assert 0.0 in _steps(pat, "kick")
        assert all(0 <= n.beat < pat.beats and n.part in PARTS and 1 <= n.velocity <= 127 for n in pat.notes)


def test_genres_differ_where_they_should():
    rng = np.random.default_rng(1)
    for _ in range(20):
        house = pattern("house", 1, rng)
        assert {0.0, 4.0, 8.0, 12.0} <= _steps(house, "kick")  # four on the floor
        trap = pattern("trap", 1, rng)
        backbeat = _steps(trap, "snare") | _steps(trap, "clap")
        assert 8.0 in backbeat and 4.0 not in backbeat  # half time: the backbeat on beat three
        hiphop = pattern("hiphop", 1, rng)
        assert hiphop.swing_eighths and 0.05 <= hiphop.swing <= 0.35


def test_a_seed_gives_the_same_pattern_and_seeds_differ():
    a = pattern("dnb", 2, np.random.default_rng(7))
    assert a == pattern("dnb", 2, np.random.default_rng(7))
    assert len({pattern("dnb", 2, np.random.default_rng(s)).notes for s in range(10)}) >= 8


def _kit(seed: int = 0) -> loop_kits.SampleKit:
    from ddbridge.dataset.synth import render

    pools = {c: [render(c, seed + j, RATE, 0.6).mean(axis=0) for j in range(2)]
             for c in ("kick", "snare", "clap", "hat_closed", "hat_open", "tom", "perc")}  # fmt: skip
    kit = loop_kits.assemble("test", pools, np.random.default_rng(seed))
    assert kit is not None
    return kit


def test_a_played_loop_is_exact_periodic_and_measures_like_a_loop():
    kit = _kit()
    rng = np.random.default_rng(3)
    for genre, bpm, bars in (("house", 124.0, 1), ("dnb", 172.0, 2), ("hiphop", 90.5, 1)):
        audio = loop_kits.play(kit, pattern(genre, bars, rng), bpm)
        assert audio.size == loop_samples(bpm, bars, RATE) == round(bars * 240 / bpm * RATE)
        assert rhythm.periodicity(audio, RATE, bpm) > 0.3
        assert rhythm.peakiness(audio, RATE) > 2.0
        assert rhythm.grid_share(audio, RATE, bpm) >= 0.8
        assert rhythm.tempo_matches(rhythm.tempo(audio, RATE), bpm)
        assert rhythm.seam(audio, RATE, bars * 4).click <= 2.0
        if genre == "house":  # kick on every beat, clap or snare on two and four, open hats between
            assert all(rhythm.parts_present(audio, RATE).values())


def test_white_noise_fails_the_rhythm_measures():
    noise = np.random.default_rng(0).normal(0, 0.1, loop_samples(120, 1, RATE))
    assert rhythm.periodicity(noise, RATE, 120) < 0.2
    assert rhythm.peakiness(noise, RATE) < 1.6
    assert not any(rhythm.parts_present(noise, RATE).values())


def test_the_drum_balance_reads_a_loop_that_lost_its_low_end():
    from ddbridge.train.loop_eval import balance_distance

    audio = loop_kits.play(_kit(), pattern("house", 1, np.random.default_rng(3)), 124.0)
    levels = rhythm.part_levels(audio, RATE)
    assert set(levels) == set(rhythm.PART_BANDS) and all(v <= 0 for v in levels.values())
    assert rhythm.part_levels(audio * 0.1, RATE) == pytest.approx(levels)  # the balance, not the level
    spectrum = np.fft.rfft(audio)
    spectrum[np.fft.rfftfreq(audio.size, 1 / RATE) < 300] = 0
    thin = np.fft.irfft(spectrum, n=audio.size)
    thin_levels = rhythm.part_levels(thin, RATE)
    assert thin_levels["kick"] < levels["kick"] - 30 and thin_levels["hat"] > levels["hat"]
    assert balance_distance(thin_levels, levels) > 10 and balance_distance(levels, levels) == 0


def test_a_cut_at_the_wrap_is_a_click():
    kit = _kit(1)
    audio = loop_kits.play(kit, pattern("techno", 1, np.random.default_rng(2)), 130.0)
    assert rhythm.seam(audio, RATE).click <= 2.0
    broken = audio + np.linspace(0, 0.5, audio.size)  # a drift that jumps back at the wrap
    assert rhythm.seam(broken, RATE).click > 2.0


def test_pattern_features_follow_the_pattern_more_than_the_kit():
    kits = _kit(2), _kit(5)
    house, breaks = pattern("house", 1, np.random.default_rng(4)), pattern("breakbeat", 1, np.random.default_rng(4))

    def features(kit, pat):
        return pattern_features(loop_kits.play(kit, pat, 124.0), RATE, 124.0, 1)

    same_pattern = np.linalg.norm(features(kits[0], house) - features(kits[1], house))
    same_kit = np.linalg.norm(features(kits[0], house) - features(kits[0], breaks))
    assert same_pattern < same_kit


def test_genre_names_tempi_and_stems():
    assert resolve_genre("Boom-Bap") == "hiphop" and resolve_genre("jungle") == "dnb"
    assert resolve_genre("any") is None and resolve_genre(None) is None
    with pytest.raises(BadRequest, match="unknown genre 'polka'; choose one of: house"):
        resolve_genre("polka")
    assert check_tempo(124, 2) == (124.0, 2)
    for bpm, bars in ((69.9, 1), (181, 1), (120, 3), (120, True)):
        with pytest.raises(BadRequest):
            check_tempo(bpm, bars)
    assert loop_stem("house", (124.0, 1)) == "loop_house_124bpm"
    assert loop_stem(None, (124.5, 2)) == "loop_124-5bpm"
