"""``ddbridge serve``: run the daemon (warm models behind ZeroMQ, OSC and the web page)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the daemon: keep models warm and answer DAW requests over ZeroMQ, OSC and its web page",
        description="Run the ddbridge daemon. Settings come from the config file, then these flags.",
    )
    p.add_argument("--config", metavar="PATH", help="TOML config file (default: the user config folder's config.toml)")
    p.add_argument(
        "--model", action="append", metavar="NAME_OR_PATH", help="model to load (repeat for more; the first is default)"
    )
    p.add_argument(
        "--host", help="ZeroMQ's bind address (default 127.0.0.1); any other needs --curve-key and --curve-clients"
    )
    p.add_argument("--port", type=int, help="ZeroMQ request port (default 5555)")
    p.add_argument(
        "--curve-key", metavar="FILE", help="this daemon's secret key (NAME.key_secret from `ddbridge keys`): CURVE on"
    )
    p.add_argument("--curve-clients", metavar="DIR", help="folder of the allowed clients' public keys (*.key)")
    p.add_argument("--pub-port", type=int, help="ZeroMQ event port (default 5556)")
    p.add_argument("--osc-port", type=int, help="OSC UDP port (default 9000; 0 turns OSC off)")
    p.add_argument("--osc-reply-port", type=int, help="send OSC replies to this port (default: the sender's)")
    p.add_argument("--web-port", type=int, help="the page's port: http://127.0.0.1:PORT/ (default 5557; 0: off)")
    p.add_argument(
        "--open", action=argparse.BooleanOptionalAction, default=None, help="open the page in the browser once ready"
    )
    p.add_argument("--device", help="auto, cuda, mps or cpu")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), help="half precision runs on CUDA only")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile on CUDA")
    p.add_argument("--threads", type=int, help="CPU threads for torch (0: PyTorch's default)")
    p.add_argument("--steps", type=int, help="default sampling steps for requests that give none")
    p.add_argument("--sampler", help="default sampler for requests that give none")
    p.add_argument(
        "--allow-root",
        action="append",
        metavar="DIR",
        help="allowed output root (repeatable; replaces the config list)",
    )
    p.add_argument("--project-dir", metavar="DIR", help="default project folder for requests that name no folder")
    p.add_argument("--pool-size", type=int, help="finished sounds kept ready per category (0 = off)")
    p.add_argument("--max-queue", type=int, help="queued jobs before requests are answered 'busy'")
    p.add_argument(
        "--midi", action=argparse.BooleanOptionalAction, default=None, help="play pads from a MIDI input (see [midi])"
    )
    p.add_argument("--midi-port", metavar="NAME", help="MIDI input to open (default: a virtual port 'ddbridge')")
    p.add_argument("--audio-device", metavar="NAME_OR_INDEX", help="audition output device (default: the system's)")
    p.add_argument("--state-dir", metavar="DIR", help="folder for the daemon's own state")
    p.add_argument("-v", "--verbose", action="store_true", help="log every step")
    p.set_defaults(func=run)


def config_overrides(args: argparse.Namespace) -> dict:
    """The command line's settings as ``"section.key": value`` overrides (None: not given)."""
    return {
        "models.load": args.model,
        "server.host": args.host,
        "server.zmq_port": args.port,
        "server.curve_secret_key": args.curve_key,
        "server.curve_clients": args.curve_clients,
        "server.pub_port": args.pub_port,
        "server.osc_port": args.osc_port,
        "server.osc_reply_port": args.osc_reply_port,
        "server.web_port": args.web_port,
        "web.open": args.open,
        "models.device": args.device,
        "models.dtype": args.dtype,
        "models.compile": args.compile,
        "models.threads": args.threads,
        "models.steps": args.steps,
        "models.sampler": args.sampler,
        "output.allowed_roots": args.allow_root,
        "output.default_project_dir": args.project_dir,
        "pool.size": args.pool_size,
        "jobs.max_queue": args.max_queue,
        "midi.enabled": args.midi,
        "midi.port": args.midi_port,
        "audition.device": args.audio_device,
        "state_dir": args.state_dir,
    }


def run(args: argparse.Namespace) -> int:
    import logging

    from ddbridge.daemon.config import load_config
    from ddbridge.serve import serve

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="ddbridge: %(message)s")
    return serve(load_config(args.config, config_overrides(args)))
