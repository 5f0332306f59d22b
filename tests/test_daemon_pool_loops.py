"""The pool keeps loops ready at the tempo last asked: the Pool itself, then the real daemon over real ZeroMQ."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import soundfile as sf
from daemon_helpers import SAMPLE_RATE, DaemonProcess, build_tiny_model

from ddbridge.daemon.engine import Work
from ddbridge.daemon.pool import Pool
from ddbridge.protocol.schema import reply_schema

KICK = Work("generate", "tiny", (), 2, "v-iplms", "kick", 1.0, False, 256)
HOUSE = Work("generate", "tiny", (), 2, "v-iplms", "house", 1.0, True, tempo=(124.0, 2), genre="house")
TECHNO = replace(HOUSE, category="techno", tempo=(130.0, 1), genre="techno")


def _audio(n: int, length: int = 8) -> np.ndarray:
    return np.ones((n, 2, length), dtype=np.float32)


def test_the_loop_template_follows_the_tempo_last_asked_and_drops_the_old_loops():
    pool = Pool([KICK], 2)
    assert pool.state()["loop"] is None and pool.loop is None
    assert pool.set_loop(replace(HOUSE, seeds=(5,))) is True and pool.set_loop(HOUSE) is False
    assert pool.next_fill().tempo == (124.0, 2)  # loops win ties with the one-shots
    pool.add(replace(HOUSE, seeds=(1, 2)), _audio(2), SAMPLE_RATE)
    assert pool.state()["loop"] == {"bpm": 124.0, "bars": 2, "genre": "house", "ready": 2}
    assert [c["category"] for c in pool.state()["categories"]] == ["kick"]  # loops are reported apart
    assert pool.next_fill().category == "kick"
    (taken,) = pool.take(replace(HOUSE, seeds=(9,)), 1)
    assert taken.seed == 1 and pool.take(HOUSE, 2) is None

    assert pool.set_loop(TECHNO) is True
    assert pool.state()["loop"] == {"bpm": 130.0, "bars": 1, "genre": "techno", "ready": 0}
    assert pool.take(HOUSE, 1) is None  # the house loop kept for the old tempo is gone
    pool.add(replace(HOUSE, seeds=(3,)), _audio(1), SAMPLE_RATE)  # a fill for the old tempo that was running
    assert pool.state()["loop"]["ready"] == 0 and pool.take(TECHNO, 1) is None
    pool.add(replace(TECHNO, seeds=(4, 5, 6)), _audio(3), SAMPLE_RATE)
    assert pool.state()["loop"]["ready"] == 2  # up to the pool's size
    with pytest.raises(ValueError, match="tempo"):
        pool.set_loop(KICK)


def _wait_loops(client, ready: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        loop = client.status()["pool"]["loop"]
        if loop is not None and loop["ready"] >= ready:
            return loop
        time.sleep(0.05)
    raise AssertionError(f"the pool did not fill its loops: {client.status()['pool']}")


def _folder(daemon: DaemonProcess) -> Path:
    out = daemon.out / uuid.uuid4().hex[:8]
    out.mkdir()
    return out


def _same_but_created(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "created"} == {k: v for k, v in b.items() if k != "created"}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"), loops=True)
    with DaemonProcess(model, tmp_path_factory.mktemp("loop pool"), pool_size=2, extra_config="check = false") as d:
        yield d


def test_a_second_loop_at_the_tempo_last_asked_comes_from_the_pool(daemon):
    out = _folder(daemon)
    house = {"category": "loop", "genre": "house", "bpm": 124, "bars": 2, "out_dir": str(out)}
    with daemon.client() as c:
        assert c.status()["pool"]["loop"] is None  # no loop asked yet
        first = c.generate(**house)
        assert first["from_pool"] is False
        status = c.status()
        jsonschema.validate(status, reply_schema("status"))
        assert {k: status["pool"]["loop"][k] for k in ("bpm", "bars", "genre")} == {
            "bpm": 124,
            "bars": 2,
            "genre": "house",
        }
        _wait_loops(c, 2)
        started = time.monotonic()
        pooled = c.generate(**house)
        assert pooled["from_pool"] is True and time.monotonic() - started < 1.0
        (entry,) = pooled["files"]
        assert Path(entry["path"]).name.startswith("loop_house_124bpm_")
        assert sf.info(entry["path"]).frames == round(2 * 4 * 60 / 124 * SAMPLE_RATE)
        (direct,) = c.generate(**house, seed=entry["seed"])["files"]
        (other,) = c.generate(**house, seed=(entry["seed"] + 1) % 2**32)["files"]
        assert c.pool()["loop"]["bpm"] == 124  # requests with a seed leave the pool's tempo alone
    # A pooled loop is the loop its seed makes: the same audio (up to float noise between batch sizes), the same tags.
    assert _same_but_created(entry["metadata"], direct["metadata"])
    assert (entry["metadata"]["bpm"], entry["metadata"]["bars"], entry["metadata"]["genre"]) == (124, 2, "house")
    pooled_audio, direct_audio = sf.read(entry["path"])[0], sf.read(direct["path"])[0]
    np.testing.assert_allclose(pooled_audio, direct_audio, atol=1e-4)
    assert not np.allclose(pooled_audio, sf.read(other["path"])[0], atol=1e-2)


def test_a_loop_at_another_tempo_is_computed_and_becomes_the_pools_tempo(daemon):
    out = _folder(daemon)
    house = {"category": "loop", "genre": "house", "bpm": 124, "bars": 2, "out_dir": str(out)}
    techno = {**house, "genre": "techno", "bpm": 90, "bars": 1}
    with daemon.client() as c:
        c.generate(**house)
        _wait_loops(c, 2)
        for unpooled in ({"steps": 3}, {"pool": False}, {"seed": 11}):  # these ask for something more specific
            assert c.generate(**techno, **unpooled)["from_pool"] is False
            assert c.pool()["loop"]["genre"] == "house"
        assert c.generate(**techno)["from_pool"] is False
        loop = c.pool()["loop"]
        assert (loop["bpm"], loop["bars"], loop["genre"]) == (90, 1, "techno")
        _wait_loops(c, 2)
        (entry,) = c.generate(**techno)["files"]
        assert entry["metadata"]["bpm"] == 90 and sf.info(entry["path"]).frames == round(4 * 60 / 90 * SAMPLE_RATE)
        assert c.generate(**house)["from_pool"] is False  # the house loops were dropped for the techno ones


def test_loop_in_the_pools_categories_starts_at_one_bar_at_120_bpm(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"), loops=True)
    config = 'check = false\ncategories = ["kick", "loop"]'
    with DaemonProcess(model, tmp_path_factory.mktemp("d"), pool_size=1, extra_config=config) as d, d.client() as c:
        pool = c.pool()
        assert [x["category"] for x in pool["categories"]] == ["kick"]  # no one-shot template for loops
        assert (pool["loop"]["bpm"], pool["loop"]["bars"], pool["loop"]["genre"]) == (120, 1, "any")
        _wait_loops(c, 1)
        reply = c.generate(category="loop", out_dir=str(_folder(d)))
        assert reply["from_pool"] is True and reply["files"][0]["metadata"]["bpm"] == 120


def test_a_model_without_a_loop_network_pools_its_loops_at_the_tempo_too(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"))
    with DaemonProcess(model, tmp_path_factory.mktemp("d"), pool_size=1, extra_config="check = false") as d:
        loop = {"category": "loop", "bpm": 100, "bars": 1, "out_dir": str(_folder(d))}
        with d.client() as c:
            assert c.generate(**loop)["from_pool"] is False
            assert _wait_loops(c, 1) == {"bpm": 100, "bars": 1, "genre": "any", "ready": 1}
            reply = c.generate(**loop)
            assert reply["from_pool"] is True
            (pooled,) = reply["files"]
            (direct,) = c.generate(**loop, seed=pooled["seed"])["files"]
    assert pooled["metadata"]["loop"] is True and _same_but_created(pooled["metadata"], direct["metadata"])
    assert sf.info(pooled["path"]).frames == round(4 * 60 / 100 * SAMPLE_RATE)  # exactly one bar at 100 BPM
    np.testing.assert_allclose(sf.read(pooled["path"])[0], sf.read(direct["path"])[0], atol=1e-4)


def test_pooled_loops_of_a_loop_network_at_its_own_rate_are_resampled_like_direct_ones(tmp_path_factory):
    from tiny_models import save_with_loop_network, tiny_bundle, tiny_loop_network

    one_shot = tiny_bundle(("kick",), sample_rate=SAMPLE_RATE, sample_size=2048, defaults={"default_steps": 2})
    model = save_with_loop_network(one_shot, tmp_path_factory.mktemp("model"), tiny_loop_network(sample_rate=16000))
    with DaemonProcess(model, tmp_path_factory.mktemp("d"), pool_size=1, extra_config="check = false") as d:
        loop = {"category": "loop", "genre": "trap", "bpm": 140, "bars": 1, "out_dir": str(_folder(d))}
        with d.client() as c:
            c.generate(**loop)
            _wait_loops(c, 1)
            reply = c.generate(**loop)
            (direct,) = c.generate(**loop, seed=reply["files"][0]["seed"])["files"]
    (pooled,) = reply["files"]
    assert reply["from_pool"] is True and pooled["metadata"]["sample_rate"] == SAMPLE_RATE  # the one-shot model's
    assert sf.info(pooled["path"]).frames == sf.info(direct["path"]).frames == round(4 * 60 / 140 * SAMPLE_RATE)
    np.testing.assert_allclose(sf.read(pooled["path"])[0], sf.read(direct["path"])[0], atol=1e-4)
