"""A CPU batch split across threads (ddbridge.diffusion.parallel) gives the same sounds."""

from __future__ import annotations

import threading

import pytest
import torch
from tiny_models import tiny_bundle

from ddbridge.diffusion import tasks
from ddbridge.diffusion.parallel import shard_count, sharded_forward


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


# Sharding changes the batch sizes the kernels see, and with them the order in which float sums are
# taken: nothing else. In float32 that reordering alone moved samples of these sounds by up to 1.7e-5
# (about 300 units of float32 rounding, 2**-24, after 4 sampler steps), more than any fixed tolerance
# can promise on every CPU. In float64 the same growth of rounding (2**-53 each) stays below 1e-13,
# so the paths agree to within ATOL, and returned float32 audio to within one float32 rounding on top
# (RTOL). Sounds from different seeds differ by more than 1, so a mixed-up shard still fails.
ATOL, RTOL = 1e-12, 2**-23


@pytest.fixture(scope="module")
def bundle():
    model = tiny_bundle(("kick", "snare"), defaults={"default_steps": 4}, attn=1)
    model.net.double()  # tasks run in the network's dtype
    return model


def forward_threads(net: torch.nn.Module) -> tuple[set[int], torch.utils.hooks.RemovableHandle]:
    seen: set[int] = set()
    return seen, net.register_forward_hook(lambda *_: seen.add(threading.get_ident()))


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_sharded_batch_equals_one_thread(bundle, two_threads, guidance):
    seen, hook = forward_threads(bundle.net)
    try:
        sharded = tasks.generate(bundle, 3, seeds=[1, 2, 3], category="kick", guidance_scale=guidance)
    finally:
        hook.remove()
    assert len(seen) == 2 and threading.get_ident() not in seen  # two shard threads did the passes
    torch.set_num_threads(1)
    seen, hook = forward_threads(bundle.net)
    try:
        single = tasks.generate(bundle, 3, seeds=[1, 2, 3], category="kick", guidance_scale=guidance)
    finally:
        hook.remove()
    assert seen == {threading.get_ident()}
    torch.testing.assert_close(sharded, single, atol=ATOL, rtol=RTOL)
    assert (single[0] - single[1]).abs().max() > 1 and (single[1] - single[2]).abs().max() > 1


def test_threads_started_later_keep_the_callers_thread_count(bundle, two_threads):
    tasks.generate(bundle, 2, seeds=[1, 2])  # runs on the shard threads, which use one thread each
    seen = {}
    later = threading.Thread(target=lambda: seen.update(threads=torch.get_num_threads()))
    later.start()
    later.join()
    assert seen["threads"] == 2 and torch.get_num_threads() == 2


def test_shard_count_follows_threads_and_batch(two_threads):
    assert shard_count(torch.zeros(1, 2, 8)) == 1
    assert shard_count(torch.zeros(5, 2, 8)) == 2
    torch.set_num_threads(1)
    assert shard_count(torch.zeros(5, 2, 8)) == 1


def test_shards_keep_the_callers_autograd_mode(bundle, two_threads):
    net = bundle.net
    x, t = torch.randn(4, 2, 64, dtype=torch.float64), torch.rand(4, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 0])
    out = sharded_forward(net, x, t, labels)
    assert out.requires_grad  # training-style call: gradients flow back through every shard
    out.square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    net.zero_grad(set_to_none=True)
    with torch.inference_mode():
        assert not sharded_forward(net, x, t, labels).requires_grad
    with torch.no_grad():
        torch.testing.assert_close(sharded_forward(net, x, t, labels), net(x, t, labels), atol=ATOL, rtol=0)
        shared_t = torch.tensor(0.5)  # a scalar time goes to every shard as it is
        torch.testing.assert_close(sharded_forward(net, x, shared_t, None), net(x, shared_t), atol=ATOL, rtol=0)
