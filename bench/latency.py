"""Daemon latency: request -> WAV on disk for pool hits and misses, and throughput at 1 vs N clients.

Starts ``ddbridge serve`` as a subprocess on free local ports and drives it with the Python client.

    python bench/latency.py                     # the bundled default model
    python bench/latency.py --model PATH        # any model ddbridge loads

Latency is measured from sending the request to receiving the reply, which the daemon sends only
once the file has its final name on disk.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ddbridge.client.connection import Client

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="model name or path (default: the bundled default)")
    p.add_argument("--hits", type=int, default=30, help="pool-hit requests")
    p.add_argument("--misses", type=int, default=8, help="pool-miss requests")
    p.add_argument("--requests", type=int, default=48, help="requests per throughput run (a few per client)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients in the throughput run")
    p.add_argument("--rounds", type=int, default=3, help="alternating 1-client / N-client throughput runs")
    p.add_argument("--steps", type=int, default=0, help="sampling steps (0: the model's default)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads in the daemon (0: default)")
    p.add_argument("--device", default="auto")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="ddbridge-bench-") as tmp:
        root = Path(tmp)
        with Daemon(root, args.model, args) as daemon, Client(daemon.endpoint, timeout=30, job_timeout=3600) as c:
            info = c.models()["models"][0]
            category = info["categories"][0] if info["categories"] else None
            print(f"model {info['name']}: {info['sample_rate']} Hz, {info['seconds']:.2f} s per sound, ", end="")
            print(f"{info['default_steps']} steps of {info['default_sampler']}, on {c.status()['device']}")
            pings = round_trips(c, 50)
            hits = pool_hits(c, daemon.out, category, args.hits)
            misses = pool_misses(c, daemon.out, category, args.misses)
            ones, manys = [], []
            for _ in range(args.rounds):  # alternate, so load from other processes hits both alike
                ones.append(throughput(daemon, category, args.requests, 1))
                manys.append(throughput(daemon, category, args.requests, args.clients))
            one, many = statistics.median(ones), statistics.median(manys)
    print("\n| measure | value |\n| --- | --- |")
    for name, values in (("ping round trip", pings), ("pool hit, request -> WAV on disk", hits),
                         ("pool miss, request -> WAV on disk", misses)):  # fmt: skip
        print(f"| {name} | p50 {ms(pct(values, 50))} ms, p95 {ms(pct(values, 95))} ms (n={len(values)}) |")
    rounds = f"median of {args.rounds} runs of {args.requests} requests"
    print(f"| throughput, 1 client | {one:.2f} sounds/s ({rounds}) |")
    print(f"| throughput, {args.clients} clients | {many:.2f} sounds/s ({many / one:.2f}x; {rounds}) |")
    return 0


def round_trips(c: Client, n: int) -> list[float]:
    """The transport alone: ``ping`` round trips."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        c.ping()
        times.append(time.perf_counter() - started)
    return times


def pool_hits(c: Client, out: Path, category: str | None, n: int) -> list[float]:
    """Press "generate" like a user: whenever a sound is ready, take it while the pool refills behind."""
    c.pool(size=4)
    times: list[float] = []
    while len(times) < n:
        wait_for_pool(c, category, 1)
        started = time.perf_counter()
        reply = c.generate(category=category, out_dir=str(out))
        elapsed = time.perf_counter() - started
        if reply["from_pool"]:
            times.append(elapsed)
        time.sleep(0.05)
    return times


def pool_misses(c: Client, out: Path, category: str | None, n: int) -> list[float]:
    """Requests the pool cannot serve (an explicit seed), with the pool switched off so nothing competes."""
    c.pool(size=0)
    times = []
    for i in range(n):
        started = time.perf_counter()
        c.generate(category=category, seed=1000 + i, out_dir=str(out))
        times.append(time.perf_counter() - started)
    return times


def throughput(daemon: Daemon, category: str | None, total: int, clients: int) -> float:
    """Sounds per second when ``clients`` clients each send ``total / clients`` requests back to back."""
    per_client = total // clients

    def work() -> None:
        with Client(daemon.endpoint, timeout=30, job_timeout=3600) as c:
            for _ in range(per_client):
                c.generate(category=category, pool=False, out_dir=str(daemon.out))

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per_client * clients / (time.perf_counter() - started)


def wait_for_pool(c: Client, category: str | None, ready: int) -> None:
    while next(x["ready"] for x in c.pool()["categories"] if x["category"] == category) < ready:
        time.sleep(0.02)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """``ddbridge serve`` on free ports with ``root/out`` as its only allowed output root."""

    def __init__(self, root: Path, model: str, args: argparse.Namespace) -> None:
        self.out = root / "out"
        self.out.mkdir()
        port = free_port()
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.args = [sys.executable, "-m", "ddbridge", "serve", "--config", str(root / "none.toml"),
                     "--model", model, "--port", str(port), "--pub-port", str(free_port()), "--osc-port", "0",
                     "--web-port", "0",
                     "--allow-root", str(self.out), "--project-dir", str(self.out), "--state-dir", str(root / "state"),
                     "--device", args.device, "--pool-size", "0"]  # fmt: skip
        if args.steps:
            self.args += ["--steps", str(args.steps)]
        if args.threads:
            self.args += ["--threads", str(args.threads)]
        (root / "none.toml").write_text("")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Daemon:
        self.proc = subprocess.Popen(self.args, cwd=REPO, stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if "ready" in line:
                return self
        raise SystemExit(f"the daemon did not start (exit {self.proc.wait()}); check --model")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(60)


if __name__ == "__main__":
    sys.exit(main())
