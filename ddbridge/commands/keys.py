"""``ddbridge keys NAME``: make a CURVE key pair for a remote daemon or one of its clients."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "keys",
        help="make a CURVE key pair (NAME.key public, NAME.key_secret private) for remote use",
        description="Make a key pair with ZeroMQ's CURVE. On the GPU machine make one for the daemon and put "
        "each client's public NAME.key into its clients folder; on each client make one and give it the "
        "daemon's public key (see the README, 'Remote GPU').",
    )
    p.add_argument("name", help="the pair's name, e.g. studio-pc or laptop")
    p.add_argument("--dir", metavar="DIR", help="folder for the files (default: keys/ in the user config folder)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ddbridge.protocol.remote import create_keys, default_keys_dir

    folder = Path(args.dir).expanduser().absolute() if args.dir else default_keys_dir()
    public, secret = create_keys(folder, args.name)
    print(f"public key (give this one out): {public}")
    print(f"secret key (keep it on this machine): {secret}")
    return 0
