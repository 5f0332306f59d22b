"""Evaluation against a folder of real hits: loading, the judge on unseen kits, sound measures, targets, CLI."""

from __future__ import annotations

import csv
import json
import math
import shutil

import numpy as np
import pytest
import soundfile as sf
from tiny_models import tiny_bundle

from ddbridge.cli import main
from ddbridge.dataset import synth
from ddbridge.model.checkpoints import save_model
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.pitch import periodicity
from ddbridge.train import real_eval
from ddbridge.train.classifier import FeatureClassifier
from ddbridge.train.features import JUDGE_FEATURE_NAMES, decay_times, judge_features
from ddbridge.train.judge import L2, fit_judge, group_folds, held_out_accuracy, kit_family
from ddbridge.train.measures import (
    FLOOR_DB,
    cross_correlations,
    duplicate_share,
    high_band_share,
    spectral_centroid,
    tail_db,
)
from ddbridge.train.real_eval import Row, Sound, evaluate_reference, targets
from ddbridge.train.reference import RATE, load_reference, load_training

CATEGORIES = ("kick", "snare", "hat_closed", "bass")
KITS = 4
PER_KIT = 5
SECONDS = 2048 / 8000  # the tiny model's window


def build_reference(folder, manifest: bool = True, file_rate: int = 48000, split: bool = False):
    """Synthetic hits laid out as ``ddbridge data build`` writes them; seeds modulo ``KITS`` form the kits.
    With ``split``, the last kit is the manifest's ``valid`` split."""
    rows = []
    for category in CATEGORIES:
        (folder / category).mkdir(parents=True)
        for seed in range(KITS * PER_KIT):
            path = folder / category / f"{category}_{seed:03d}.wav"
            sf.write(path, synth.render(category, 5000 + seed, file_rate, 0.5).T, file_rate)
            kit = f"kit{seed % KITS}"
            rows.append({"path": str(path.relative_to(folder)), "category": category, "source": "synth", "kit": kit})
            rows[-1] |= {"licence": "MIT", "origin": f"seed {seed}"}
            if split:
                rows[-1]["split"] = "valid" if seed % KITS == KITS - 1 else "train"
    if manifest:
        with (folder / "manifest.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory):
    return build_reference(tmp_path_factory.mktemp("real"))


def test_reference_is_resampled_cut_and_grouped_by_kit(reference_dir):
    ref = load_reference(reference_dir, SECONDS, ["snare", "kick", "tom"])
    assert ref.rate == RATE and sorted(ref.categories) == ["kick", "snare"]
    assert all(h.shape == (round(SECONDS * RATE),) and h.dtype == np.float32 for h in ref.hits["kick"])
    assert sorted(set(ref.groups["kick"])) == [f"synth/kit{i}" for i in range(KITS)] and "manifest.csv" in ref.grouping


def test_reference_without_manifest_states_its_file_split(tmp_path):
    ref = load_reference(build_reference(tmp_path, manifest=False), SECONDS)
    assert "no manifest.csv" in ref.grouping and "folds by name" in ref.grouping
    assert len(ref.hits["snare"]) == KITS * PER_KIT and len(set(ref.groups["snare"])) > 1


def test_bad_references_are_refused(tmp_path):
    with pytest.raises(BadRequest, match="does not exist"):
        load_reference(tmp_path / "nowhere", 1.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadRequest, match="holds no hits"):
        load_reference(tmp_path / "empty", 1.0)
    (tmp_path / "empty" / "manifest.csv").write_text("path,category\nkick/a.wav,kick\n")
    with pytest.raises(BadRequest, match="lacks the column"):
        load_reference(tmp_path / "empty", 1.0)


def test_group_folds_keep_every_kit_whole():
    groups = [f"k{i % 7}" for i in range(70)] + ["big"] * 30
    for max_folds, expected in ((20, 8), (3, 3)):
        folds = group_folds(groups, max_folds)
        assert folds.max() + 1 == expected
        assert all(len(set(folds[[g == k for g in groups]])) == 1 for k in set(groups))


def test_judge_accuracy_comes_from_kits_it_was_not_fitted_on():
    # In each kit the feature that tells the categories apart points the other way: a classifier
    # that saw a hit's kit gets it right, one that did not gets it wrong.
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1], 40)
    kit = np.repeat([0, 1], 40)
    sign = np.where(kit == 0, 1.0, -1.0)
    x = np.stack([sign * (2 * labels - 1) + 0.1 * rng.standard_normal(80), 3.0 * sign], axis=1)
    held = held_out_accuracy(x, labels, [f"kit{k}" for k in kit], ["a", "b"])
    assert held.folds == 2 and held.overall < 0.1 and held.balanced < 0.1
    with pytest.raises(BadRequest, match="at least two kits"):
        held_out_accuracy(x, labels, ["one"] * 80, ["a", "b"])


def test_judge_features_are_finite_and_see_the_band_above_8_khz():
    assert np.isfinite(judge_features(np.zeros(RATE // 4), RATE)).all()
    hat, kick = (judge_features(synth.render(c, 1, RATE, 0.5), RATE) for c in ("hat_closed", "kick"))
    assert hat.shape == (len(JUDGE_FEATURE_NAMES),)
    band = JUDGE_FEATURE_NAMES.index("log_band_8000_12000")
    assert hat[band] > -1.5 > kick[band]


def test_judge_gives_a_rare_category_the_same_weight():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], [200, 8])
    x = (rng.standard_normal(208) + 2.0 * labels)[:, None]
    fresh_labels = np.repeat([0, 1], 500)
    fresh = (rng.standard_normal(1000) + 2.0 * fresh_labels)[:, None]
    plain = FeatureClassifier(("common", "rare"), l2=L2).fit(x, labels)
    judge = fit_judge(x, labels, ("common", "rare"))
    rare = fresh_labels == 1
    assert judge.accuracy(fresh[rare], fresh_labels[rare]) > plain.accuracy(fresh[rare], fresh_labels[rare]) + 0.2
    assert judge.accuracy(fresh, fresh_labels) > 0.75


def test_sound_measures():
    t = np.arange(RATE) / RATE
    decaying = np.sin(2 * np.pi * 200 * t) * np.exp(-t / 0.1)
    expected = 20 * np.log10(np.exp(-0.925 / 0.1) / np.sqrt(2))  # mid-tail envelope, sine RMS
    assert tail_db(decaying, RATE) == pytest.approx(expected, abs=1.0)
    assert tail_db(np.zeros(RATE), RATE) == FLOOR_DB
    assert high_band_share(np.sin(2 * np.pi * 12000 * t), RATE) > 0.99 > 0.01 > high_band_share(decaying, RATE)
    assert spectral_centroid(np.sin(2 * np.pi * 3000 * t), RATE) == pytest.approx(3000, rel=0.01)


def test_eval_against_real_hits_of_a_model_at_another_rate(reference_dir):
    bundle = tiny_bundle(("kick", "hat_closed", "snare", "clap"), sample_rate=8000, sample_size=2048, depth=4)
    ref = load_reference(reference_dir, SECONDS, list(bundle.categories))
    report = evaluate_reference(bundle, ref, per_category=3, steps=2, sampler="v-ddim")
    assert [r.category for r in report.rows] == ["kick", "hat_closed", "snare"]  # clap: not in the reference
    assert report.real_hits == {c: KITS * PER_KIT for c in ("kick", "hat_closed", "snare")}
    assert report.kits["kick"] == KITS and report.judge.folds == KITS and "4 folds" in report.grouping
    assert report.judge.balanced >= 0.8  # synthetic kits are easy to tell apart
    for row in report.rows + report.baseline:
        assert 0.0 <= row.accuracy <= 1.0 and math.isfinite(row.frechet) and row.frechet >= 0 and row.mmd >= 0
    real = report.real
    assert real["hat_closed"].high_share > 0.3 > real["kick"].high_share  # measured at 44.1 kHz
    assert real["kick"].centroid_hz < real["hat_closed"].centroid_hz
    # An 8 kHz model has nothing above 4 kHz, even resampled to the reference's rate.
    assert all(r.sound.high_share < 0.01 for r in report.rows)
    names = [t.name for t in report.targets]
    assert names[0] == "judge accuracy on held-out kits" and "hat_closed energy above 8 kHz" in names
    assert "kick ending below -60 dB" in names and names[-1] == "Fréchet untrained / trained"
    table = report.table()
    assert "FAIL  hat_closed energy above 8 kHz" in table and "judge on held-out real hits" in table


def test_finish_scores_the_sounds_as_written(reference_dir):
    bundle = tiny_bundle(("kick", "snare"), sample_rate=8000, sample_size=2048, depth=4)
    ref = load_reference(reference_dir, SECONDS, list(bundle.categories))
    settings = {"per_category": 2, "steps": 1, "sampler": "v-ddim", "baseline": False}
    raw, done = evaluate_reference(bundle, ref, **settings), evaluate_reference(bundle, ref, finish=True, **settings)
    assert not raw.finished and done.finished and "finished output" in done.table() and "raw model" in raw.table()
    assert [r.sound.tail_db for r in raw.rows] != [r.sound.tail_db for r in done.rows]
    assert done.judge == raw.judge and done.real == raw.real


def test_targets_pass_and_fail_at_their_goals():
    def row(category, accuracy, silent=1.0, tail=-100.0, high=0.5, frechet=1.0):
        return Row(category, accuracy, frechet, 0.1, Sound(tail, silent, high, 1000.0))

    judge = real_eval.HeldOut({"kick": 0.9, "hat_closed": 0.8, "tom": 1.0, "hat_open": 0.7}, 0.9, 0.9, 4)
    real = {"tom": Sound(-40.0, 0.3, 0.0, 200.0), "hat_open": Sound(-200.0, 0.6, 0.4, 7000.0)}
    rows = [row("kick", 0.9, silent=0.96), row("hat_closed", 0.5, silent=0.9, high=0.31), row("tom", 1.0, tail=-39),
            row("hat_open", 0.7, tail=-61.0)]  # fmt: skip
    result = {t.name: t.passed for t in targets(judge, rows, real, [row(r.category, 0.0, frechet=6.0) for r in rows])}
    assert result == {
        "judge accuracy on held-out kits": True,
        "generated / judge accuracy, mean": False,  # 0.775 / 0.9
        "generated / judge accuracy, kick": True,
        "generated / judge accuracy, hat_closed": False,  # 0.5 / 0.8 < 0.75
        "generated / judge accuracy, tom": True,
        "kick ending below -60 dB": True,
        "hat_closed ending below -60 dB": False,
        "hat_closed energy above 8 kHz": True,
        "tom tail level, dB": False,  # -39 dB is louder than the real toms' -40 dB
        "generated / judge accuracy, hat_open": True,
        "hat_open tail level, dB": True,  # most real open hats end silent; below -60 dB is silent too
        "near-duplicate pairs (cross-correlation >= 0.95)": True,  # none here
        "Fréchet untrained / trained": True,
    }
    louder = {t.name: t for t in targets(judge, [row("hat_open", 0.7, tail=-59.0)], real, None)}
    assert (louder["hat_open tail level, dB"].passed, louder["hat_open tail level, dB"].goal) == (
        False,
        "<= real -200.0 (silent: < -60)",
    )


def test_decay_variety_copy_and_pitch_targets():
    def row(category, d20, d40, spread=1.0, duplicates=0.0, copies=None, periodic=0.0):
        return Row(
            category, 1.0, 1.0, 0.1, Sound(-100.0, 1.0, 0.5, 1000.0, d20, d40, periodic, spread, duplicates, copies)
        )

    judge = real_eval.HeldOut({"snare": 1.0, "tom": 1.0, "bass": 1.0}, 1.0, 1.0, 4)
    real = {
        "snare": Sound(-100.0, 1.0, 0.1, 1000.0, 0.062, 0.25, 0.1, 4.0),
        "tom": Sound(-100.0, 1.0, 0.0, 200.0, 0.18, 0.77, 0.9, 5.0),
        "bass": Sound(-100.0, 1.0, 0.0, 100.0, 0.3, 0.6, 0.99, 3.0),
    }
    # The snare falls 20 dB in 8 ms where real ones take 62 ms; the tom rings as long as real ones.
    rows = [row("snare", 0.008, 0.2, spread=1.0, duplicates=0.1, copies=0.25), row("tom", 0.2, 0.7, spread=4.0),
            row("bass", 0.3, 0.9, spread=2.8, periodic=0.5, copies=0.0)]  # fmt: skip
    found = {t.name: t for t in targets(judge, rows, real, None, {"snare": 5, "tom": 32, "bass": 2})}
    skip = ("accuracy", "ending", "tail level")  # the targets of the tests above
    result = {name: t.passed for name, t in found.items() if not any(k in name for k in skip)}
    assert result == {
        "snare decay to -20 dB, generated / real": False,  # 0.13
        "snare decay to -40 dB, generated / real": True,  # 0.8
        "snare spread across seeds / real": False,  # 0.25
        "tom decay to -20 dB, generated / real": True,
        "tom decay to -40 dB, generated / real": True,
        "tom spread across seeds / real": True,  # 0.8
        "bass decay to -20 dB, generated / real": True,
        "bass decay to -40 dB, generated / real": False,  # 1.5
        # two real basses: too few to read a spread
        "bass periodicity, median": False,
        "near-duplicate pairs (cross-correlation >= 0.95)": True,  # 0.1, 0, 0: 3.3 % of the pairs
        "copies of training hits (cross-correlation >= 0.9)": False,  # 0.25, 0: 12.5 % (the tom has no training set)
    }
    assert found["snare decay to -20 dB, generated / real"].value == pytest.approx(0.008 / 0.062)
    assert found["bass periodicity, median"].goal == ">= 0.85 (real 0.99)"
    assert found["copies of training hits (cross-correlation >= 0.9)"].value == pytest.approx(0.125)


def test_decay_times_read_the_last_moment_above_each_level():
    t = np.arange(RATE) / RATE
    tau = 0.05  # -20 dB after tau * ln(10) = 115 ms, -40 dB after 230 ms, -60 dB after 345 ms
    hit = np.sin(2 * np.pi * 3000 * t) * np.exp(-t / tau)
    assert decay_times(hit, RATE) == pytest.approx(tuple(tau * np.log(10) * k for k in (1, 2, 3)), abs=0.004)
    # A clap: three bursts, 25 ms apart; the gaps between them do not end it.
    rng = np.random.default_rng(0)
    clap = np.zeros(RATE)
    for start in (0, 1100, 2200):
        clap[start : start + 220] = rng.standard_normal(220)
    clap[2200:] = rng.standard_normal(RATE - 2200) * np.exp(-t[: RATE - 2200] / 0.03)
    assert decay_times(clap, RATE)[0] > 0.05
    assert decay_times(np.zeros(RATE), RATE) == (0.0, 0.0, 0.0)
    # Still ringing at the end of the window: the time to the end.
    assert decay_times(np.sin(2 * np.pi * 100 * t) * (1 - 0.5 * t), RATE)[2] == pytest.approx(1.0, abs=0.02)
    names = JUDGE_FEATURE_NAMES[-3:]
    assert names == ("log_decay_20db", "log_decay_40db", "log_decay_60db")
    short, long = (judge_features(np.sin(2 * np.pi * 150 * t) * np.exp(-t / d), RATE)[-3:] for d in (0.02, 0.2))
    assert (long - short > np.log(5)).all()  # a short tom reads as short as it is


def test_periodicity_tells_a_note_from_noise():
    t = np.arange(RATE) / RATE
    rng = np.random.default_rng(0)
    assert periodicity(np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.3), RATE) > 0.99  # a decaying sub
    saw = 2 * ((110 * t) % 1) - 1
    assert periodicity(saw * np.exp(-t / 0.3), RATE) > 0.95
    noise = rng.standard_normal(RATE)
    assert periodicity(noise, RATE) < 0.1
    # Noise below 200 Hz correlates with itself at short lags, but that is no pitch.
    from scipy import signal

    low = signal.lfilter(*signal.butter(4, 200 / (RATE / 2)), noise)
    assert periodicity(low, RATE) < 0.5
    assert periodicity(np.zeros(RATE), RATE) == 0.0
    # A note below 30 Hz has no period in range; the window starts 50 ms after the onset.
    assert periodicity(np.sin(2 * np.pi * 20 * t), RATE) < 0.85
    late = np.concatenate([np.zeros(RATE // 2), np.sin(2 * np.pi * 220 * t[: RATE // 2])])
    assert periodicity(late, RATE) > 0.99


def test_cross_correlations_find_shifted_scaled_and_inverted_copies():
    rng = np.random.default_rng(1)
    t = np.arange(RATE // 2) / RATE
    hit = rng.standard_normal(len(t)) * np.exp(-t / 0.05)
    copy = -0.3 * np.roll(hit, int(0.02 * RATE))  # 20 ms later, quieter, inverted
    late = np.roll(hit, int(0.08 * RATE))  # beyond the 50 ms allowed
    other = rng.standard_normal(len(t)) * np.exp(-t / 0.05)
    xc = cross_correlations([hit], [copy, late, other, np.zeros(len(t))], RATE)
    assert xc.shape == (1, 4)
    assert xc[0, 0] > 0.99 and xc[0, 1] < 0.5 and xc[0, 2] < 0.2 and xc[0, 3] == 0.0
    assert duplicate_share([hit, copy, other], RATE, 0.95) == pytest.approx(1 / 3)
    assert duplicate_share([hit], RATE, 0.95) == 0.0


def test_unconditional_models_get_one_row_against_every_real_hit(reference_dir):
    bundle = tiny_bundle((), sample_rate=8000, sample_size=2048, depth=4)
    ref = load_reference(reference_dir, SECONDS)
    report = evaluate_reference(bundle, ref, per_category=2, steps=1, sampler="v-ddim", baseline=False)
    assert [(r.category, r.accuracy) for r in report.rows] == [("all", None)] and report.baseline is None
    names = [t.name for t in report.targets]
    assert names == ["judge accuracy on held-out kits", "near-duplicate pairs (cross-correlation >= 0.95)"]
    assert "all" in report.table()


def test_a_split_scores_against_its_kits_with_a_judge_fitted_on_every_kit(tmp_path):
    folder = build_reference(tmp_path / "real", split=True)
    ref = load_reference(folder, SECONDS)
    valid = ref.only("valid")
    assert {c: len(v) for c, v in valid.hits.items()} == {c: PER_KIT for c in CATEGORIES}
    assert all(g == f"synth/kit{KITS - 1}" for v in valid.groups.values() for g in v)
    with pytest.raises(BadRequest, match="no hits in the split 'test'"):
        ref.only("test")
    with pytest.raises(BadRequest, match="no split column"):
        load_reference(build_reference(tmp_path / "plain"), SECONDS).only("valid")
    bundle = tiny_bundle(("kick", "bass"), sample_rate=8000, sample_size=2048, depth=4)
    settings = {"per_category": 3, "steps": 1, "sampler": "v-ddim", "baseline": False}
    report = evaluate_reference(bundle, ref, split="valid", **settings)
    assert report.split == "valid" and report.real_hits == {"kick": PER_KIT, "bass": PER_KIT}
    assert report.kits == {"kick": 1, "bass": 1} and report.judge.folds == KITS  # the judge saw every kit
    whole = evaluate_reference(bundle, ref, **settings)
    assert whole.judge == report.judge and whole.real_hits == {"kick": KITS * PER_KIT, "bass": KITS * PER_KIT}
    assert whole.real["kick"].spread != report.real["kick"].spread
    assert "(split valid)" in report.table() and "(split" not in whole.table()
    names = [t.name for t in report.targets]
    assert "kick decay to -20 dB, generated / real" in names and "bass periodicity, median" in names
    assert "kick spread across seeds / real" in names and not any(n.startswith("copies") for n in names)
    assert report.real["bass"].periodicity > 0.85 > report.rows[1].sound.periodicity  # an untrained net hisses


def test_copies_are_looked_for_in_what_the_model_trained_on(tmp_path):
    folder = build_reference(tmp_path / "real", split=True)
    training = load_training(folder, SECONDS, ["kick", "bass"])
    assert {c: len(v) for c, v in training.items()} == {c: (KITS - 1) * PER_KIT for c in ("kick", "bass")}
    # Links into a set keep its split: a folder of links to the validation hits trains on nothing.
    links, copies = tmp_path / "links", tmp_path / "copies"
    for category in ("kick", "bass"):
        (links / category).mkdir(parents=True)
        (copies / category).mkdir(parents=True)
        for i, name in enumerate(sorted((folder / category).iterdir())):
            if i % KITS == KITS - 1:
                (links / category / name.name).symlink_to(name)
                shutil.copy(name, copies / category / name.name)
    with pytest.raises(BadRequest, match="holds no hits"):
        load_training(links, SECONDS, ["kick", "bass"])
    # A training folder that holds copies of the validation hits: every real one is a copy.
    bundle = tiny_bundle(("kick", "bass"), sample_rate=8000, sample_size=2048, depth=4)
    ref = load_reference(folder, SECONDS)
    settings = {"per_category": 3, "steps": 1, "sampler": "v-ddim", "baseline": False, "split": "valid"}
    report = evaluate_reference(
        bundle, ref, training=load_training(copies, SECONDS, ["kick", "bass"]), training_name="copies", **settings
    )
    assert all(report.real[c].copy_share == 1.0 for c in ("kick", "bass"))
    assert all(r.sound.copy_share == 0.0 for r in report.rows)  # an untrained net copies nothing
    found = {t.name: t for t in report.targets}
    assert found["copies of training hits (cross-correlation >= 0.9)"].passed
    assert "hit of copies" in report.table()


def test_cli_reference_prints_json_with_targets(reference_dir, tmp_path, capsys):
    save_model(tiny_bundle(("snare", "kick"), sample_rate=8000, sample_size=2048, depth=4), tmp_path / "tiny")
    args = ["eval", "--model", str(tmp_path / "tiny"), "--reference", str(reference_dir), "--per-category", "2"]
    assert main([*args, "--steps", "1", "--sampler", "v-ddim", "--device", "cpu", "--threads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["category"] for r in report["rows"]] == ["snare", "kick"] and report["rate"] == RATE
    assert report["passed"] is False and all(isinstance(t["passed"], bool) for t in report["targets"])
    assert 0.0 <= report["judge"]["balanced"] <= 1.0 and math.isfinite(report["baseline_mean"]["frechet"])
    assert report["seconds"] == pytest.approx(SECONDS, abs=1e-4) and -100 < report["real"]["kick"]["tail_db"] < 0


def test_cli_reference_scores_drums_unless_asked_otherwise(reference_dir, tmp_path, capsys):
    bundle = tiny_bundle(("snare", "hat_closed", "kick", "bass"), sample_rate=8000, sample_size=2048, depth=4)
    save_model(bundle, tmp_path / "tiny")
    args = ["eval", "--model", str(tmp_path / "tiny"), "--reference", str(reference_dir), "--per-category", "2"]
    args += ["--steps", "1", "--sampler", "v-ddim", "--device", "cpu", "--no-baseline", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["category"] for r in report["rows"]] == ["snare", "hat_closed", "kick", "bass"]  # drums and pitched
    assert "bass periodicity, median" in [t["name"] for t in report["targets"]]
    assert main([*args, "--categories", "kick, snare"]) == 0
    assert [r["category"] for r in json.loads(capsys.readouterr().out)["rows"]] == ["snare", "kick"]
    assert main([*args, "--categories", "bass, kick"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["category"] for r in report["rows"]] == ["kick", "bass"] and set(report["real_hits"]) == {"kick", "bass"}
    assert main([*args, "--categories", "kick,choir"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--categories must name categories of model 'tiny'" in err
    assert main(["eval", "--model", str(tmp_path / "tiny"), "--reference", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_scores_a_split_and_copies_of_the_training_data(tmp_path, capsys):
    folder = build_reference(tmp_path / "real", split=True)
    save_model(tiny_bundle(("kick", "snare"), sample_rate=8000, sample_size=2048, depth=4), tmp_path / "tiny")
    args = ["eval", "--model", str(tmp_path / "tiny"), "--reference", str(folder), "--per-category", "2"]
    args += ["--steps", "1", "--sampler", "v-ddim", "--device", "cpu", "--no-baseline", "--json"]
    assert main([*args, "--split", "valid", "--training", str(folder)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "valid" and report["training"] == str(folder)
    assert report["real_hits"] == {"snare": PER_KIT, "kick": PER_KIT}
    assert 0.0 <= report["rows"][0]["sound"]["copy_share"] <= 1.0
    assert any(t["name"].startswith("copies of training hits") for t in report["targets"])
    assert main([*args, "--split", "nope"]) == 2
    assert "no hits in the split 'nope'" in capsys.readouterr().err


def test_kit_families_hold_a_kits_variations_and_renderings_out_together():
    assert kit_family("fluidr3/standard-3") == kit_family("musescore/standard") == "standard"
    assert kit_family("fluidr3/orchestra-kit") == kit_family("csound/orchestra") == "orchestra"
    assert kit_family("hydrogen/millo-multilayered2") != kit_family("hydrogen/millo-multilayered3")
    assert kit_family("synth/kit0") == "kit0"
