"""Evaluation against a folder of real hits: loading, the judge on unseen kits, sound measures, targets, CLI."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import soundfile as sf
from tiny_models import tiny_bundle

from ddbridge.cli import main
from ddbridge.model.checkpoints import save_model
from ddbridge.protocol.errors import BadRequest
from ddbridge.train import real_eval, synth
from ddbridge.train.classifier import FeatureClassifier
from ddbridge.train.features import JUDGE_FEATURE_NAMES, judge_features
from ddbridge.train.judge import L2, fit_judge, group_folds, held_out_accuracy
from ddbridge.train.measures import FLOOR_DB, high_band_share, spectral_centroid, tail_db
from ddbridge.train.real_eval import Row, Sound, evaluate_reference, targets
from ddbridge.train.reference import RATE, load_reference

CATEGORIES = ("kick", "snare", "hat_closed", "bass")
KITS = 4
PER_KIT = 5
SECONDS = 2048 / 8000  # the tiny model's window


def build_reference(folder, manifest: bool = True, file_rate: int = 48000):
    """Synthetic hits laid out as ``ddbridge data build`` writes them; seeds modulo ``KITS`` form the kits."""
    rows = []
    for category in CATEGORIES:
        (folder / category).mkdir(parents=True)
        for seed in range(KITS * PER_KIT):
            path = folder / category / f"{category}_{seed:03d}.wav"
            sf.write(path, synth.render(category, 5000 + seed, file_rate, 0.5).T, file_rate)
            kit = f"kit{seed % KITS}"
            rows.append({"path": str(path.relative_to(folder)), "category": category, "source": "synth", "kit": kit})
            rows[-1] |= {"licence": "MIT", "origin": f"seed {seed}"}
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
        "Fréchet untrained / trained": True,
    }
    louder = targets(judge, [row("hat_open", 0.7, tail=-59.0)], real, None)
    assert [(t.name, t.passed, t.goal) for t in louder][-1] == (
        "hat_open tail level, dB",
        False,
        "<= real -200.0 (silent: < -60)",
    )


def test_unconditional_models_get_one_row_against_every_real_hit(reference_dir):
    bundle = tiny_bundle((), sample_rate=8000, sample_size=2048, depth=4)
    ref = load_reference(reference_dir, SECONDS)
    report = evaluate_reference(bundle, ref, per_category=2, steps=1, sampler="v-ddim", baseline=False)
    assert [(r.category, r.accuracy) for r in report.rows] == [("all", None)] and report.baseline is None
    assert [t.name for t in report.targets] == ["judge accuracy on held-out kits"] and "all" in report.table()


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
    assert [r["category"] for r in report["rows"]] == ["snare", "hat_closed", "kick"]  # bass is no drum
    assert main([*args, "--categories", "bass, kick"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["category"] for r in report["rows"]] == ["kick", "bass"] and set(report["real_hits"]) == {"kick", "bass"}
    assert main([*args, "--categories", "kick,choir"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--categories must name categories of model 'tiny'" in err
    assert main(["eval", "--model", str(tmp_path / "tiny"), "--reference", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
