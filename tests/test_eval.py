"""Evaluation: feature distances, the drum classifier, and ``ddbridge eval`` on a tiny model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ddbridge.cli import main
from ddbridge.dataset.synth import CATEGORIES
from ddbridge.model.bundle import ModelBundle
from ddbridge.model.checkpoints import save_model
from ddbridge.model.unet import UNetConfig
from ddbridge.protocol.errors import BadRequest
from ddbridge.train.evaluate import HELD_OUT_SEED, evaluate, fit_classifier, real_hits
from ddbridge.train.features import FEATURE_NAMES, Standardizer, feature_matrix, features, frechet_distance, mmd_rbf
from ddbridge.train.netinit import new_network

RATE, LENGTH = 8000, 2048


def tiny_bundle(categories=("kick", "hat_closed", "snare"), name="tiny") -> ModelBundle:
    config = UNetConfig(depth=4, channels=(8,) * 4, n_attn_layers=0, num_classes=len(categories))
    return ModelBundle(new_network(config, 1).eval(), name, RATE, LENGTH, tuple(categories))


def test_features_are_finite_even_for_silence():
    f = features(np.zeros((2, LENGTH), np.float32), RATE)
    assert f.shape == (len(FEATURE_NAMES),) and np.isfinite(f).all()


def test_distances_are_zero_for_equal_sets_and_grow_with_the_difference():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((40, 5)), rng.standard_normal((40, 5))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-4)
    assert mmd_rbf(a, a) == pytest.approx(0.0, abs=1e-12)
    near, far = frechet_distance(a, b), frechet_distance(a, b + 3.0)
    assert near < 1.5 < 40 < far
    assert mmd_rbf(a, b) < mmd_rbf(a, b + 3.0)


def test_same_category_sets_are_closer_than_different_ones():
    def feats(category, seed):
        return feature_matrix(real_hits(category, 12, seed, RATE, LENGTH), RATE)

    kick_a, kick_b, hat = feats("kick", HELD_OUT_SEED), feats("kick", 0), feats("hat_closed", 0)
    scale = Standardizer(np.concatenate([kick_a, kick_b, hat]))
    assert frechet_distance(scale(kick_a), scale(kick_b)) * 3 < frechet_distance(scale(kick_a), scale(hat))
    assert mmd_rbf(scale(kick_a), scale(kick_b)) * 3 < mmd_rbf(scale(kick_a), scale(hat))


def test_classifier_recognises_held_out_synthetic_drums():
    rate, length = 16000, 4096
    classifier = fit_classifier(CATEGORIES, 40, rate, length)
    x = np.concatenate([feature_matrix(real_hits(c, 20, HELD_OUT_SEED, rate, length), rate) for c in CATEGORIES])
    y = np.repeat(np.arange(len(CATEGORIES)), 20)
    assert classifier.accuracy(x, y) >= 0.9


def test_eval_of_a_tiny_model_gives_finite_scores_and_a_baseline():
    report = evaluate(tiny_bundle(), per_category=3, steps=2, sampler="v-ddim", classifier_per_category=12)
    assert [r.category for r in report.rows] == ["kick", "hat_closed", "snare"]
    assert len(report.baseline) == 3 and report.real_accuracy >= 0.9
    for row in report.rows + report.baseline:
        assert 0.0 <= row.accuracy <= 1.0 and math.isfinite(row.frechet) and math.isfinite(row.mmd)
        assert row.frechet >= 0 and row.mmd >= 0
    table = report.table()
    assert "hat_closed" in table and "mean" in table and "untrained" in table and "trained / untrained" in table


def test_guidance_changes_the_model_rows_and_leaves_the_baseline_alone():
    bundle, settings = tiny_bundle(), {"per_category": 3, "steps": 2, "sampler": "v-ddim", "classifier_per_category": 8}
    plain, guided = evaluate(bundle, **settings), evaluate(bundle, guidance_scale=4.0, **settings)
    assert plain.guidance_scale == 1.0 and guided.guidance_scale == 4.0 and "guidance 4" in guided.table()
    assert guided.baseline == plain.baseline
    assert [r.frechet for r in guided.rows] != [r.frechet for r in plain.rows]
    bundle.info["default_guidance"] = 4.0
    by_default = evaluate(bundle, **settings)
    assert by_default.guidance_scale == 4.0 and by_default.rows == guided.rows


def test_guidance_without_categories_is_refused():
    with pytest.raises(BadRequest, match="needs a category"):
        evaluate(tiny_bundle(categories=()), per_category=2, steps=1, guidance_scale=3.0, baseline=False)


def test_unconditional_models_get_one_row_against_all_categories():
    bundle = tiny_bundle(categories=())
    report = evaluate(bundle, per_category=2, steps=1, sampler="v-ddim", classifier_per_category=4, baseline=False)
    assert [(r.category, r.accuracy) for r in report.rows] == [("all", None)]
    assert report.baseline is None and math.isfinite(report.rows[0].frechet)


def test_models_without_drum_categories_are_refused():
    with pytest.raises(BadRequest, match="knows none of the drum categories"):
        evaluate(tiny_bundle(categories=("choir", "strings")), per_category=2)


def test_cli_prints_json(tmp_path, capsys):
    save_model(tiny_bundle(categories=("kick", "clap")), tmp_path / "tiny")
    args = ["eval", "--model", str(tmp_path / "tiny"), "--per-category", "2", "--steps", "2", "--sampler", "v-ddim"]
    args += ["--guidance", "2"]
    assert main([*args, "--classifier-per-category", "8", "--device", "cpu", "--threads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["category"] for r in report["rows"]] == ["kick", "clap"]
    assert report["model"] == "tiny" and report["steps"] == 2 and report["sampler"] == "v-ddim"
    assert report["guidance_scale"] == 2.0
    assert math.isfinite(report["mean"]["frechet"]) and math.isfinite(report["baseline_mean"]["mmd"])
