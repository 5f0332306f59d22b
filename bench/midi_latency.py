"""MIDI note-on -> first audio sample latency of a pad press served from the pool, measured on a JACK graph.

Starts a dummy-driver JACK server when none runs, starts ``ddbridge serve`` with MIDI (JACK MIDI)
and audition on, plays the kick pad from a virtual MIDI output and records the daemon's audio
output with a second JACK client. Latency is the time from sending the note-on to the JACK cycle
that carries the first non-silent sample, plus that sample's offset in its block.

    python bench/midi_latency.py                 # the bundled default model
    python bench/midi_latency.py --model PATH    # any model folder or checkpoint ddbridge loads
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import mido  # noqa: E402
from daemon_helpers import DaemonProcess  # noqa: E402
from jack_helpers import JACKD, Recorder, connect, jack_server, midi_ports, ports  # noqa: E402
from latency import ms, pct  # noqa: E402

from ddbridge.model.checkpoints import locate  # noqa: E402

KICK = 36


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="model name or path (default: the bundled default)")
    p.add_argument("--presses", type=int, default=40, help="pad presses measured")
    p.add_argument("--pool-size", type=int, default=4, help="sounds kept ready per category")
    p.add_argument("--steps", type=int, default=0, help="sampling steps for pool fills (0: the model's default)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads in the daemon")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="ddbridge-midi-bench-") as tmp, jack_server():
        root = Path(tmp)
        daemon = DaemonProcess(Path(locate(args.model)[0]), root / "daemon", pool_size=args.pool_size)
        extra = ["[midi]", "enabled = true", 'api = "jack"', "[audition]", 'device = "system"', "gain_db = 0.0"]
        models = f"threads = {args.threads}" + (f"\nsteps = {args.steps}" if args.steps else "")
        text = daemon.config.read_text().replace("threads = 1", models)  # in its [models] table
        daemon.config.write_text(text + "\n".join(extra) + "\n")
        recorder = Recorder().start()
        before = set(ports())
        try:
            with daemon, daemon.client() as c:
                new = set(ports()) - before
                (midi_in,) = [q for q in midi_ports() if q in new]
                recorder.listen_to(sorted(q for q in new if ":out_" in q))
                backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK", load=True)
                with backend.open_output("pads", virtual=True, client_name="ddbridge-bench-pads") as pads:
                    connect("ddbridge-bench-pads:pads", midi_in)
                    info = c.models()["models"][0]
                    print(f"model {info['name']}: {info['sample_rate']} Hz, {info['seconds']:.2f} s per sound; "
                          f"JACK {' '.join(JACKD[-4:])} (or the server already running)")  # fmt: skip
                    times = measure(c, pads, recorder, args.presses)
        finally:
            recorder.close()
    print("\n| measure | value |\n| --- | --- |")
    print(f"| note-on -> first audio sample, pool hit | p50 {ms(pct(times, 50))} ms, p95 {ms(pct(times, 95))} ms, "
          f"max {ms(max(times))} ms (n={len(times)}) |")  # fmt: skip
    print(f"| mean | {ms(statistics.mean(times))} ms |")
    return 0


def measure(c, pads, recorder: Recorder, presses: int) -> list[float]:
    """Press the kick pad ``presses`` times, each time the pool has a kick ready; only pool hits count."""
    times: list[float] = []
    while len(times) < presses:
        wait_for_kick(c)
        time.sleep(random.uniform(0.05, 0.2))  # land at different points of the audio period
        start = time.perf_counter()
        pads.send(mido.Message("note_on", note=KICK, velocity=127))
        latency = recorder.wait_for_sound(start, timeout=5.0)
        pads.send(mido.Message("note_off", note=KICK))
        slot = next(s for s in c.status()["midi"]["slots"] if s["note"] == KICK)
        if latency is None:
            raise SystemExit("no sound arrived within 5 s; see the daemon log")
        if slot["from_pool"]:
            times.append(latency)
    return times


def wait_for_kick(c) -> None:
    while not any(x["category"] == "kick" and x["ready"] for x in c.pool()["categories"]):
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main())
