"""Requested categories resolved against a model: exact names, aliases, ``loop``, unconditional models."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from daemon_helpers import SAMPLE_RATE, DaemonProcess, build_tiny_model
from tiny_models import tiny_bundle

from ddbridge.categories import CATEGORY_ALIASES
from ddbridge.cli import main
from ddbridge.dataset.synth import CATEGORIES as DRUMS
from ddbridge.diffusion import tasks
from ddbridge.model.bundle import CategoryChoice, ModelBundle, resolve_category
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.render import read_metadata

CLIENT_MENU = ("kick", "snare", "hat", "clap", "perc", "bass", "loop")  # the REAPER and Max for Live menus


def drums(name):
    return resolve_category("drums", DRUMS, name)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("kick", CategoryChoice("kick", "kick", 0, False)),
        ("snare", CategoryChoice("snare", "snare", 1, False)),
        ("hat", CategoryChoice("hat_closed", "hat_closed", 2, False)),
        ("clap", CategoryChoice("clap", "clap", 4, False)),
        ("perc", CategoryChoice("perc", "perc", 6, False)),
        ("bass", CategoryChoice("bass", "bass", 7, False)),
        ("loop", CategoryChoice("loop", None, None, True)),
    ],
)
def test_every_client_menu_entry_resolves_on_the_drum_model(name, expected):
    assert drums(name) == expected


@pytest.mark.parametrize(
    "name,category",
    [
        ("closed_hat", "hat_closed"),
        ("chh", "hat_closed"),
        ("open_hat", "hat_open"),
        ("ohh", "hat_open"),
        ("rim", "perc"),
        ("808", "808"),
        ("sub", "808"),
        ("basses", "bass"),
        ("toms", "tom"),
        ("Hi-Hat", "hat_closed"),
        ("KICK", "kick"),
        ("hat_open", "hat_open"),
        ("plucks", "pluck"),
    ],
)
def test_aliases_and_spelling_reach_the_drum_model_categories(name, category):
    choice = drums(name)
    assert (choice.label, choice.category, choice.index, choice.loop) == (
        category,
        category,
        DRUMS.index(category),
        False,
    )


def test_exact_names_win_over_aliases_and_generic_hats_serve_specific_requests():
    assert resolve_category("m", ("hat", "hat_closed"), "hat").category == "hat"
    assert resolve_category("m", ("rim", "perc"), "rim").category == "rim"
    generic = ("kick", "hat")
    assert resolve_category("m", generic, "chh").category == "hat"
    assert resolve_category("m", generic, "ohh").category == "hat"
    assert resolve_category("m", ("kick", "hat_open"), "hat").category == "hat_open"  # the only hat there is
    assert resolve_category("m", ("kick", "bass"), "808").category == "bass"  # a model without 808s: its bass
    assert resolve_category("m", ("kick", "808"), "bass").category == "808"


def test_loop_uses_the_models_own_loop_category_when_it_has_one():
    assert resolve_category("m", ("kick", "loop"), "loop") == CategoryChoice("loop", "loop", 1, True)
    assert resolve_category("m", ("kick", "loops"), "Loop") == CategoryChoice("loop", "loops", 1, True)
    with pytest.raises(BadRequest, match="choose one of: kick, loop; aliases"):
        resolve_category("m", ("kick", "loop"), "snare")


def test_an_unconditional_model_keeps_any_name_as_a_label_only():
    for name, label in (("kick", "kick"), ("hat", "hat"), ("Hi Hat", "hi_hat"), ("banjo", "banjo")):
        assert resolve_category("glitch-440k", (), name) == CategoryChoice(label, None, None, False)
    assert resolve_category("glitch-440k", (), "loop") == CategoryChoice("loop", None, None, True)
    for nothing in (None, "", "  "):
        assert resolve_category("glitch-440k", (), nothing) == CategoryChoice(None, None, None, False)
        assert resolve_category("drums", DRUMS, nothing) == CategoryChoice(None, None, None, False)


@pytest.mark.parametrize("name", ["a/b", "_kick", "x" * 65, "kick!"])
def test_names_that_cannot_label_a_file_are_refused(name):
    with pytest.raises(BadRequest, match="not a valid name"):
        resolve_category("glitch-440k", (), name)


def test_an_unknown_category_lists_what_the_model_accepts():
    with pytest.raises(BadRequest) as e:
        resolve_category("tiny", ("kick", "hat_closed"), "clap")
    assert str(e.value) == (
        "unknown category 'clap' for model 'tiny'; choose one of: kick, hat_closed, loop; aliases: bass_drum, bd, "
        "chh, closed_hat, closed_hihat, hat, hats, hh, hi_hat, hihat, hihats, kick_drum, kicks"
    )
    with pytest.raises(BadRequest, match="choose one of: kick, hat_closed, loop"):
        resolve_category("tiny", ("kick", "hat_closed"), "ohh")  # an open hat is not a closed one


def test_every_listed_alias_resolves_where_the_message_says_it_does():
    """The aliases named in an error message are exactly those that work on that model."""
    categories = ("kick", "hat_closed")
    with pytest.raises(BadRequest) as e:
        resolve_category("tiny", categories, "nope")
    listed = str(e.value).split("aliases: ")[1].split(", ")
    for alias in CATEGORY_ALIASES:
        works = True
        try:
            resolve_category("tiny", categories, alias)
        except BadRequest:
            works = False
        assert works == (alias in listed or alias in categories), alias


def test_guidance_needs_a_conditioned_category():
    drums("hat").check_guidance(3.0)
    drums(None).check_guidance(1.0)
    with pytest.raises(BadRequest, match="needs a category$"):
        drums(None).check_guidance(3.0)
    with pytest.raises(BadRequest, match="'loop' is not"):
        drums("loop").check_guidance(3.0)
    with pytest.raises(BadRequest, match="'kick' is not"):
        resolve_category("glitch-440k", (), "kick").check_guidance(2.0)


# -- the tasks use the resolution -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    return tiny_bundle(("kick", "hat_closed"), sample_size=64, defaults={"default_steps": 2}, class_dim=4)


def test_tasks_condition_on_the_resolved_category_and_loop_turns_on_circular_padding(tiny):
    def run(**kw):
        return tasks.generate(tiny, 1, 32, seeds=[5], sampler="heun", **kw)

    hat = run(category="hat")
    assert torch.equal(hat, run(category="hat_closed"))
    assert not torch.allclose(hat, run(category="kick"))
    loop = run(category="loop")
    assert torch.equal(loop, run(loop=True)) and not torch.allclose(loop, run())
    unconditional = ModelBundle(tiny.net, "plain", 8000, 64, (), tiny.info)
    assert torch.equal(
        tasks.generate(unconditional, 1, 32, seeds=[5], category="kick"), tasks.generate(tiny, 1, 32, seeds=[5])
    )


# -- a live daemon ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("model"), ("kick", "hat_closed"), guidance=2.5)


def test_the_command_line_names_and_tags_files_with_the_resolved_category(model_path, tmp_path, capsys):
    common = ["--model", model_path, "--out", tmp_path, "--sample-rate", SAMPLE_RATE, "--steps", 2, "--device", "cpu"]
    assert main([str(a) for a in ["generate", "--category", "hat", "--seed", 3, *common]]) == 0
    hat = Path(capsys.readouterr().out.strip())
    assert hat.name == "hat_closed_0001_s3.wav"
    assert (read_metadata(hat)["category"], read_metadata(hat)["conditioned"]) == ("hat_closed", True)
    assert read_metadata(hat)["guidance_scale"] == 2.5  # the model's default guidance
    assert main([str(a) for a in ["generate", "--category", "loop", "--seconds", 0.2, "--seed", 4, *common]]) == 0
    loop = Path(capsys.readouterr().out.strip())
    assert loop.name == "loop_0001_s4.wav" and sf.info(loop).frames == round(0.2 * SAMPLE_RATE)
    assert (read_metadata(loop)["loop"], read_metadata(loop)["conditioned"]) == (True, False)
    assert "guidance_scale" not in read_metadata(loop)  # nothing to guide toward


@pytest.fixture(scope="module")
def daemon(model_path, tmp_path_factory):
    with DaemonProcess(model_path, tmp_path_factory.mktemp("categories"), pool_size=1) as d:
        yield d


def test_live_daemon_resolves_hat_and_loop(daemon):
    out = daemon.out / uuid.uuid4().hex[:8]
    out.mkdir()
    fmt = {"out_dir": str(out), "sample_rate": SAMPLE_RATE}
    with daemon.client() as c:
        deadline = time.monotonic() + 60
        while not all(p["ready"] for p in c.pool()["categories"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        pooled = c.generate(category="hat", **fmt)  # "hat" is served by the hat_closed pool
        assert pooled["from_pool"] is True
        assert read_metadata(pooled["files"][0]["path"])["category"] == "hat_closed"
        assert read_metadata(pooled["files"][0]["path"])["guidance_scale"] == 2.5  # the pool uses the model's default
        (unguided_hat,) = c.generate(category="hat", seed=3, guidance_scale=1.0, **fmt)["files"]

        (hat,) = c.generate(category="hat", seed=3, **fmt)["files"]
        (exact,) = c.generate(category="hat_closed", seed=3, **fmt)["files"]
        (loop,) = c.generate(category="loop", seed=4, seconds=0.2, **fmt)["files"]
        bad = c.call({"op": "generate", "category": "clap", **fmt})
        unguided = c.call({"op": "generate", "category": "loop", "guidance_scale": 2.0, **fmt})

    assert hat["path"].endswith("/hat_closed_0003_s3.wav")  # after the pooled and the unguided one
    assert (hat["metadata"]["category"], hat["metadata"]["conditioned"]) == ("hat_closed", True)
    assert np.array_equal(sf.read(hat["path"])[0], sf.read(exact["path"])[0])
    assert hat["metadata"]["guidance_scale"] == 2.5 and unguided_hat["metadata"]["guidance_scale"] == 1.0
    assert not np.array_equal(sf.read(hat["path"])[0], sf.read(unguided_hat["path"])[0])

    assert loop["path"].endswith("/loop_0001_s4.wav")
    meta = read_metadata(loop["path"])
    assert (meta["category"], meta["conditioned"], meta["loop"]) == ("loop", False, True)
    audio, rate = sf.read(loop["path"])
    assert rate == SAMPLE_RATE and len(audio) == round(0.2 * SAMPLE_RATE)  # loops are neither trimmed nor faded
    tail, whole = np.sqrt(np.mean(audio[-8:] ** 2)), np.sqrt(np.mean(audio**2))
    assert tail > 0.1 * whole

    assert bad["ok"] is False and bad["error"]["code"] == "bad_request"
    assert "choose one of: kick, hat_closed, loop; aliases: " in bad["error"]["message"]
    assert unguided["ok"] is False and "'loop' is not" in unguided["error"]["message"]
