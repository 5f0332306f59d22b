"""``ddbridge request OP``: talk to a running daemon (ping, status, models, generate, variate, ...)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("request", help="send one request to a running `ddbridge serve`")
    ops = p.add_subparsers(dest="op", required=True, metavar="OP")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", default="tcp://127.0.0.1:5555", help="the daemon's ZeroMQ address")
    common.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a quick reply")
    common.add_argument("--json", action="store_true", help="print the daemon's JSON reply")
    common.add_argument("--retries", type=int, default=3, help="tries before a silent daemon counts as down")
    common.add_argument("--server-key", metavar="FILE", help="the daemon's public key (NAME.key): CURVE on")
    common.add_argument("--key", metavar="FILE", help="this client's key pair (NAME.key_secret), with --server-key")
    common.add_argument(
        "--deliver",
        choices=("files", "reply"),
        help="files: the daemon writes them; reply: they come in the reply and are written here "
        "(the default with CURVE keys, from these options or remote.toml)",
    )
    common.add_argument(
        "--result-file",
        metavar="PATH",
        help="also write the JSON reply (or the error reply when the daemon is down) to PATH, atomically",
    )

    for name, text in (
        ("ping", "check the daemon answers"),
        ("status", "queue, pool, device"),
        ("models", "the loaded models and samplers"),
    ):
        ops.add_parser(name, parents=[common], help=text)
    q = ops.add_parser("cancel", parents=[common], help="cancel a job")
    q.add_argument("job", help="the id of the request that started the job")
    q = ops.add_parser("pool", parents=[common], help="show the pre-generated pool, or resize it")
    q.add_argument("--size", type=int, help="sounds to keep ready per category")

    jobs = argparse.ArgumentParser(add_help=False, parents=[common])
    jobs.add_argument("--count", type=int)
    jobs.add_argument("--seed", type=int)
    jobs.add_argument("--steps", type=int)
    jobs.add_argument("--sampler")
    jobs.add_argument("--model")
    jobs.add_argument("--category")
    jobs.add_argument("--guidance-scale", type=float)
    place = jobs.add_mutually_exclusive_group()
    place.add_argument("--out-dir", help="folder for the files (made absolute here)")
    place.add_argument("--project-dir", help="project folder: files go to Samples/Generated/<category>/")
    jobs.add_argument("--sample-rate", type=int)
    jobs.add_argument("--bit-depth", type=int, choices=(16, 24, 32))
    jobs.add_argument("--normalize", choices=("peak", "loudness", "none"))
    jobs.add_argument("--priority", choices=("audition", "interactive", "batch"))
    jobs.add_argument("--wait", action="store_true", help="wait for the files and print their paths")
    jobs.add_argument("--job-timeout", type=float, default=600.0, help="seconds to wait for files with --wait")

    q = ops.add_parser("generate", parents=[jobs], help="new sounds")
    q.add_argument("--seconds", type=float)
    q.add_argument("--loop", action="store_true", default=None)
    q.add_argument("--no-pool", dest="pool", action="store_false", default=None, help="never serve from the pool")
    q.add_argument("--bpm", type=float, help="a loop at this tempo (with --bars)")
    q.add_argument("--bars", type=int, help="a loop of this many bars of 4/4 (with --bpm)")
    q.add_argument("--genre", help="a loop's genre: house, techno, hiphop, trap, breakbeat, dnb, electro or any")
    q.add_argument("--note", type=_note, help="a one-shot's root note: a name (C2, F#1) or a MIDI number")
    q = ops.add_parser("variate", parents=[jobs], help="variations of a file")
    q.add_argument("source")
    add_source_region(q)
    q.add_argument("--strength", type=float)
    q.add_argument("--loop", action="store_true", default=None)
    q = ops.add_parser("interpolate", parents=[jobs], help="sounds between two files")
    q.add_argument("source_a")
    q.add_argument("source_b")
    q.add_argument("--positions", type=float, nargs="+")
    q = ops.add_parser("extend", parents=[jobs], help="continue a file")
    q.add_argument("source")
    q.add_argument("--seconds", type=float, required=True)
    q = ops.add_parser(
        "send",
        parents=[common],
        help="send a request written as JSON in a file, byte for byte, and print the daemon's reply",
        description="For clients without ZeroMQ (REAPER's Lua scripts): the daemon must answer a ping first, "
        "then the file's text is sent unchanged and the reply printed as JSON.",
    )
    q.add_argument("request_file", metavar="FILE", help="the request (one JSON message)")
    q.add_argument("--job-timeout", type=float, default=600.0, help="seconds to wait for a job's files")
    p.set_defaults(func=run)


def add_source_region(parser: argparse.ArgumentParser) -> None:
    """Options choosing the part of a variate source to vary (plugin_protocol/spec.md, ``variate``)."""
    parser.add_argument("--source-start", type=float, metavar="S", help="seconds into the source where the part starts")
    parser.add_argument("--source-seconds", type=float, metavar="S", help="seconds of the source from there")
    parser.add_argument("--source-reverse", action="store_true", default=None, help="reverse the part")
    parser.add_argument("--source-playrate", type=float, metavar="R", help="play the part at this rate (pitch follows)")


def _note(value: str) -> str | int:
    """A note as the protocol takes it: a MIDI number as an integer, a name as it is."""
    return int(value) if value.strip().isdigit() else value


PATH_FIELDS = ("out_dir", "project_dir", "source", "source_a", "source_b")
SKIP = {"command", "op", "func", "endpoint", "timeout", "json", "job_timeout", "retries", "result_file"}
SKIP |= {"server_key", "key", "deliver"}


def request_fields(args: argparse.Namespace) -> dict:
    """The request's fields from parsed arguments; local paths are made absolute."""
    fields = {k: v for k, v in vars(args).items() if k not in SKIP and v is not None}
    for name in PATH_FIELDS:
        if name in fields:
            fields[name] = str(Path(fields[name]).expanduser().absolute())
    if "wait" in fields:
        fields["wait"] = bool(fields["wait"])
    return fields


def run(args: argparse.Namespace) -> int:
    from ddbridge.protocol import messages
    from ddbridge.protocol.errors import DDBridgeError

    try:
        reply = _send(args) if args.op == "send" else _request(args)
    except DDBridgeError as e:
        if args.result_file:
            write_result(Path(args.result_file), messages.error_reply(None, e))
        raise
    if args.result_file:
        write_result(Path(args.result_file), reply)
    if args.json or args.op == "send":
        print(json.dumps(reply, indent=2))
    else:
        for line in describe(reply):
            print(line)
    return 0 if reply.get("ok") else 1


def _client(args: argparse.Namespace):
    from ddbridge.client.connection import Client
    from ddbridge.protocol.errors import BadRequest
    from ddbridge.protocol.remote import ClientKeys

    if bool(args.server_key) != bool(args.key):
        raise BadRequest("--server-key and --key go together")
    keys = ClientKeys.load(args.server_key, args.key) if args.key else None
    job_timeout = getattr(args, "job_timeout", 600.0)
    return Client(
        args.endpoint,
        timeout=args.timeout,
        job_timeout=job_timeout,
        retries=args.retries,
        keys=keys,
        deliver=args.deliver,
    )


def _request(args: argparse.Namespace) -> dict:
    fields = request_fields(args)
    with _client(args) as client:
        if fields.get("wait"):
            client.ping()  # a daemon that is down is reported after --timeout, not after --job-timeout
        return client.request(args.op, **fields)


def _send(args: argparse.Namespace) -> dict:
    """Ping, then send the file's bytes unchanged and wait for the reply that carries their id (or none)."""
    import zmq

    from ddbridge.client.connection import read_reply
    from ddbridge.protocol import messages
    from ddbridge.protocol.errors import BadRequest, Unavailable
    from ddbridge.protocol.schema import JOB_OPS

    try:
        data = Path(args.request_file).read_bytes()
    except OSError as e:
        raise BadRequest(f"cannot read the request file '{args.request_file}': {e.strerror or e}") from None
    try:
        message = messages.parse(data)
    except BadRequest:
        message = None  # sent anyway: the daemon's answer to malformed text is part of the protocol
    rid = messages.request_id(message)
    waits = isinstance(message, dict) and message.get("op") in JOB_OPS and message.get("wait", True) is not False
    timeout = args.job_timeout if waits else args.timeout
    with _client(args) as client:
        client.ping()
        if client.deliver == "reply" and waits and rid is not None:
            return client.call(message, timeout)  # the files come in the reply and are written here
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if client.keys is not None:
        client.keys.apply(sock)
    try:
        sock.connect(args.endpoint)
        sock.send_multipart([b"", data])
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0 and sock.poll(max(1, int(left * 1000))):
            reply = read_reply(sock.recv_multipart())
            if isinstance(reply, dict) and reply.get("id") == rid:
                return reply
    finally:
        sock.close()
    raise Unavailable(f"no reply from the daemon at {args.endpoint} within {timeout:g} s")


def write_result(path: Path, reply: dict) -> None:
    """Write ``reply`` as JSON to ``path`` so that a reader never sees half of it (temp file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(reply, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def describe(reply: dict) -> list[str]:
    """A short human summary of a success reply."""
    if reply.get("pong"):
        return [f"pong: ddbridge {reply['version']}, protocol {reply['protocol']}"]
    if "files" in reply:
        return [f["path"] for f in reply["files"]]
    if "samplers" in reply:
        lines = []
        for m in reply["models"]:
            cats = ", ".join(m["categories"]) or "no categories"
            mark = " (default)" if m["default"] else ""
            lines.append(f"{m['name']}{mark}: {m['sample_rate']} Hz, {m['seconds']:.2f} s, {cats}")
        return lines + [f"samplers: {', '.join(reply['samplers'])}"]
    if "queue" in reply:
        q, j = reply["queue"], reply["jobs"]
        return [
            f"ddbridge {reply['version']} on {reply['device']}, up {reply['uptime_s']:.0f} s",
            f"models: {', '.join(reply['models'])} (default {reply['default_model']})",
            f"queue: {q['queued']} queued, {q['running']} running, capacity {q['capacity']}",
            f"jobs: {j['done']} done, {j['failed']} failed, {j['cancelled']} cancelled",
            *_pool_lines(reply["pool"]),
        ]
    if "categories" in reply:
        return _pool_lines(reply)
    return [f"job {reply['job']}: {reply['state']}"]


def _pool_lines(pool: dict) -> list[str]:
    ready = ", ".join(f"{c['category'] or '(none)'} {c['ready']}" for c in pool["categories"]) or "empty"
    return [f"pool ({pool['size']} per category): {ready}"]
