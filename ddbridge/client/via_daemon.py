"""``--via-daemon``: the rendering commands sent to a running ``ddbridge serve`` instead of run in-process."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ddbridge.client.connection import Client
from ddbridge.protocol.errors import BadRequest, Unavailable

NOT_RUNNING = "ddbridge is not running; start it with `ddbridge serve`"
LOOP_OPS = ("generate", "variate")  # the ops whose requests take ``loop``


def common_fields(args: argparse.Namespace, op: str, folder: Path) -> dict:
    """Request fields from the options every rendering command shares; refuses those the daemon cannot honour."""
    if args.device != "auto":
        raise BadRequest("--device does not apply with --via-daemon: the daemon runs on its own device")
    if args.peak_db != -1.0:
        raise BadRequest("--peak-db does not apply with --via-daemon: the daemon normalizes to -1 dBFS")
    if args.loop and op not in LOOP_OPS:
        raise BadRequest(f"--loop does not apply to {op} with --via-daemon")
    return {
        "seed": args.seed,
        "steps": args.steps,
        "sampler": args.sampler,
        "model": None if args.model == "default" else args.model,
        "category": args.category,
        "guidance_scale": args.guidance,
        "loop": True if args.loop else None,
        "out_dir": str(folder),
        "sample_rate": args.sample_rate,
        "bit_depth": args.bit_depth,
        "normalize": args.normalize,
    }


def run_via_daemon(args: argparse.Namespace, op: str, folder: Path, **fields) -> int:
    """Send ``op`` with ``fields`` and the common options, wait for the files and print their paths.

    A daemon that does not answer within ``--timeout`` seconds is reported as not running
    (``Unavailable``); the daemon's own errors are raised as theirs.
    """
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise BadRequest(f"--timeout must be > 0, got {args.timeout}")
    request = {**fields, **common_fields(args, op, folder)}
    with Client(args.endpoint, timeout=args.timeout, retries=1) as probe:
        try:
            probe.ping()
        except Unavailable:
            raise Unavailable(NOT_RUNNING) from None
    with Client(args.endpoint, timeout=args.timeout) as client:
        files = client.request(op, **request)["files"]
    if args.seed is None:
        print(f"ddbridge: seeds {' '.join(str(f['seed']) for f in files)}", file=sys.stderr)
    for f in files:
        if "tuning" in f["metadata"]:
            print(f"ddbridge: {Path(f['path']).name}: {f['metadata']['tuning']}", file=sys.stderr)
        print(f["path"], flush=True)
    return 0
