"""The job queue: priorities (audition > interactive > batch), bounded size, cancellation, progress,
and batching of queued jobs that can share one forward pass.

The queue knows nothing of models or files: a job carries an opaque ``data`` payload and a
``batch_key``; jobs with equal keys may be taken together. A single ``Worker`` thread takes
batches and hands them to a runner, and runs background work (the pool) while the queue is empty.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ddbridge.protocol.errors import Busy, Cancelled, DDBridgeError, Unavailable

log = logging.getLogger(__name__)

RANK = {"audition": 0, "interactive": 1, "batch": 2}
FINISHED = ("done", "failed", "cancelled")
KEEP_FINISHED = 2048
PROGRESS_STEP = 0.01
RECENT_BATCHES = 2
# A batch waits for companions at most this many batch windows while the last batch's files are written.
COMPANION_WAIT_WINDOWS = 10


@dataclass(eq=False)
class Job:
    """One request's work. ``state`` moves queued -> running -> done | failed | cancelled."""

    id: str
    priority: str = "interactive"
    count: int = 1
    batch_key: Hashable | None = None
    data: Any = None
    fingerprint: str = ""
    state: str = "queued"
    progress: float = 0.0
    result: Any = None
    error: DDBridgeError | None = None
    cancel_requested: bool = False
    finalizing: bool = False
    seq: int = 0
    _callbacks: list[Callable[[Job], None]] = field(default_factory=list, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class JobQueue:
    """Thread-safe priority queue of jobs with a registry of recent jobs by id."""

    def __init__(
        self,
        capacity: int = 64,
        max_batch: int = 16,
        batch_window: float = 0.005,
        on_progress: Callable[[Job], None] | None = None,
        on_finish: Callable[[Job], None] | None = None,
    ) -> None:
        self.capacity, self.max_batch, self.batch_window = capacity, max_batch, batch_window
        self.on_progress, self.on_finish = on_progress, on_finish
        self._queued: list[Job] = []
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._closed = False
        self._recent_batches: deque[int] = deque([1], maxlen=RECENT_BATCHES)
        self._writing = 0  # computed jobs whose files are being written
        self._last_written = 0.0
        self._totals = {"done": 0, "failed": 0, "cancelled": 0}

    @property
    def closed(self) -> bool:
        return self._closed

    # -- submitting and looking up ------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Queue ``job``; ``Busy`` when the queue is full, ``Unavailable`` once closed."""
        with self._cond:
            if self._closed:
                raise Unavailable("the daemon is shutting down")
            if len(self._queued) >= self.capacity:
                raise Busy(f"the job queue is full ({self.capacity} jobs waiting); retry shortly")
            job.seq, job.state = next(self._seq), "queued"
            self._queued.append(job)
            self._register(job)
            self._cond.notify_all()

    def record(self, job: Job) -> None:
        """Register a job that skips the queue (served from the pool): its files are already being
        written, so it can no longer be cancelled."""
        with self._cond:
            self._register(job)
            if job.finished:
                self._totals[job.state] += 1
            else:
                job.finalizing = True
                self._writing += 1

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def add_done_callback(self, job: Job, callback: Callable[[Job], None]) -> None:
        """Call ``callback(job)`` once ``job`` has finished (at once if it already has)."""
        with self._cond:
            if not job.finished:
                job._callbacks.append(callback)
                return
        callback(job)

    def _register(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._jobs.move_to_end(job.id)
        while len(self._jobs) > KEEP_FINISHED:
            oldest = next(iter(self._jobs.values()))
            if not oldest.finished:
                break
            self._jobs.popitem(last=False)

    # -- cancelling ----------------------------------------------------------------------------

    def cancel(self, job_id: str) -> str | None:
        """Cancel a job; return its state after the request ("cancelled" means it will write nothing), or None."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.state == "queued":
                self._queued.remove(job)
            elif job.state == "running" and not job.finalizing:
                if not job.cancel_requested:
                    job.cancel_requested = True
                    self._totals["cancelled"] += 1  # counted once the reply says so, not when the run stops
                return "cancelled"
            else:
                return job.state
        self.fail(job, Cancelled(f"job '{job_id}' was cancelled"))
        return "cancelled"

    def should_stop(self, batch: list[Job]) -> bool:
        """True when every job of a running batch was cancelled or the queue is closing."""
        with self._cond:
            return self._closed or all(j.cancel_requested for j in batch)

    def begin_finalize(self, job: Job) -> bool:
        """Claim a computed job for writing its files; False if it was cancelled meanwhile."""
        with self._cond:
            if job.cancel_requested or job.finished:
                return False
            job.finalizing = True
            self._writing += 1
            return True

    # -- taking work ---------------------------------------------------------------------------

    def has_waiting(self) -> bool:
        with self._cond:
            return bool(self._queued)

    def take_batch(self, timeout: float) -> list[Job]:
        """The next job by priority plus queued jobs with the same batch key (up to ``max_batch`` sounds).

        When recent batches held several jobs (concurrent clients), waits for companions: while the
        last batch's files are being written and ``batch_window`` after (their clients come back
        once they have their replies), else up to ``batch_window`` for as many as recent batches
        held, so that clients served together stay together. Returns [] after ``timeout`` with
        nothing queued.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._queued or self._closed, timeout) or self._closed:
                return []
            batch = self._gather()
            expected = max(self._recent_batches)
            started = time.monotonic()
            limit = started + COMPANION_WAIT_WINDOWS * self.batch_window
            while expected > 1 and batch[0].batch_key is not None and self._room(batch):
                left = self._companion_deadline(len(batch) < expected, started, limit) - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
                if self._closed or not self._queued:  # shutting down, or the waiting job was cancelled
                    return []
                batch = self._gather()
            for job in batch:
                self._queued.remove(job)
                job.state = "running"
            self._recent_batches.append(len(batch))
            return batch

    def _companion_deadline(self, short: bool, started: float, limit: float) -> float:
        """Until when a batch waits: while files are being written (up to ``limit``), then one window
        after the last was written, or, while ``short`` of the expected size, one window after ``started``."""
        if self._writing:
            return limit
        return min(max(started if short else 0.0, self._last_written) + self.batch_window, limit)

    def _room(self, batch: list[Job]) -> bool:
        return sum(j.count for j in batch) < self.max_batch

    def _gather(self) -> list[Job]:
        ordered = sorted(self._queued, key=lambda j: (RANK.get(j.priority, len(RANK)), j.seq))
        first = ordered[0]
        batch, total = [first], first.count
        if first.batch_key is None:
            return batch
        for job in ordered[1:]:
            if job.batch_key == first.batch_key and total + job.count <= self.max_batch:
                batch.append(job)
                total += job.count
        return batch

    # -- reporting -----------------------------------------------------------------------------

    def set_progress(self, job: Job, fraction: float) -> None:
        """Record progress; listeners hear of steps of at least 1 % (and of completion)."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction < 1.0 and fraction - job.progress < PROGRESS_STEP:
            return
        job.progress = fraction
        if self.on_progress:
            self.on_progress(job)

    def finish(self, job: Job, result: Any) -> None:
        """Mark ``job`` done with ``result`` and run its callbacks."""
        self._end(job, "done", result=result)

    def fail(self, job: Job, error: DDBridgeError) -> None:
        """Mark ``job`` failed (or cancelled, for ``Cancelled``) and run its callbacks."""
        self._end(job, "cancelled" if isinstance(error, Cancelled) else "failed", error=error)

    def _end(self, job: Job, state: str, result: Any = None, error: DDBridgeError | None = None) -> None:
        with self._cond:
            if job.finished:
                return
            if job.cancel_requested:  # its cancel was answered "cancelled" and counted: it ends so, whatever stopped it
                state, result = "cancelled", None
                error = error if isinstance(error, Cancelled) else Cancelled(f"job '{job.id}' was cancelled")
            else:
                self._totals[state] += 1
            job.state, job.result, job.error = state, result, error
            if job.finalizing:
                self._writing -= 1
                self._last_written = time.monotonic()
                self._cond.notify_all()
            callbacks, job._callbacks = job._callbacks, []
        for callback in [*callbacks, *([self.on_finish] if self.on_finish else [])]:
            try:
                callback(job)
            except Exception:
                log.exception("job callback failed")

    def counts(self) -> dict:
        with self._cond:
            running = sum(1 for j in self._jobs.values() if j.state == "running")
            return {
                "queue": {"queued": len(self._queued), "running": running, "capacity": self.capacity},
                "jobs": dict(self._totals),
            }

    def close(self) -> None:
        """Refuse new jobs, fail the queued ones with ``Unavailable`` and ask running ones to stop."""
        with self._cond:
            self._closed = True
            queued, self._queued = self._queued, []
            self._cond.notify_all()
        for job in queued:
            self.fail(job, Unavailable("the daemon is shutting down"))


class Worker:
    """The one thread that runs batches (``run_batch``) and, while idle, background work (``idle_work``)."""

    def __init__(
        self,
        queue: JobQueue,
        run_batch: Callable[[list[Job]], None],
        idle_work: Callable[[], Callable[[], None] | None] | None = None,
    ) -> None:
        self.queue, self.run_batch, self.idle_work = queue, run_batch, idle_work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ddbridge-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            batch = self.queue.take_batch(timeout=0.1)
            if batch:
                self._run(batch)
                continue
            task = self.idle_work() if self.idle_work else None
            if task is not None:
                try:
                    task()
                except Exception:
                    log.exception("background work failed")
                    self._stop.wait(1.0)

    def _run(self, batch: list[Job]) -> None:
        try:
            self.run_batch(batch)
        except DDBridgeError as e:
            for job in batch:
                self.queue.fail(job, e)
        except Exception as e:
            log.exception("batch failed")
            for job in batch:
                self.queue.fail(job, DDBridgeError(f"internal error: {type(e).__name__}: {e}"))
