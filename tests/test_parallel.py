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


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle(("kick", "snare"), defaults={"default_steps": 4}, attn=1)


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
    torch.testing.assert_close(sharded, single, atol=1e-5, rtol=1e-5)


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
    x, t, labels = torch.randn(4, 2, 64), torch.rand(4), torch.tensor([0, 1, 2, 0])
    out = sharded_forward(net, x, t, labels)
    assert out.requires_grad  # training-style call: gradients flow back through every shard
    out.square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    net.zero_grad(set_to_none=True)
    with torch.inference_mode():
        assert not sharded_forward(net, x, t, labels).requires_grad
    with torch.no_grad():
        torch.testing.assert_close(sharded_forward(net, x, t, labels), net(x, t, labels), atol=1e-5, rtol=1e-5)
        shared_t = torch.tensor(0.5)  # a scalar time goes to every shard as it is
        torch.testing.assert_close(sharded_forward(net, x, shared_t, None), net(x, shared_t), atol=1e-5, rtol=1e-5)
