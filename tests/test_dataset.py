"""``ddbridge data build``: real drum one-shots rendered and collected from installed Debian packages."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ddbridge.categories import CATEGORIES, SYNTH_ONLY
from ddbridge.cli import main
from ddbridge.dataset import hits
from ddbridge.dataset.build import build
from ddbridge.dataset.categories import GM_DRUM_KEYS, name_category
from ddbridge.dataset.dedupe import Deduper
from ddbridge.dataset.output import EVAL_ONLY, eval_only_text
from ddbridge.dataset.sources import SOURCES, kit_id
from ddbridge.protocol.errors import BadRequest, PathRefused
from ddbridge.train.data import AudioFolder

RATE = hits.SAMPLE_RATE


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """One real build from the public-domain Csound SoundFont and Sonic Pi's CC0 samples, and its report."""
    out = tmp_path_factory.mktemp("data") / "real"
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        assert main(["data", "build", "--out", str(out), "--sources", "csound", "sonicpi"]) == 0
    return out, report.getvalue()


def _manifest(root: Path) -> list[dict[str, str]]:
    with (root / "manifest.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_build_fills_every_category_and_reports_counts(built):
    root, report = built
    folders = {p.name: len(list(p.glob("*.wav"))) for p in root.iterdir() if p.is_dir()}
    assert set(folders) == set(CATEGORIES) - set(SYNTH_ONLY)  # those only the procedural voices teach
    assert all(n > 0 for n in folders.values()), folders
    for category, n in folders.items():
        assert f"  {category:<11} {n:>5}" in report
    assert f"wrote {sum(folders.values())} hits" in report and "duplicates" in report


def test_hits_are_mono_44k1_trimmed_and_normalised(built):
    root, _ = built
    for path in root.rglob("*.wav"):
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (RATE, 1, "PCM_24"), path
        x, _ = sf.read(str(path), dtype="float64")
        level = np.abs(x)
        peak = level.max()
        assert peak == pytest.approx(10 ** (-1 / 20), abs=1e-4), path  # -1 dBFS
        assert x.size <= 2 * RATE
        onset = int(np.argmax(level >= peak * 10 ** (hits.ONSET_DB / 20)))
        assert onset <= round(hits.PREROLL_MS * RATE / 1000), path  # the hit starts at once
        assert level[-1] < peak * 10 ** (hits.ABRUPT_DB / 20), path  # ends near silence: no click


def test_no_near_duplicates_within_a_category(built):
    root, _ = built
    for folder in (p for p in root.iterdir() if p.is_dir()):
        heads = []
        for path in sorted(folder.glob("*.wav")):
            v = np.zeros(32768)
            x = sf.read(str(path), dtype="float64")[0][:32768]
            v[: x.size] = x
            heads.append(v / np.linalg.norm(v))
        corr = np.stack(heads) @ np.stack(heads).T
        np.fill_diagonal(corr, 0.0)
        assert corr.max() <= 0.99 + 1e-6, folder.name


def test_manifest_lists_every_hit_with_its_kit_licence_and_origin(built):
    root, _ = built
    rows = _manifest(root)
    assert {r["path"] for r in rows} == {p.relative_to(root).as_posix() for p in root.rglob("*.wav")}
    for r in rows:
        category, name = r["path"].split("/")
        assert category == r["category"] and name.startswith(f"{r['source']}_{r['kit']}_")
    csound = [r for r in rows if r["source"] == "csound"]
    assert {r["licence"] for r in csound} == {"public domain"}
    assert {r["licence"] for r in rows if r["source"] == "sonicpi"} == {"CC0-1.0"}
    assert {"standard", "tr-808"} <= {r["kit"] for r in csound if r["category"] == "kick"}
    kick = next(r for r in csound if r["kit"] == "standard" and r["category"] == "kick")
    assert kick["origin"].startswith("sf_GMbank.sf2 preset 128:0 (Standard) key 3")
    assert any(r["origin"] == "drum_cymbal_closed.flac" for r in rows if r["category"] == "hat_closed")
    assert any("(Melodic Tom) note" in r["origin"] for r in csound if r["category"] == "tom")  # pitched toms
    assert not [r for r in rows if "cymbal_hard" in r["origin"] or "splash" in r["origin"]]  # cymbals skipped


def test_whole_kits_form_the_validation_split(built):
    root, report = built
    rows = _manifest(root)
    valid = {(r["source"], r["kit"]) for r in rows if r["split"] == "valid"}
    assert valid == {("csound", k) for k in ("tr-808", "808-tom", "acoustic-bass", "harp")} | {
        ("sonicpi", "drum"),
        ("sonicpi", "bass"),
    }
    assert {r["split"] for r in rows} == {"train", "valid"}
    kits = {}
    for r in rows:
        kits.setdefault((r["source"], r["kit"]), set()).add(r["split"])
    assert all(len(splits) == 1 for splits in kits.values())  # no kit on both sides
    # Every category the eval scores has validation hits and training hits.
    for category in ("kick", "snare", "hat_closed", "hat_open", "tom", "bass", "pluck"):
        splits = [r["split"] for r in rows if r["category"] == category]
        assert "valid" in splits and "train" in splits, category
        assert f"({splits.count('valid')} valid)" in report


def test_training_leaves_the_validation_split_out_also_through_links_and_flac_copies(built, tmp_path):
    root, _ = built
    rows = _manifest(root)
    kicks = [r for r in rows if r["category"] == "kick"]
    valid = {r["path"] for r in kicks if r["split"] == "valid"}
    data = AudioFolder(root, RATE, 4096, channels=1)
    assert len(data) == sum(r["split"] == "train" for r in rows)
    assert {p.relative_to(root).as_posix() for p in data.held_out} == {r["path"] for r in rows if r["split"] == "valid"}
    assert not {p.relative_to(root).as_posix() for p in data.files} & valid
    # A folder of links into the set and into another one (as scripts/train_default.sh mixes real and synthetic
    # hits) keeps the set's split; the other set has no manifest and trains on everything.
    other = tmp_path / "synth" / "kick"
    other.mkdir(parents=True)
    sf.write(str(other / "a.wav"), np.sin(np.arange(4000) / 9.0) * 0.5, RATE)
    mix = tmp_path / "mix" / "kick"
    mix.mkdir(parents=True)
    for r in kicks:
        (mix / f"real_{r['path'].split('/')[1]}").symlink_to(root / r["path"])
    (mix / "synth_a.wav").symlink_to(other / "a.wav")
    mixed = AudioFolder(mix.parent, RATE, 4096, channels=1)
    assert len(mixed) == len(kicks) - len(valid) + 1 and len(mixed.held_out) == len(valid)
    # A FLAC copy of the set with its manifest keeps the split too.
    flac = tmp_path / "flac"
    for r in kicks:
        audio, rate = sf.read(str(root / r["path"]), dtype="float32")
        (flac / "kick").mkdir(parents=True, exist_ok=True)
        sf.write(str(flac / r["path"].replace(".wav", ".flac")), audio, rate, subtype="PCM_16")
    with (flac / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(kicks[0]))
        writer.writeheader()
        writer.writerows(kicks)
    assert len(AudioFolder(flac, RATE, 4096, channels=1)) == len(kicks) - len(valid)
    # Without a split column every file trains, as before.
    with (flac / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[k for k in kicks[0] if k != "split"])
        writer.writeheader()
        writer.writerows([{k: v for k, v in r.items() if k != "split"} for r in kicks])
    assert len(AudioFolder(flac, RATE, 4096, channels=1)) == len(kicks)
    # A folder of nothing but validation hits cannot train.
    only_valid = tmp_path / "only_valid" / "kick"
    only_valid.mkdir(parents=True)
    for path in valid:
        (only_valid / path.split("/")[1]).symlink_to(root / path)
    with pytest.raises(BadRequest, match="validation split"):
        AudioFolder(only_valid.parent, RATE, 4096, channels=1)


def test_notice_credits_the_sources_and_a_training_set_is_not_eval_only(built):
    root, _ = built
    notice = (root / "NOTICE").read_text()
    for needle in ("csound-soundfont", "public domain", "sonic-pi-samples", "CC0", "/usr/share/doc/"):
        assert needle in notice
    assert "fluid-soundfont-gm" not in notice  # only the sources actually used
    assert not (root / EVAL_ONLY).exists()
    assert AudioFolder(root / "kick", RATE, 4096, channels=1).clips


def test_a_heldout_build_is_marked_eval_only_and_refused_for_training(tmp_path):
    out = tmp_path / "heldout"
    # The copyleft packages are large; the marking is the same whatever the sources.
    report = build(out, [SOURCES["sonicpi"]], heldout=True)
    assert report.total > 0 and (out / "NOTICE").read_text().count("EVAL ONLY") == 1
    assert {r["split"] for r in _manifest(out)} == {"heldout"} and not report.valid
    assert "never train" in (out / EVAL_ONLY).read_text() and "CC0" in (out / EVAL_ONLY).read_text()
    with pytest.raises(BadRequest, match="evaluation-only"):
        AudioFolder(out, RATE, 4096, channels=1)


def test_trainer_refuses_an_eval_only_folder(tmp_path):
    (tmp_path / "kick").mkdir()
    sf.write(str(tmp_path / "kick" / "a.wav"), np.sin(np.arange(4000) / 9.0) * 0.5, 8000)
    AudioFolder(tmp_path, 8000, 2048)  # loads before the marker is there
    (tmp_path / EVAL_ONLY).write_text(eval_only_text([SOURCES["hydrogen"]]))
    for root in (tmp_path, tmp_path / "kick"):
        with pytest.raises(BadRequest, match="evaluation-only"):
            AudioFolder(root, 8000, 2048)
    assert "GPL" in (tmp_path / EVAL_ONLY).read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sources", "nope"], "unknown source 'nope'"),
        (["--sources", "hydrogen"], "held-out evaluation set: use --heldout"),
        (["--heldout", "--sources", "fluidr3"], "held-out set takes only"),
    ],
)
def test_bad_sources_are_refused_and_nothing_is_written(tmp_path, capsys, argv, message):
    assert main(["data", "build", "--out", str(tmp_path / "out"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_package_names_the_debian_package(tmp_path):
    missing = dataclasses.replace(SOURCES["csound"], paths=(tmp_path / "gone" / "sf_GMbank.sf2",))
    with pytest.raises(BadRequest, match="sudo apt-get install csound-soundfont"):
        build(tmp_path / "out", [missing])
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.partial").exists()


def test_a_missing_fluidsynth_names_its_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BadRequest, match="apt-get install fluidsynth"):
        build(tmp_path / "out", [SOURCES["csound"]])


def test_a_folder_that_is_not_a_data_build_is_left_alone(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(PathRefused, match="not empty"):
        build(tmp_path, [SOURCES["csound"]])
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_prepare_trims_the_onset_keeps_the_tail_and_normalises():
    t = np.arange(RATE) / RATE
    tone = np.sin(2 * np.pi * 220 * t) * np.exp(-t * 20) * 0.3
    stereo = np.stack([np.r_[np.zeros(5000), tone], np.r_[np.zeros(5000), tone]])
    out = hits.prepare(stereo)
    assert np.abs(out).max() == pytest.approx(10 ** (-1 / 20), rel=1e-6)
    assert int(np.argmax(np.abs(out) > 0.01 * np.abs(out).max())) <= round(hits.PREROLL_MS * RATE / 1000)
    # decays by 20 / ln(10) * 20 ~ 174 dB/s: below -90 dB after ~0.52 s, where it ends (not at 1 s)
    assert 0.45 * RATE < out.size < 0.6 * RATE
    assert hits.prepare(np.zeros(RATE)) is None and hits.prepare(np.full(RATE, 1e-6)) is None


def test_prepare_cuts_a_long_ring_at_two_seconds_with_a_fade():
    t = np.arange(3 * RATE) / RATE
    out = hits.prepare(np.sin(2 * np.pi * 100 * t) * np.exp(-t))
    assert out.size == int(hits.MAX_SECONDS * RATE)
    assert np.abs(out[-20:]).max() < 1e-3  # faded to silence where it was cut


def test_categories_from_keys_and_names():
    assert [GM_DRUM_KEYS.get(k) for k in (36, 38, 39, 42, 44, 46, 45, 56, 49, 51)] == [
        "kick", "snare", "clap", "hat_closed", "hat_closed", "hat_open", "tom", "perc", None, None,
    ]  # fmt: skip
    names = {
        "bd_haus": "kick", "drum_cymbal_pedal": "hat_closed", "drum_cymbal_open": "hat_open",
        "drum_cymbal_hard": None, "Sabian Hat Semi-Open": "hat_open", "VariBreaks Hat 1 Cl": "hat_closed",
        "Djembe1 Bass": "perc", "drum_bass_hard": "kick", "bass_hit_c": "bass", "Ride Bell": None,
        "Crash/Ride Bow": None, "tomhi2": "tom", "Hand Clap": "clap", "Snare Roll": None, "loop_tabla": None,
    }  # fmt: skip
    assert {n: name_category(n) for n in names} == names


def test_the_brush_kit_plays_brushes_where_other_kits_have_a_clap(built):
    root, _ = built
    key = {r["path"]: r["origin"].rsplit(" key ", 1)[-1].split()[0] for r in _manifest(root)}
    brush = {key[r["path"]]: r["category"] for r in _manifest(root) if r["kit"] == "brush"}
    assert brush["38"] == brush["39"] == "snare"  # brush tap and brush slap
    assert "40" not in brush  # the brush swirl is a sweep, not a hit
    standard = [r for r in _manifest(root) if r["kit"] == "standard" and " key 39 " in r["origin"]]
    assert [r["category"] for r in standard] == ["clap"]


def test_one_recorded_kit_has_one_kit_id_under_its_two_names():
    assert kit_id("The Black Pearl 1.0") == kit_id("Black_Pearl_4pc") == "black-pearl"
    assert kit_id("TR-808") == "tr-808" and kit_id("Standard 1") == "standard-1"


def test_dedupe_drops_rescaled_and_shifted_copies_but_keeps_different_hits():
    t = np.arange(RATE // 2) / RATE
    env = np.exp(-t * 12)
    kick = np.sin(2 * np.pi * 55 * t) * env
    noise = np.random.default_rng(0).standard_normal(t.size) * np.exp(-t * 40)
    d = Deduper()
    assert d.is_new("tom", kick)
    assert not d.is_new("tom", 0.3 * kick)  # the same sample at another level
    assert d.is_new("tom", np.sin(2 * np.pi * 82 * t) * env)  # another pitch
    assert d.is_new("tom", noise) and d.is_new("tom", np.sin(2 * np.pi * 55 * t) * np.exp(-t * 3))  # another decay
    assert d.is_new("kick", kick)  # categories are compared apart
    assert d.is_new("hat_closed", noise)
    shifted = np.r_[np.zeros(8), noise[:-8]]  # a hit whose onset was found 8 samples later: the waveforms
    assert abs(float(shifted @ noise)) < 0.1 * float(noise @ noise)  # hardly correlate, yet it is the same hit
    assert not d.is_new("hat_closed", 0.5 * shifted)
