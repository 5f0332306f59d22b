"""The one core API: validated requests -> jobs -> finished WAVs -> replies and events.

Front ends call only ``Core.handle(message, reply, notify)`` and ``Core.subscribe(listener)``.
``reply`` is called exactly once per message, possibly later and from another thread;
``notify`` (optional) hears that request's job events; subscribers hear every job's events.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ddbridge import __version__, protocol, render
from ddbridge import audio as audio_ops
from ddbridge.config import Config
from ddbridge.engine import Engine, Work
from ddbridge.errors import BadAudio, BadRequest, Cancelled, DDBridgeError, Unavailable
from ddbridge.jobs import Job, JobQueue, Worker
from ddbridge.outputs import Outputs
from ddbridge.pool import Candidate, Pool
from ddbridge.pool_check import PoolCheck
from ddbridge.protocol_schema import SOURCE_REGION

log = logging.getLogger(__name__)

Reply = Callable[[dict], None]
Notify = Callable[[dict], None]

SEED_LIMIT = 2**32
RENDER_THREADS = 8
HELD_DELIVERIES = 4  # finished ``deliver: "reply"`` jobs whose audio is kept for a resent request
POOL_QUIET_S = 0.25  # the pool refills only after this long without job requests
STEMS = {"generate": "sample", "variate": "variation", "interpolate": "interpolation", "extend": "extension"}


@dataclass
class Order:
    """A validated job request: what to compute and how to write it."""

    request: dict
    work: Work
    out_dir: Path | None  # None when the reply delivers the audio
    sample_rate: int
    bit_depth: int
    normalize: str | None
    samples: int | None
    stem: str
    category: str | None  # the requested category as resolved: what files are named and tagged with
    wait: bool
    from_pool: bool = False
    listeners: list[tuple[Notify, bool]] = field(default_factory=list)
    in_memory: bool = False  # a ``Core.sound`` request: the result is a ``Sound``, no file is written
    deliver_reply: bool = False  # ``deliver: "reply"``: the reply carries WAV bytes, no file is written


@dataclass(frozen=True, eq=False)
class Sound:
    """One finished sound kept in memory (for audition): ``audio`` ``[L, C]`` at ``sample_rate``.

    ``out_dir``, ``stem``, ``bit_depth`` and ``metadata`` say how ``render.write_wav`` should keep it.
    """

    audio: np.ndarray
    sample_rate: int
    seed: int
    from_pool: bool
    out_dir: Path
    stem: str
    bit_depth: int
    metadata: dict


class Core:
    """Owns the job queue, its worker, the pool and the engine; answers protocol messages."""

    def __init__(self, engine: Engine, config: Config, outputs: Outputs) -> None:
        self.engine, self.config, self.outputs = engine, config, outputs
        jobs = config.jobs
        self.queue = JobQueue(
            jobs.max_queue, jobs.max_batch, jobs.batch_window_ms / 1000, self._on_progress, self._on_finish
        )
        self.pool = Pool(self._pool_templates(), config.pool.size, PoolCheck.load() if config.pool.check else None)
        self.worker = Worker(self.queue, self._run_batch, self._idle_work)
        self._subscribers: list[Notify] = []
        self._lock = threading.Lock()
        self._admission = threading.Lock()
        self._started = time.monotonic()
        self._last_job_request = 0.0
        bundle = engine.bundle(None)
        self._pool_format = (config.output.sample_rate or bundle.sample_rate, "peak")  # the last format served
        self._renderers = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="ddbridge-render")
        self._reports: dict[str, Callable[[], object]] = {}
        self._held: deque[list[dict]] = deque()
        self._ops = {
            "ping": self._ping,
            "status": self._status,
            "models": self._models,
            "cancel": self._cancel,
            "pool": self._pool,
        }

    def start(self) -> None:
        """Warm the finishing path (its imports and filters), then start taking jobs."""
        bundle = self.engine.bundle(None)
        silence = np.zeros((bundle.audio_channels, 1024), dtype=np.float32)
        audio_ops.finish(silence, bundle.sample_rate, 44100)
        self.worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Refuse new work, fail queued jobs, stop the running batch at its next step and wait for the worker."""
        self.queue.close()
        self.worker.stop(timeout)
        self._renderers.shutdown(wait=True)

    def subscribe(self, listener: Notify) -> Callable[[], None]:
        """Hear every job event (progress, done, error); returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._subscribers:
                    self._subscribers.remove(listener)

        return unsubscribe

    def add_report(self, name: str, report: Callable[[], object]) -> None:
        """Add ``name: report()`` to every ``status`` reply (how a front end shows its state)."""
        with self._lock:
            self._reports[name] = report

    # -- requests -------------------------------------------------------------------------------

    def handle(
        self, message: bytes | str | dict, reply: Reply, notify: Notify | None = None, *, binary: bool = False
    ) -> None:
        """Answer one message: raw JSON or an already decoded object. Never raises.

        ``binary``: the transport carries replies as ``protocol.encode_frames`` (``deliver: "reply"``).
        """
        rid = None
        reply = _once(reply)
        try:
            if not isinstance(message, dict):
                message = protocol.parse(message)
            rid = protocol.request_id(message)
            request = protocol.validate_request(message)
            if request.get("deliver") == "reply" and not binary:
                raise BadRequest("deliver 'reply' needs the ZeroMQ transport, whose replies can carry audio")
            handler = self._ops.get(request["op"])
            if handler is None:
                self._job(request, reply, notify)
                return
            self._refuse_running_id(rid)
            handler(request, reply, notify)
        except DDBridgeError as e:
            _safe(reply, protocol.error_reply(rid, e))
        except Exception as e:
            log.exception("request failed")
            _safe(reply, protocol.error_reply(rid, DDBridgeError(f"internal error: {type(e).__name__}: {e}")))

    def _refuse_running_id(self, rid: str) -> None:
        """``BadRequest`` when ``rid`` is a running job's id: its requester expects no other reply under it."""
        job = self.queue.get(rid)
        if job is not None and not job.finished:
            raise BadRequest(f"id '{rid}' belongs to a running job; use a new id for every request")

    def _ping(self, request: dict, reply: Reply, _notify) -> None:
        reply(protocol.ok_reply(request["id"], pong=True, version=__version__, protocol=protocol.PROTOCOL_VERSION))

    def _status(self, request: dict, reply: Reply, _notify) -> None:
        reply(
            protocol.ok_reply(
                request["id"],
                version=__version__,
                device=self.engine.device_name,
                default_model=self.engine.default_model,
                models=list(self.engine.models),
                uptime_s=round(time.monotonic() - self._started, 3),
                **self.queue.counts(),
                pool=self.pool.state(),
                **{name: report() for name, report in list(self._reports.items())},
            )
        )

    def _models(self, request: dict, reply: Reply, _notify) -> None:
        reply(protocol.ok_reply(request["id"], models=self.engine.describe(), samplers=self.engine.samplers()))

    def _cancel(self, request: dict, reply: Reply, _notify) -> None:
        state = self.queue.cancel(request["job"])
        if state is None:
            raise BadRequest(f"no job with id '{request['job']}' (it may have finished long ago)")
        reply(protocol.ok_reply(request["id"], job=request["job"], state=state))

    def _pool(self, request: dict, reply: Reply, _notify) -> None:
        if "size" in request:
            self.pool.set_size(int(request["size"]))
        reply(protocol.ok_reply(request["id"], **self.pool.state()))

    def _job(self, request: dict, reply: Reply, notify: Notify | None) -> None:
        rid = request["id"]
        self._last_job_request = time.monotonic()
        fingerprint = json.dumps(request, sort_keys=True)
        with self._admission:  # checking the id and registering the job happen as one step
            existing = self.queue.get(rid)
            if existing is not None:
                if existing.fingerprint == fingerprint:
                    self._attach(existing, request, reply, notify)  # a client resending after a timeout
                    return
                if not existing.finished:
                    raise BadRequest(f"id '{rid}' belongs to a running job; use a new id for every request")
            order = self._prepare(request)
            if notify is not None:
                order.listeners.append((notify, not order.wait))
            priority = request.get("priority", "interactive")
            candidates = self._take_from_pool(order)
            if candidates is not None:
                job = Job(rid, priority, len(candidates), None, order, fingerprint, state="running")
                self.queue.record(job)
            else:
                job = Job(rid, priority, len(order.work.seeds), order.work.batch_key(), order, fingerprint)
                self.queue.submit(job)
        if candidates is not None:
            self._serve_from_pool(job, candidates, reply)
            return
        if order.wait:
            self.queue.add_done_callback(job, lambda j: _safe(reply, self._final_reply(j)))
        else:
            reply(protocol.ok_reply(rid, job=rid, state=job.state))

    def sound(self, request: dict, deliver: Callable[[Sound | DDBridgeError], None]) -> None:
        """One new sound kept in memory, not written: ``request`` is a ``generate`` request (``op`` and
        ``count`` implied, ``priority`` defaults to ``audition``).

        Served from the pool when it can be, else queued (cancel it by its id like any job).
        ``deliver`` is called once, possibly on another thread, with the ``Sound`` or the error.
        """
        deliver = _once(deliver)
        try:
            request = protocol.validate_request({"op": "generate", "priority": "audition", **request, "count": 1})
            self._last_job_request = time.monotonic()
            with self._admission:
                if self.queue.get(request["id"]) is not None:
                    raise BadRequest(f"id '{request['id']}' is already in use; use a new id for every request")
                order = self._prepare(request)
                order.in_memory = True
                candidates = self._take_from_pool(order)
                if candidates is None:
                    job = Job(request["id"], request["priority"], 1, order.work.batch_key(), order)
                    self.queue.submit(job)
        except DDBridgeError as e:
            deliver(e)
            return
        if candidates is None:
            self.queue.add_done_callback(job, lambda j: deliver(j.result if j.state == "done" else j.error))
            return
        (candidate,) = candidates
        order.from_pool = True
        ready = None if order.samples else candidate.finished.get((order.sample_rate, order.normalize))
        try:
            deliver(self._sound(order, _with(order.work, seeds=(candidate.seed,)), candidate.audio, ready))
        except DDBridgeError as e:
            deliver(e)

    def _attach(self, job: Job, request: dict, reply: Reply, notify: Notify | None) -> None:
        wait = request.get("wait", True)
        if notify is not None:
            job.data.listeners.append((notify, not wait))
        if wait:
            self.queue.add_done_callback(job, lambda j: _safe(reply, self._final_reply(j)))
        elif job.state == "done":
            reply(self._final_reply(job))
        else:
            reply(protocol.ok_reply(job.id, job=job.id, state=job.state))

    def _final_reply(self, job: Job) -> dict:
        if job.state == "done" and job.data.deliver_reply:
            files = [dict(entry) for entry in job.result]
            if not all("wav" in entry for entry in files):
                return protocol.error_reply(
                    job.id, Unavailable(f"the audio of job '{job.id}' is no longer held; ask again with a new id")
                )
            return protocol.ok_reply(job.id, job=job.id, state="done", files=files, from_pool=job.data.from_pool)
        if job.state == "done":
            return protocol.ok_reply(job.id, job=job.id, state="done", files=job.result, from_pool=job.data.from_pool)
        return protocol.error_reply(job.id, job.error or DDBridgeError("job ended without a result"))

    # -- preparing work -------------------------------------------------------------------------

    def _prepare(self, r: dict) -> Order:
        op = r["op"]
        bundle = self.engine.bundle(r.get("model"))
        choice = bundle.resolve_category(r.get("category"))
        steps, sampler = self.engine.defaults(bundle.name)
        steps, sampler = int(r.get("steps", steps)), r.get("sampler", sampler)
        if sampler not in self.engine.samplers():
            raise BadRequest(f"unknown sampler '{sampler}'; choose one of: {', '.join(self.engine.samplers())}")
        guidance = bundle.guidance_for(choice, r.get("guidance_scale"))
        loop = bool(r.get("loop", False)) or choice.loop
        count = len(r.get("positions", [0.5])) if op == "interpolate" else int(r.get("count", 1))
        seeds = _seeds(r.get("seed"), count)
        work = Work(op, bundle.name, seeds, steps, sampler, choice.category, guidance, loop)
        samples = None
        if op == "generate":
            seconds = r.get("seconds")
            if seconds is None:
                work = _with(work, length=bundle.sample_size)
            else:
                samples = max(1, int(round(seconds * bundle.sample_rate)))
                stride = bundle.stride
                length = max(1, round(samples / stride)) * stride if loop else bundle.length_for_seconds(seconds)
                work = _with(work, length=length)
        elif op == "variate":
            work = _with(work, sources=(_source(r["source"], "source"),), strength=float(r.get("strength", 0.7)))
            region = {k: bool(r[k]) if k == "source_reverse" else float(r[k]) for k in SOURCE_REGION if k in r}
            work = _with(work, **region)
        elif op == "interpolate":
            sources = (_source(r["source_a"], "source_a"), _source(r["source_b"], "source_b"))
            work = _with(work, sources=sources, positions=tuple(float(p) for p in r.get("positions", [0.5])))
        elif op == "extend":
            work = _with(work, sources=(_source(r["source"], "source"),), seconds=float(r["seconds"]))
        stem = choice.label or STEMS[op]
        out = self.config.output
        normalize = r.get("normalize", "peak")
        deliver_reply = r.get("deliver") == "reply"
        if deliver_reply and ("out_dir" in r or "project_dir" in r or r.get("wait") is False):
            raise BadRequest("deliver 'reply' writes no file here: leave out out_dir, project_dir and wait false")
        return Order(
            request=r,
            work=work,
            out_dir=None if deliver_reply else self.outputs.resolve(r.get("out_dir"), r.get("project_dir"), stem),
            sample_rate=int(r.get("sample_rate") or out.sample_rate or bundle.sample_rate),
            bit_depth=int(r.get("bit_depth", out.bit_depth)),
            normalize=None if normalize == "none" else normalize,
            samples=samples,
            stem=stem,
            category=choice.label,
            wait=bool(r.get("wait", True)),
            deliver_reply=deliver_reply,
        )

    # -- the pool -------------------------------------------------------------------------------

    def _pool_templates(self) -> list[Work]:
        name = self.engine.default_model
        bundle = self.engine.bundle(name)
        steps, sampler = self.engine.defaults(name)
        names = self.config.pool.categories or list(bundle.categories) or [None]
        # Names that resolve alike ("hat" and "hat_closed"; any name on a model without categories) share one pool.
        resolved = {(c.category, c.loop): c for c in map(bundle.resolve_category, names)}
        return [
            Work(
                "generate",
                name,
                (),
                steps,
                sampler,
                c.category,
                bundle.guidance_for(c, None),
                c.loop,
                bundle.sample_size,
            )
            for c in resolved.values()
        ]

    def _take_from_pool(self, order: Order) -> list[Candidate] | None:
        """Pool candidates for a plain ``generate`` the pool holds enough of, else None."""
        r = order.request
        if r["op"] != "generate" or "seed" in r or not r.get("pool", True):
            return None
        return self.pool.take(order.work, len(order.work.seeds))

    def _serve_from_pool(self, job: Job, candidates: list[Candidate], reply: Reply) -> None:
        order: Order = job.data
        order.from_pool = True
        order.listeners.clear()  # the reply itself carries the files
        work = _with(order.work, seeds=tuple(c.seed for c in candidates))
        fmt = (order.sample_rate, order.normalize)
        self._pool_format = fmt  # later fills finish their sounds in this format ahead of time
        finished = [None if order.samples else c.finished.get(fmt) for c in candidates]
        try:
            files = self._render(order, work, np.stack([c.audio for c in candidates]), finished)
        except DDBridgeError as e:
            self.queue.fail(job, e)
        else:
            self.queue.finish(job, files)  # subscribers hear "done"; the reply carries the files
        _safe(reply, self._final_reply(job))

    def _idle_work(self) -> Callable[[], None] | None:
        if self._recently_busy():
            return None
        work = self.pool.next_fill()
        if work is None:
            return None

        def fill() -> None:
            def yield_to_requests(_fraction: float) -> None:
                if self.queue.has_waiting() or self.queue.closed or self._recently_busy():
                    raise Cancelled("pool fill paused for a request")

            try:
                audio = self.engine.run(work, yield_to_requests)
            except Cancelled:
                return
            rate, normalize = fmt = self._pool_format
            bundle = self.engine.bundle(work.model)
            finished = [
                {fmt: audio_ops.finish(item, bundle.sample_rate, rate, normalize=normalize, loop=work.loop)}
                for item in audio
            ]
            self.pool.add(work, audio, bundle.sample_rate, finished)

        return fill

    def _recently_busy(self) -> bool:
        return time.monotonic() - self._last_job_request < POOL_QUIET_S

    # -- running --------------------------------------------------------------------------------

    def _run_batch(self, batch: list[Job]) -> None:
        orders: list[Order] = [job.data for job in batch]
        work = Work.merge([o.work for o in orders])

        def progress(fraction: float) -> None:
            for job in batch:
                if not job.cancel_requested:
                    self.queue.set_progress(job, fraction)
            if self.queue.should_stop(batch):
                if self.queue.closed:
                    raise Unavailable("the daemon is shutting down")
                raise Cancelled("job cancelled")

        log.debug("running a batch of %d job(s), %d sound(s)", len(batch), len(work.seeds))
        audio = self.engine.run(work, progress)
        offset = 0
        for job, order in zip(batch, orders, strict=True):
            n = len(order.work.seeds)
            items, offset = audio[offset : offset + n], offset + n
            if not self.queue.begin_finalize(job):
                self.queue.fail(job, Cancelled(f"job '{job.id}' was cancelled"))
                continue
            # Files are written on other threads: they overlap each other and the next batch's compute.
            self._renderers.submit(self._finish_job, job, order, items)

    def _finish_job(self, job: Job, order: Order, items: np.ndarray) -> None:
        try:
            if order.in_memory:
                self.queue.finish(job, self._sound(order, order.work, items[0]))
            else:
                self.queue.finish(job, self._render(order, order.work, items))
        except DDBridgeError as e:
            self.queue.fail(job, e)
        except Exception as e:
            log.exception("writing the files of job %s failed", job.id)
            self.queue.fail(job, DDBridgeError(f"internal error: {type(e).__name__}: {e}"))

    def _render(
        self, order: Order, work: Work, audio: np.ndarray, finished: list[np.ndarray | None] | None = None
    ) -> list[dict]:
        """Finish (unless given finished) and write each item of ``audio`` ``[B, C, L]``; the reply's file entries."""
        bundle = self.engine.bundle(work.model)
        files = []
        for i, (item, seed) in enumerate(zip(audio, work.seeds, strict=True)):
            ready = finished[i] if finished else None
            if order.samples and work.loop:
                item = audio_ops.fit_length(item, order.samples, circular=True)
            elif order.samples:
                item = item[:, : order.samples]
            if ready is None:
                ready = audio_ops.finish(
                    item, bundle.sample_rate, order.sample_rate, normalize=order.normalize, loop=work.loop
                )
            metadata = self._metadata(order, work, seed, i, ready.shape[0])
            if order.deliver_reply:
                wav = render.encode_wav(ready, order.sample_rate, bit_depth=order.bit_depth, metadata=metadata)
                files.append({"name": order.stem, "seed": seed, "metadata": metadata, "wav": wav})
                continue
            try:
                path = render.write_wav(
                    ready, order.sample_rate, order.out_dir, order.stem, bit_depth=order.bit_depth, metadata=metadata
                )
            except OSError as e:
                raise DDBridgeError(f"writing into '{order.out_dir}' failed: {e}") from None
            files.append(
                {"path": str(path), "sidecar": str(path.with_suffix(".json")), "seed": seed, "metadata": metadata}
            )
        if order.deliver_reply:
            self._hold(files)
        return files

    def _hold(self, files: list[dict]) -> None:
        """Keep the audio of the last ``HELD_DELIVERIES`` delivered jobs (for resends); drop older audio."""
        with self._lock:
            self._held.append(files)
            while len(self._held) > HELD_DELIVERIES:
                for entry in self._held.popleft():
                    entry.pop("wav", None)

    def _sound(self, order: Order, work: Work, raw: np.ndarray, ready: np.ndarray | None = None) -> Sound:
        """A ``Core.sound`` result: raw ``[C, L]`` finished like a file would be (unless ``ready``)."""
        if ready is None:
            bundle = self.engine.bundle(work.model)
            if order.samples and work.loop:
                raw = audio_ops.fit_length(raw, order.samples)
            elif order.samples:
                raw = raw[:, : order.samples]
            ready = audio_ops.finish(raw, bundle.sample_rate, order.sample_rate, normalize=order.normalize)
        seed, rate = work.seeds[0], order.sample_rate
        metadata = self._metadata(order, work, seed, 0, ready.shape[0])
        return Sound(ready, rate, seed, order.from_pool, order.out_dir, order.stem, order.bit_depth, metadata)

    def _metadata(self, order: Order, work: Work, seed: int, index: int, frames: int) -> dict:
        meta = {
            "seed": seed,
            "model": work.model,
            "sampler": work.sampler,
            "steps": work.steps,
            "category": order.category,
            "conditioned": work.category is not None,
            "op": work.op,
            "guidance_scale": work.guidance_scale,
            "loop": work.loop,
            "sample_rate": order.sample_rate,
            "bit_depth": order.bit_depth,
            "seconds": round(frames / order.sample_rate, 6),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "software": f"ddbridge {__version__}",
            "normalize": order.normalize or "none",
        }
        if order.request.get("seconds") is not None and work.op == "generate":
            meta["request_seconds"] = order.request["seconds"]  # the length asked for, before silence was trimmed
        if work.op == "variate":
            meta.update(source=work.sources[0], strength=work.strength)
            meta.update({k: order.request[k] for k in SOURCE_REGION if k in order.request})
        elif work.op == "interpolate":
            meta.update(source_a=work.sources[0], source_b=work.sources[1], position=work.positions[index])
        elif work.op == "extend":
            meta.update(source=work.sources[0], extend_seconds=work.seconds)
        return meta

    # -- events ---------------------------------------------------------------------------------

    def _on_progress(self, job: Job) -> None:
        self._emit(job, protocol.event("progress", job.id, progress=round(job.progress, 4)), final=False)

    def _on_finish(self, job: Job) -> None:
        if job.state == "done":
            files = [{k: v for k, v in entry.items() if k != "wav"} for entry in job.result]
            ev = protocol.event("done", job.id, files=files)
        else:
            ev = protocol.event("error", job.id, error=protocol.error_body(job.error or DDBridgeError("failed")))
        self._emit(job, ev, final=True)

    def _emit(self, job: Job, ev: dict, final: bool) -> None:
        order: Order = job.data
        if order.in_memory:
            return  # its one listener is the ``deliver`` of ``Core.sound``
        with self._lock:
            targets = list(self._subscribers)
        targets += [fn for fn, wants_final in list(order.listeners) if wants_final or not final]
        for fn in targets:
            _safe(fn, ev)


def _with(work: Work, **changes) -> Work:
    return replace(work, **changes)


def _seeds(seed: int | None, count: int) -> tuple[int, ...]:
    if seed is None:
        return tuple(secrets.randbelow(SEED_LIMIT) for _ in range(count))
    return tuple((int(seed) + i) % SEED_LIMIT for i in range(count))


def _source(path: str, name: str) -> str:
    p = Path(path)
    if not p.is_absolute():
        raise BadRequest(f"{name} must be an absolute path, got '{path}'")
    if not p.is_file():
        raise BadAudio(f"{name} '{path}' is not an existing file")
    return str(p)


def _once(reply: Reply) -> Reply:
    """``reply`` guarded so that only its first call goes through."""
    lock, sent = threading.Lock(), []

    def guarded(message: dict) -> None:
        with lock:
            if sent:
                return
            sent.append(True)
        reply(message)

    return guarded


def _safe(fn: Callable[[dict], None], message: dict) -> None:
    try:
        fn(message)
    except Exception:
        log.exception("delivering a reply or event failed")
