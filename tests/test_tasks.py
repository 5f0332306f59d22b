"""Diffusion tasks on a tiny random network (ddbridge.diffusion.tasks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import tiny_bundle

from ddbridge.diffusion import calls, tasks
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadAudio, BadRequest, Cancelled

RATE = 8000


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return tiny_bundle(("kick", "snare", "hat"), sample_rate=RATE, defaults={"default_steps": 8}, attn=1)


@pytest.fixture(scope="module")
def sounds(bundle) -> torch.Tensor:
    return tasks.generate(bundle, 2, seeds=[11, 12])


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_generate_shape_dtype_and_default_length(bundle):
    out = tasks.generate(bundle, 3, seeds=[1, 2, 3])
    assert out.shape == (3, 2, 256) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert torch.isfinite(out).all() and out.abs().max() > 0
    assert tasks.generate(bundle, 1, 12, seeds=[1]).shape == (1, 2, 12)


@pytest.mark.parametrize("sampler", ["v-iplms", "euler-ancestral"])
def test_each_item_depends_only_on_its_seed(bundle, sampler):
    batch = tasks.generate(bundle, 3, 64, seeds=[5, 6, 7], sampler=sampler)
    for i, seed in enumerate([5, 6, 7]):
        alone = tasks.generate(bundle, 1, 64, seeds=[seed], sampler=sampler)
        torch.testing.assert_close(batch[i], alone[0], atol=1e-4, rtol=1e-4)
    other = tasks.generate(bundle, 2, 64, seeds=[99, 6], sampler=sampler)
    torch.testing.assert_close(other[1], batch[1], atol=1e-4, rtol=1e-4)
    assert rel(batch[0], batch[1]) > 0.5 and rel(other[0], batch[0]) > 0.5


def test_no_seeds_means_fresh_random_ones(bundle):
    a, b = tasks.generate(bundle, 1, 16), tasks.generate(bundle, 1, 16)
    assert rel(a, b) > 0.1
    seeds = calls.random_seeds(100)
    assert len(set(seeds)) == 100 and all(0 <= s < 2**32 for s in seeds)


def test_progress_runs_from_0_to_1_and_cancel_aborts(bundle):
    seen: list[float] = []
    tasks.generate(bundle, 1, 16, seeds=[1], steps=5, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) == 6

    def cancel(fraction: float) -> None:
        if fraction > 0.3:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        tasks.generate(bundle, 1, 16, seeds=[1], steps=5, loop=True, progress=cancel)
    assert bundle.net.loop is False


def test_bad_lengths_name_the_stride(bundle):
    with pytest.raises(BadRequest, match=r"stride 4; nearest valid: 248 or 252"):
        tasks.generate(bundle, 1, 250)
    with pytest.raises(BadRequest, match="nearest valid: 4"):
        tasks.generate(bundle, 1, 3)
    with pytest.raises(BadRequest, match="positive multiple"):
        tasks.generate(bundle, 1, 0)
    assert tasks.valid_length(bundle, 250) == 252 and tasks.valid_length(bundle, 249, loop=True) == 248


def test_bad_requests(bundle):
    with pytest.raises(BadRequest, match="unknown category 'clap'"):
        tasks.generate(bundle, 1, 16, category="clap")
    with pytest.raises(BadRequest, match="needs a category"):
        tasks.generate(bundle, 1, 16, guidance_scale=3.0)
    with pytest.raises(BadRequest, match="unknown sampler"):
        tasks.generate(bundle, 1, 16, sampler="nope")
    with pytest.raises(BadRequest, match="steps"):
        tasks.generate(bundle, 1, 16, steps=0)
    with pytest.raises(BadRequest, match="2 seeds for 3"):
        tasks.generate(bundle, 3, 16, seeds=[1, 2])
    with pytest.raises(BadRequest, match="count"):
        tasks.generate(bundle, 0, 16)


def test_category_and_guidance_change_the_result(bundle):
    plain = tasks.generate(bundle, 1, 32, seeds=[3])
    kick = tasks.generate(bundle, 1, 32, seeds=[3], category="kick")
    guided = tasks.generate(bundle, 1, 32, seeds=[3], category="kick", guidance_scale=4.0)
    assert rel(kick, plain) > 1e-3 and rel(guided, kick) > 1e-3


def test_the_model_default_guidance_applies_where_a_category_is_conditioned_on(bundle):
    guided = ModelBundle(
        bundle.net, "guided", RATE, bundle.sample_size, bundle.categories, {**bundle.info, "default_guidance": 4.0}
    )
    kick = tasks.generate(guided, 1, 32, seeds=[3], category="kick")
    assert torch.equal(kick, tasks.generate(bundle, 1, 32, seeds=[3], category="kick", guidance_scale=4.0))
    assert torch.equal(tasks.generate(guided, 1, 32, seeds=[3]), tasks.generate(bundle, 1, 32, seeds=[3]))
    unguided = tasks.generate(guided, 1, 32, seeds=[3], category="kick", guidance_scale=1.0)
    assert torch.equal(unguided, tasks.generate(bundle, 1, 32, seeds=[3], category="kick"))


def test_variate_strength_controls_distance(bundle, sounds):
    source = sounds[0]
    near = tasks.variate(bundle, source, RATE, strength=0.05, seeds=[1])
    far = tasks.variate(bundle, source, RATE, strength=1.0, seeds=[1])
    assert near.shape == far.shape == (1, 2, 256)
    assert rel(near[0], source) < 0.05
    assert rel(far[0], source) > 0.5


def test_variate_converts_channels_rate_and_length(bundle):
    mono_16k = np.sin(np.linspace(0, 40, 301)).astype(np.float32)  # 1-D, 301 samples at 16 kHz
    out = tasks.variate(bundle, mono_16k, 16000, strength=0.5, count=2, seeds=[1, 2])
    assert out.shape == (2, 2, 151)  # 301 samples at 16 kHz are 150.5 at 8 kHz
    assert rel(out[0], out[1]) > 1e-3


def test_variate_rejects_bad_input(bundle, sounds):
    bad = sounds[0].clone()
    bad[0, 10] = float("nan")
    with pytest.raises(BadAudio):
        tasks.variate(bundle, bad, RATE)
    with pytest.raises(BadAudio):
        tasks.variate(bundle, np.zeros((2, 0), np.float32), RATE)
    for strength in (0.0, -0.2, 1.5):
        with pytest.raises(BadRequest, match="strength"):
            tasks.variate(bundle, sounds[0], RATE, strength=strength)


def test_loop_mode_is_set_for_the_call_and_restored(bundle):
    states = []
    tasks.generate(bundle, 1, 16, seeds=[1], steps=2, loop=True, progress=lambda f: states.append(bundle.net.loop))
    assert all(states) and bundle.net.loop is False


def test_loop_mode_output_lives_on_a_circle(bundle, sounds):
    """Circular padding makes a loop-mode result wrap seamlessly: rotating the inputs (by a multiple of
    the stride) rotates the result by the same amount, so the end flows into the start exactly as
    any sample flows into the next. Without loop mode the edges are edges, and rotation breaks it."""
    a, b = sounds[0], sounds[1]
    shift = 64

    def run(x, y, loop):
        return tasks.interpolate(bundle, x, y, RATE, positions=(0.3,), sampler="v-ddim", steps=6, loop=loop)[0]

    for loop, matches in ((True, True), (False, False)):
        out = run(a, b, loop)
        rolled = run(a.roll(shift, -1), b.roll(shift, -1), loop)
        error = rel(rolled, out.roll(shift, -1))
        assert (error < 1e-4) is matches, (loop, error)


def test_loop_mode_fits_odd_lengths_by_stretching(bundle):
    # Three whole cycles in 250 samples: a loop whose length is no multiple of the stride.
    source = torch.sin(torch.arange(250) * (2 * np.pi * 3 / 250)).repeat(2, 1)
    out = tasks.variate(bundle, source, RATE, strength=0.05, seeds=[1], loop=True)
    assert out.shape == (1, 2, 250)
    assert rel(out[0], source) < 0.05
    jump = (out[0, :, 0] - out[0, :, -1]).abs().max()
    assert jump < 2 * (out[0, :, 1:] - out[0, :, :-1]).abs().max()


def test_interpolate_endpoints_and_middle(bundle, sounds):
    a, b = sounds[0], sounds[1]
    out = tasks.interpolate(bundle, a, b, RATE, positions=(0.0, 0.5, 1.0), sampler="v-ddim", steps=32)
    assert out.shape == (3, 2, 256)
    assert rel(out[0], a) < 0.2 < rel(out[0], b)
    assert rel(out[2], b) < 0.2 < rel(out[2], a)
    assert abs(rel(out[1], a) - rel(out[1], b)) < 0.2 and rel(out[1], a) > 0.3


def test_interpolate_rejects_bad_positions(bundle, sounds):
    for positions in ((), (1.5,), (-0.1, 0.5)):
        with pytest.raises(BadRequest, match="positions"):
            tasks.interpolate(bundle, sounds[0], sounds[1], RATE, positions=positions)


def test_slerp_endpoints_and_norm():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 100, generator=g), torch.randn(2, 100, generator=g)
    torch.testing.assert_close(tasks.slerp(a, b, 0.0), a)
    torch.testing.assert_close(tasks.slerp(a, b, 1.0), b)
    mid = tasks.slerp(a, b, 0.5)
    assert abs(float(mid.norm() / a.norm()) - 1) < 0.1  # lerp would shrink it to ~0.7


@pytest.mark.parametrize("sampler", ["v-iplms", "euler-ancestral", "dpmpp-2m"])
def test_inpaint_keeps_the_kept_region(bundle, sounds, sampler):
    source = sounds[0]
    keep = torch.zeros(256, dtype=torch.bool)
    keep[:100] = True
    keep[200:] = True
    out = tasks.inpaint(bundle, source, RATE, keep, seeds=[4], sampler=sampler)
    assert out.shape == (1, 2, 256)
    torch.testing.assert_close(out[0][:, keep], source[:, keep], atol=1e-3, rtol=1e-3)
    assert rel(out[0][:, ~keep], source[:, ~keep]) > 0.3


def scaled(bundle: ModelBundle, scale: float) -> ModelBundle:
    """The same network, trained (as far as the tasks know) on audio multiplied by ``scale``."""
    info = {**bundle.info, "data_scale": scale}
    return ModelBundle(bundle.net, bundle.name, bundle.sample_rate, bundle.sample_size, bundle.categories, info)


def test_data_scale_divides_what_the_network_makes(bundle):
    plain = tasks.generate(bundle, 2, seeds=[1, 2], category="kick")
    quiet = tasks.generate(scaled(bundle, 4.0), 2, seeds=[1, 2], category="kick")
    torch.testing.assert_close(quiet * 4.0, plain)


def test_data_scale_multiplies_what_the_network_hears(bundle, sounds):
    source = sounds[0]
    four = scaled(bundle, 4.0)
    # the network sees 4 x source: the same as the plain model given 4 x source, a quarter as loud
    ours = tasks.variate(four, source, RATE, 0.5, seeds=[3])
    torch.testing.assert_close(ours * 4.0, tasks.variate(bundle, source * 4.0, RATE, 0.5, seeds=[3]))
    keep = torch.zeros(256, dtype=torch.bool)
    keep[:128] = True
    out = tasks.inpaint(four, source, RATE, keep, seeds=[4])
    torch.testing.assert_close(out[0][:, keep], source[:, keep], atol=1e-3, rtol=1e-3)  # kept audio stays as it was


def test_inpaint_rejects_a_mask_of_the_wrong_length(bundle, sounds):
    with pytest.raises(BadRequest, match="keep_mask"):
        tasks.inpaint(bundle, sounds[0], RATE, np.ones(255, bool))


def test_extend_appends_new_audio_after_the_original(bundle, sounds):
    source = sounds[0][:, :203]
    out = tasks.extend(bundle, source, RATE, seconds=0.01, count=2, seeds=[1, 2])
    assert out.shape == (2, 2, 203 + 80)
    for item in out:
        torch.testing.assert_close(item[:, :203], source, atol=1e-3, rtol=1e-3)
        assert item[:, 203:].abs().max() > 0.01
    assert rel(out[0, :, 203:], out[1, :, 203:]) > 0.1
    with pytest.raises(BadRequest, match="seconds"):
        tasks.extend(bundle, source, RATE, seconds=0)
