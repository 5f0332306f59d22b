"""The one core API: validated requests -> jobs -> finished WAVs -> replies and events.

Front ends call only ``Core.handle(message, reply, notify)`` and ``Core.subscribe(listener)``.
``reply`` is called exactly once per message, possibly later and from another thread;
``notify`` (optional) hears that request's job events; subscribers hear every job's events.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ddbridge import __version__
from ddbridge.daemon.config import Config
from ddbridge.daemon.engine import Engine, Work
from ddbridge.daemon.jobs import Job, JobQueue, Worker
from ddbridge.daemon.orders import Notify, Order, prepare
from ddbridge.daemon.outputs import Outputs
from ddbridge.daemon.pool import Candidate
from ddbridge.daemon.pool_keeper import PoolKeeper
from ddbridge.daemon.results import Results, Sound
from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadRequest, Cancelled, DDBridgeError, Unavailable
from ddbridge.sound import audio as audio_ops

log = logging.getLogger(__name__)

Reply = Callable[[dict], None]

RENDER_THREADS = 8


class Core:
    """Owns the job queue, its worker, the pool and the engine; answers protocol messages."""

    def __init__(self, engine: Engine, config: Config, outputs: Outputs) -> None:
        self.engine, self.config, self.outputs = engine, config, outputs
        jobs = config.jobs
        self.queue = JobQueue(
            jobs.max_queue, jobs.max_batch, jobs.batch_window_ms / 1000, self._on_progress, self._on_finish
        )
        rate = config.output.sample_rate or engine.bundle(None).sample_rate
        self.pool_keeper = PoolKeeper(engine, config.pool, self.queue, rate)
        self.worker = Worker(self.queue, self._run_batch, self.pool_keeper.idle_work)
        self.results = Results(engine)
        self._subscribers: list[Notify] = []
        self._lock = threading.Lock()
        self._admission = threading.Lock()
        self._started = time.monotonic()
        self._renderers = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="ddbridge-render")
        self._reports: dict[str, Callable[[], object]] = {}
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

        ``binary``: the transport carries replies as ``messages.encode_frames`` (``deliver: "reply"``).
        """
        rid = None
        reply = _once(reply)
        try:
            if not isinstance(message, dict):
                message = messages.parse(message)
            rid = messages.request_id(message)
            request = messages.validate_request(message)
            if request.get("deliver") == "reply" and not binary:
                raise BadRequest("deliver 'reply' needs the ZeroMQ transport, whose replies can carry audio")
            handler = self._ops.get(request["op"])
            if handler is None:
                self._job(request, reply, notify)
                return
            self._refuse_running_id(rid)
            handler(request, reply, notify)
        except DDBridgeError as e:
            _safe(reply, messages.error_reply(rid, e))
        except Exception as e:
            log.exception("request failed")
            _safe(reply, messages.error_reply(rid, DDBridgeError(f"internal error: {type(e).__name__}: {e}")))

    def _refuse_running_id(self, rid: str) -> None:
        """``BadRequest`` when ``rid`` is a running job's id: its requester expects no other reply under it."""
        job = self.queue.get(rid)
        if job is not None and not job.finished:
            raise BadRequest(f"id '{rid}' belongs to a running job; use a new id for every request")

    def _ping(self, request: dict, reply: Reply, _notify) -> None:
        reply(messages.ok_reply(request["id"], pong=True, version=__version__, protocol=messages.PROTOCOL_VERSION))

    def _status(self, request: dict, reply: Reply, _notify) -> None:
        reply(
            messages.ok_reply(
                request["id"],
                version=__version__,
                device=self.engine.device_name,
                default_model=self.engine.default_model,
                models=list(self.engine.models),
                uptime_s=round(time.monotonic() - self._started, 3),
                **self.queue.counts(),
                pool=self.pool_keeper.pool.state(),
                **{name: report() for name, report in list(self._reports.items())},
            )
        )

    def _models(self, request: dict, reply: Reply, _notify) -> None:
        reply(messages.ok_reply(request["id"], models=self.engine.describe(), samplers=self.engine.samplers()))

    def _cancel(self, request: dict, reply: Reply, _notify) -> None:
        state = self.queue.cancel(request["job"])
        if state is None:
            raise BadRequest(f"no job with id '{request['job']}' (it may have finished long ago)")
        reply(messages.ok_reply(request["id"], job=request["job"], state=state))

    def _pool(self, request: dict, reply: Reply, _notify) -> None:
        if "size" in request:
            self.pool_keeper.pool.set_size(int(request["size"]))
        reply(messages.ok_reply(request["id"], **self.pool_keeper.pool.state()))

    def _job(self, request: dict, reply: Reply, notify: Notify | None) -> None:
        rid = request["id"]
        self.pool_keeper.note_job_request()
        fingerprint = json.dumps(request, sort_keys=True)
        with self._admission:  # checking the id and registering the job happen as one step
            existing = self.queue.get(rid)
            if existing is not None:
                if existing.fingerprint == fingerprint:
                    self._attach(existing, request, reply, notify)  # a client resending after a timeout
                    return
                if not existing.finished:
                    raise BadRequest(f"id '{rid}' belongs to a running job; use a new id for every request")
            order = prepare(request, self.engine, self.config.output, self.outputs)
            if notify is not None:
                order.listeners.append((notify, not order.wait))
            priority = request.get("priority", "interactive")
            candidates = self.pool_keeper.take(order)
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
            reply(messages.ok_reply(rid, job=rid, state=job.state))

    def sound(self, request: dict, deliver: Callable[[Sound | DDBridgeError], None]) -> None:
        """One new sound kept in memory, not written: ``request`` is a ``generate`` request (``op`` and
        ``count`` implied, ``priority`` defaults to ``audition``).

        Served from the pool when it can be, else queued (cancel it by its id like any job).
        ``deliver`` is called once, possibly on another thread, with the ``Sound`` or the error.
        """
        deliver = _once(deliver)
        try:
            request = messages.validate_request({"op": "generate", "priority": "audition", **request, "count": 1})
            self.pool_keeper.note_job_request()
            with self._admission:
                if self.queue.get(request["id"]) is not None:
                    raise BadRequest(f"id '{request['id']}' is already in use; use a new id for every request")
                order = prepare(request, self.engine, self.config.output, self.outputs)
                order.in_memory = True
                candidates = self.pool_keeper.take(order)
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
            deliver(self.results.sound(order, replace(order.work, seeds=(candidate.seed,)), candidate.audio, ready))
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
            reply(messages.ok_reply(job.id, job=job.id, state=job.state))

    def _final_reply(self, job: Job) -> dict:
        if job.state == "done" and job.data.deliver_reply:
            files = [dict(entry) for entry in job.result]
            if not all("wav" in entry for entry in files):
                return messages.error_reply(
                    job.id, Unavailable(f"the audio of job '{job.id}' is no longer held; ask again with a new id")
                )
            return messages.ok_reply(job.id, job=job.id, state="done", files=files, from_pool=job.data.from_pool)
        if job.state == "done":
            return messages.ok_reply(job.id, job=job.id, state="done", files=job.result, from_pool=job.data.from_pool)
        return messages.error_reply(job.id, job.error or DDBridgeError("job ended without a result"))

    def _serve_from_pool(self, job: Job, candidates: list[Candidate], reply: Reply) -> None:
        order: Order = job.data
        order.from_pool = True
        order.listeners.clear()  # the reply itself carries the files
        work = replace(order.work, seeds=tuple(c.seed for c in candidates))
        finished = self.pool_keeper.serve(order, candidates)
        try:
            files = self.results.files(order, work, np.stack([c.audio for c in candidates]), finished)
        except DDBridgeError as e:
            self.queue.fail(job, e)
        else:
            self.queue.finish(job, files)  # subscribers hear "done"; the reply carries the files
        _safe(reply, self._final_reply(job))

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
                self.queue.finish(job, self.results.sound(order, order.work, items[0]))
            else:
                self.queue.finish(job, self.results.files(order, order.work, items))
        except DDBridgeError as e:
            self.queue.fail(job, e)
        except Exception as e:
            log.exception("writing the files of job %s failed", job.id)
            self.queue.fail(job, DDBridgeError(f"internal error: {type(e).__name__}: {e}"))

    # -- events ---------------------------------------------------------------------------------

    def _on_progress(self, job: Job) -> None:
        self._emit(job, messages.event("progress", job.id, progress=round(job.progress, 4)), final=False)

    def _on_finish(self, job: Job) -> None:
        if job.state == "done":
            files = [{k: v for k, v in entry.items() if k != "wav"} for entry in job.result]
            ev = messages.event("done", job.id, files=files)
        else:
            ev = messages.event("error", job.id, error=messages.error_body(job.error or DDBridgeError("failed")))
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
