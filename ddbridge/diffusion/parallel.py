"""Run a CPU forward pass of a batch as one shard per thread.

Dance Diffusion's convolutions on a few channels do not keep several cores busy through torch's
intra-op threads; giving each core its own slice of the batch (one intra-op thread each) does.
Every item of the batch is computed on its own, so sharding changes which thread computes it,
not what it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(
                workers, thread_name_prefix="ddbridge-shard", initializer=torch.set_num_threads, initargs=(1,)
            )
        return _pools[workers]


def shard_count(x: torch.Tensor) -> int:
    """How many threads a forward pass over ``x`` is split across: one per torch thread, at most one per item."""
    if x.device.type != "cpu" or x.shape[0] < 2:
        return 1
    return min(torch.get_num_threads(), x.shape[0])


def sharded_forward(net: Callable[..., torch.Tensor], x: torch.Tensor, *per_item: torch.Tensor | None) -> torch.Tensor:
    """``net(x, *per_item)`` with the batch split across threads when :func:`shard_count` says so.

    ``per_item`` tensors with one entry per item are split along the batch like ``x``; anything
    else (None, a shared scalar) goes to every shard as it is.
    """
    shards, caller_threads = shard_count(x), torch.get_num_threads()
    if shards == 1:
        return net(x, *per_item)
    grad, inference = torch.is_grad_enabled(), torch.is_inference_mode_enabled()
    n = x.shape[0]
    bounds = [round(i * n / shards) for i in range(shards + 1)]

    def part(i: int) -> torch.Tensor:
        lo, hi = bounds[i], bounds[i + 1]
        args = (a[lo:hi] if isinstance(a, torch.Tensor) and a.dim() and a.shape[0] == n else a for a in per_item)
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            return net(x[lo:hi], *args)

    try:
        return torch.cat(list(_pool(shards).map(part, range(shards))))
    finally:
        # A shard thread's set_num_threads(1) is also what threads started later begin with; give
        # them the caller's count again (the caller's own setting is per thread and unchanged).
        torch.set_num_threads(caller_threads)
