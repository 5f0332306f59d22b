"""The shipped drum judge and the pool's check: real hits from an installed package, the real pool, the real daemon."""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from daemon_helpers import DaemonProcess, build_tiny_model

from ddbridge.cli import main
from ddbridge.daemon.engine import Work
from ddbridge.daemon.pool import GIVE_UP, TRIES, Pool
from ddbridge.daemon.pool_check import PoolCheck
from ddbridge.dataset import synth
from ddbridge.protocol.errors import BadRequest
from ddbridge.protocol.schema import reply_schema
from ddbridge.train.features import decay_times
from ddbridge.train.judge_file import (
    CHOKES,
    DEFAULT_JUDGE,
    OPEN_HAT_VARIANTS,
    load_judge,
    save_judge,
    score_folder,
    variants,
)
from ddbridge.train.reference import Reference, load_reference

RATE = 44100


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Path:
    """Real drum hits built from Sonic Pi's CC0 samples (an installed Debian package)."""
    out = tmp_path_factory.mktemp("data") / "real"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["data", "build", "--out", str(out), "--sources", "sonicpi"]) == 0
    return out


@pytest.fixture(scope="module")
def check() -> PoolCheck:
    return PoolCheck.load()


@pytest.fixture(scope="module")
def hits(real) -> dict[str, list[np.ndarray]]:
    """Mono 1 s hits ``[1, L]`` at 44.1 kHz per category."""
    return {c: [h[None] for h in v] for c, v in load_reference(real, 1.0, ["kick", "snare", "tom"]).hits.items()}


def test_shipped_judge_is_small_and_recognises_real_hits_from_an_installed_package(real):
    assert DEFAULT_JUDGE.is_file() and DEFAULT_JUDGE.stat().st_size < 50_000
    judge = load_judge()
    assert set(judge.categories) == {"kick", "snare", "clap", "hat_closed", "hat_open", "tom"}
    scores = score_folder(judge, real)
    assert scores["hits"]["kick"] >= 10 and scores["hits"]["snare"] >= 5
    assert scores["balanced"] >= 0.8 and scores["per_category"]["kick"] >= 0.9, scores


def test_judge_file_round_trips_and_refuses_bad_files(tmp_path, hits):
    judge = load_judge()
    copy = load_judge(save_judge(judge, tmp_path / "j.json"))
    x = np.stack([judge.features(h, RATE) for h in hits["kick"][:3]])
    assert np.allclose(copy.probabilities(x), judge.probabilities(x))
    data = json.loads((tmp_path / "j.json").read_text())
    (tmp_path / "old.json").write_text(json.dumps({**data, "features": data["features"][:-1]}))
    with pytest.raises(BadRequest, match="other features"):
        load_judge(tmp_path / "old.json")
    (tmp_path / "short.json").write_text(json.dumps({**data, "weights": data["weights"][:-1]}))
    with pytest.raises(BadRequest, match="malformed"):
        load_judge(tmp_path / "short.json")
    with pytest.raises(BadRequest, match="unreadable"):
        load_judge(tmp_path / "missing.json")


def test_judge_fit_command_fits_saves_and_tests(real, tmp_path, capsys):
    out = tmp_path / "judge.json"
    assert (
        main(["judge", "fit", str(real), "--out", str(out), "--categories", "kick,snare,tom", "--test", str(real)]) == 0
    )
    printed = capsys.readouterr().out
    assert "held out by kit family" in printed and "judge on" in printed and str(out) in printed
    assert "variants" in printed and load_judge(out).info["variants"]["total"] > 0
    judge = load_judge(out)
    assert judge.categories == ("kick", "snare", "tom") and judge.info["tested_on"]["balanced"] > 0.5
    assert main(["judge", "test", str(real), "--judge", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["per_category"].keys() == {"kick", "snare", "tom"}


def test_judge_hears_open_hats_half_open_and_choked():
    # One open hat from each of two kits: its variants ring shorter (half-open) and its chokes are closed hats.
    hats = [synth.render("hat_open", seed, RATE, 1.0)[0] for seed in (1, 2)]
    ref = Reference(Path("."), RATE, {"hat_open": hats}, {"hat_open": ["a/k1", "b/k2"]}, "test")
    made = variants(ref, ["hat_closed", "hat_open"], seed=0)
    assert len(made) == 2 * (OPEN_HAT_VARIANTS + CHOKES) and all(len(h) == RATE for h, _, _ in made)
    assert [g for _, _, g in made] == ["a/k1"] * (OPEN_HAT_VARIANTS + CHOKES) + ["b/k2"] * (OPEN_HAT_VARIANTS + CHOKES)
    ring = {c: [decay_times(h, RATE)[0] for h, cat, _ in made if cat == c] for c in ("hat_open", "hat_closed")}
    assert len(ring["hat_open"]) == 2 * OPEN_HAT_VARIANTS and len(ring["hat_closed"]) == 2 * CHOKES
    assert max(ring["hat_closed"]) < 0.1 < min(ring["hat_open"])
    assert variants(ref, ["hat_open"], seed=0)[0][0].tolist() == made[0][0].tolist()  # drawn from the seed
    assert all(cat == "hat_open" for _, cat, _ in variants(ref, ["hat_open"], seed=0))  # no closed hats to make


def test_judge_refuses_to_fit_on_an_evaluation_only_set(real, tmp_path):
    marked = tmp_path / "heldout"
    marked.mkdir()
    (marked / "EVAL_ONLY").write_text("evaluation only")
    assert main(["judge", "fit", str(marked), "--out", str(tmp_path / "j.json")]) == 2
    assert not (tmp_path / "j.json").exists()


def _hissy(hit: np.ndarray, db: float = -45.0) -> np.ndarray:
    noise = np.random.default_rng(0).standard_normal(hit.shape).astype(np.float32)
    return hit + noise * np.abs(hit).max() * 10 ** (db / 20)


def test_verdicts_reject_off_category_and_hissy_candidates(check, hits):
    kick, snare = hits["kick"][0], hits["snare"][0]
    good = check.verdict(kick, RATE, "kick")
    assert good.accepted and good.top == "kick" and good.tail_db < -60
    wrong = check.verdict(snare, RATE, "kick")
    assert not wrong.accepted and wrong.top == "snare" and wrong.score < good.score
    hissy = check.verdict(_hissy(kick), RATE, "kick")
    assert not hissy.accepted and hissy.top == "kick" and -50 < hissy.tail_db < -40
    # A constant offset is not a tail, nor is the offset that a kick's lopsided body gives the whole window.
    offset = check.verdict(kick + 0.01 * np.abs(kick).max(), RATE, "kick")
    assert offset.accepted and offset.tail_db == pytest.approx(good.tail_db, abs=0.5)
    t = np.arange(kick.shape[-1]) / RATE
    thump = (np.sin(2 * np.pi * 50 * t) + 0.6) * np.exp(-t / 0.04) * (t < 0.5)  # lopsided, silent from 0.5 s
    assert abs(thump.mean()) > 1e-3 * np.abs(thump).max()  # the whole window's mean is above -60 dB
    assert check.verdict(thump[None].astype(np.float32), RATE, "kick").tail_db < -100
    # Toms may ring: only the category counts for them.
    assert check.verdict(_hissy(hits["tom"][0]), RATE, "tom").accepted


def test_verdict_is_cheap(check, hits):
    kick = np.repeat(hits["kick"][0], 2, axis=0)  # stereo, 1 s at 44.1 kHz
    check.verdict(kick, RATE, "kick")
    start = time.perf_counter()
    for _ in range(5):
        check.verdict(kick, RATE, "kick")
    assert (time.perf_counter() - start) / 5 < 0.1


def _template(category: str = "kick") -> Work:
    return Work("generate", "m", (), 2, "ddim", category, 1.0, False, RATE)


def _category(pool: Pool, category: str = "kick") -> dict:
    return next(c for c in pool.state()["categories"] if c["category"] == category)


def test_pool_keeps_only_accepted_candidates(check, hits):
    pool = Pool([_template()], 2, check)
    kick, snare = hits["kick"][0], hits["snare"][0]
    pool.add(replace(_template(), seeds=(1, 2, 3)), np.stack([kick, snare, _hissy(kick)]), RATE)
    state = pool.state()
    assert state["check"] is True and (state["considered"], state["rejected"]) == (3, 2)
    assert state["rejection_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert _category(pool) == {
        "category": "kick",
        "ready": 1,
        "checked": True,
        "considered": 3,
        "rejected": 2,
        "kept_rejected": 0,
        "gave_up": False,
    }
    (served,) = pool.take(replace(_template(), seeds=(9,)), 1)
    assert served.seed == 1 and served.verdict.accepted
    assert pool.take(replace(_template(), seeds=(9,)), 1) is None


def test_pool_work_is_bounded_when_every_candidate_is_rejected(check, hits):
    pool = Pool([_template()], 1, check)
    snares = hits["snare"][:TRIES]
    assert len(snares) == TRIES
    pool.add(replace(_template(), seeds=tuple(range(TRIES))), np.stack(snares), RATE)
    (kept,) = pool.take(_template(), 1)  # after TRIES rejections, the best-scoring one is kept
    scores = [check.verdict(s, RATE, "kick").score for s in snares]
    assert kept.seed == int(np.argmax(scores)) and not kept.verdict.accepted
    assert _category(pool)["kept_rejected"] == 1 and not _category(pool)["gave_up"]
    seed = TRIES
    while _category(pool)["considered"] < GIVE_UP:
        pool.add(replace(_template(), seeds=(seed,)), snares[0][None], RATE)
        seed += 1
        pool.take(_template(), 1)
    state = _category(pool)
    assert state["gave_up"] and state["kept_rejected"] == GIVE_UP // TRIES
    pool.add(replace(_template(), seeds=(seed,)), snares[0][None], RATE)  # now kept at once
    assert _category(pool)["ready"] == 1 and _category(pool)["kept_rejected"] == GIVE_UP // TRIES + 1
    pool.take(_template(), 1)
    pool.add(replace(_template(), seeds=(seed + 1,)), hits["kick"][0][None], RATE)
    assert not _category(pool)["gave_up"]  # an accepted candidate ends it


def test_pool_without_check_keeps_everything(hits):
    pool = Pool([_template()], 2, None)
    pool.add(replace(_template(), seeds=(1, 2)), np.stack([hits["snare"][0], hits["snare"][1]]), RATE)
    state = pool.state()
    assert (state["check"], state["considered"], state["rejected"]) == (False, 0, 0)
    assert _category(pool) == {"category": "kick", "ready": 2, "checked": False}


def _wait_full(client, size: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.status()
        if all(c["ready"] == size for c in status["pool"]["categories"]):
            return status
        time.sleep(0.1)
    raise AssertionError(f"the pool did not fill: {status['pool']}")


def test_daemon_pool_with_an_always_rejected_model_is_bounded(tmp_path_factory):
    """An untrained model's noise is never a clean kick or snare: each slot costs TRIES candidates,
    then the best is kept; after GIVE_UP rejections in a row every candidate is kept."""
    model = build_tiny_model(tmp_path_factory.mktemp("model"))
    with DaemonProcess(model, tmp_path_factory.mktemp("daemon"), pool_size=2) as daemon, daemon.client() as c:
        status = _wait_full(c, 2)
        jsonschema.validate(status, reply_schema("status"))
        pool = status["pool"]
        assert pool["check"] is True and pool["rejection_rate"] == 1.0
        assert pool["considered"] == pool["rejected"] == 2 * 2 * TRIES
        for category in pool["categories"]:
            assert category["checked"] and category["kept_rejected"] == 2 and not category["gave_up"]
        time.sleep(1.0)
        assert c.status()["pool"] == pool  # full: no more work
        for _ in range(2):
            out = daemon.out / f"kicks-{time.monotonic_ns()}"
            out.mkdir()
            assert c.generate(category="kick", count=2, out_dir=str(out))["from_pool"] is True
            kick = next(x for x in _wait_full(c, 2)["pool"]["categories"] if x["category"] == "kick")
        assert kick["gave_up"] and kick["considered"] == 4 * TRIES + 2 and kick["kept_rejected"] == 6


def test_daemon_pool_check_off_keeps_the_old_behaviour(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"))
    root = tmp_path_factory.mktemp("daemon")
    with DaemonProcess(model, root, pool_size=2, extra_config="check = false") as daemon, daemon.client() as c:
        pool = _wait_full(c, 2)["pool"]
        assert (pool["check"], pool["considered"], pool["rejected"], pool["rejection_rate"]) == (False, 0, 0, 0.0)
        assert all(not x["checked"] for x in pool["categories"])
        assert c.generate(category="kick", out_dir=str(daemon.out))["from_pool"] is True
