"""The job queue and worker: priorities, backpressure, batching, cancellation, progress, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from ddbridge.daemon.jobs import Job, JobQueue, Worker
from ddbridge.protocol.errors import Busy, Cancelled, DDBridgeError, Unavailable


def test_priority_then_arrival_order():
    q = JobQueue(capacity=10)
    for name, priority in [("b1", "batch"), ("i1", "interactive"), ("a1", "audition"), ("i2", "interactive")]:
        q.submit(Job(name, priority))
    order = [q.take_batch(0.1)[0].id for _ in range(4)]
    assert order == ["a1", "i1", "i2", "b1"]
    assert q.take_batch(0.05) == []


def test_a_full_queue_is_busy_and_a_closed_one_unavailable():
    q = JobQueue(capacity=2)
    failed = []
    q.on_finish = failed.append
    q.submit(Job("a"))
    q.submit(Job("b"))
    with pytest.raises(Busy, match="full"):
        q.submit(Job("c"))
    q.close()
    assert [(j.id, j.state, type(j.error)) for j in failed] == [
        ("a", "failed", Unavailable),
        ("b", "failed", Unavailable),
    ]
    with pytest.raises(Unavailable):
        q.submit(Job("d"))


def test_jobs_with_equal_keys_share_a_batch_up_to_max_batch():
    q = JobQueue(capacity=10, max_batch=5, batch_window=0)
    q.submit(Job("x1", count=2, batch_key="x"))
    q.submit(Job("y1", count=1, batch_key="y"))
    q.submit(Job("x2", count=2, batch_key="x", priority="batch"))
    q.submit(Job("x3", count=2, batch_key="x"))
    q.submit(Job("n1", count=1, batch_key=None))
    q.submit(Job("n2", count=1, batch_key=None))
    assert [j.id for j in q.take_batch(0.1)] == ["x1", "x3"]  # x2 would pass 5 sounds
    assert [j.id for j in q.take_batch(0.1)] == ["y1"]
    assert [j.id for j in q.take_batch(0.1)] == ["n1"]  # no key: never batched
    assert [j.id for j in q.take_batch(0.1)] == ["n2"]
    assert [j.id for j in q.take_batch(0.1)] == ["x2"]


def two_clients_served_together(q: JobQueue) -> list[Job]:
    q.submit(Job("a", batch_key="k"))
    q.submit(Job("b", batch_key="k"))
    batch = q.take_batch(0.1)
    assert [j.id for j in batch] == ["a", "b"]
    return batch


def test_after_a_shared_batch_the_worker_waits_briefly_for_companions():
    q = JobQueue(capacity=10, batch_window=0.5)
    two_clients_served_together(q)
    q.submit(Job("c", batch_key="k"))
    threading.Timer(0.05, lambda: q.submit(Job("d", batch_key="k"))).start()
    started = time.monotonic()
    assert [j.id for j in q.take_batch(0.1)] == ["c", "d"]
    assert time.monotonic() - started < 0.45


def test_companions_whose_files_are_still_being_written_are_waited_for():
    q = JobQueue(capacity=10, batch_window=0.05)
    first = two_clients_served_together(q)
    assert all(q.begin_finalize(j) for j in first)
    q.finish(first[0], None)
    q.submit(Job("a2", batch_key="k"))  # a's client is back while b's file is still being written

    def b_written_then_back() -> None:
        q.finish(first[1], None)
        time.sleep(0.005)  # the reply travels, the client asks again
        q.submit(Job("b2", batch_key="k"))

    threading.Timer(0.15, b_written_then_back).start()  # past one window: writing is what it waits for
    started = time.monotonic()
    assert [j.id for j in q.take_batch(0.1)] == ["a2", "b2"]
    assert time.monotonic() - started > 0.14


def test_a_lone_client_is_never_kept_waiting():
    q = JobQueue(capacity=10, batch_window=0.5)
    q.submit(Job("a", batch_key="k"))
    (a,) = q.take_batch(0.1)
    assert q.begin_finalize(a)
    q.finish(a, None)
    q.submit(Job("a2", batch_key="k"))  # the same client, straight after its reply
    started = time.monotonic()
    assert [j.id for j in q.take_batch(0.1)] == ["a2"]
    assert time.monotonic() - started < 0.25


def test_the_wait_for_companions_is_bounded_and_survives_a_cancel():
    q = JobQueue(capacity=10, batch_window=0.05)
    stuck = two_clients_served_together(q)
    assert all(q.begin_finalize(j) for j in stuck)  # their files never finish writing
    q.submit(Job("c", batch_key="k"))
    started = time.monotonic()
    assert [j.id for j in q.take_batch(0.1)] == ["c"]
    assert 0.45 < time.monotonic() - started < 1.5  # COMPANION_WAIT_WINDOWS windows at most
    q.submit(Job("d", batch_key="k"))
    threading.Timer(0.05, lambda: q.cancel("d")).start()
    assert q.take_batch(0.1) == [] and q.get("d").state == "cancelled"
    q.submit(Job("e", batch_key="k"))
    assert [j.id for j in q.take_batch(0.1)] == ["e"]


def test_cancel_queued_running_and_finalizing_jobs():
    q = JobQueue(capacity=10)
    ended = []
    running, writing, waiting = Job("r"), Job("w"), Job("q")
    for job in (running, writing, waiting):
        q.submit(job)
        q.add_done_callback(job, ended.append)
    batch = q.take_batch(0.1) + q.take_batch(0.1)
    assert [j.id for j in batch] == ["r", "w"]
    assert q.begin_finalize(writing)
    assert q.cancel("q") == "cancelled" and waiting.state == "cancelled" and isinstance(waiting.error, Cancelled)
    assert q.cancel("r") == "cancelled" and q.should_stop([running]) and not q.begin_finalize(running)
    assert q.cancel("w") == "running"  # too late: its files are being written
    assert q.cancel("nope") is None
    q.finish(writing, ["file"])
    assert q.cancel("w") == "done" and [j.id for j in ended] == ["q", "w"]
    assert q.counts()["jobs"] == {"done": 1, "failed": 0, "cancelled": 2}  # "r" counts from its cancel reply on


def test_a_cancel_counts_as_soon_as_its_reply_says_cancelled():
    q = JobQueue()
    job = Job("r")
    q.submit(job)
    assert q.take_batch(0.1) == [job]
    assert q.cancel("r") == "cancelled"
    assert q.counts()["jobs"]["cancelled"] == 1 and job.state == "running"  # counted before its run stops
    assert q.cancel("r") == "cancelled" and q.counts()["jobs"]["cancelled"] == 1  # asking again counts nothing
    q.fail(job, Unavailable("the daemon is shutting down"))  # whatever stops its run, it ends as its reply said
    assert job.state == "cancelled" and isinstance(job.error, Cancelled)
    assert q.counts()["jobs"] == {"done": 0, "failed": 0, "cancelled": 1}


def test_a_job_served_from_the_pool_is_already_writing_and_cannot_be_cancelled():
    q = JobQueue()
    job = Job("p", state="running")
    q.record(job)
    assert q.cancel("p") == "running"
    q.finish(job, ["file"])
    assert q.cancel("p") == "done" and q.counts()["jobs"] == {"done": 1, "failed": 0, "cancelled": 0}


def test_progress_is_reported_in_steps_of_one_percent():
    heard = []
    q = JobQueue(on_progress=lambda job: heard.append(job.progress))
    job = Job("p")
    for fraction in (0.0, 0.001, 0.005, 0.02, 0.025, 0.5, 0.999, 1.0):
        q.set_progress(job, fraction)
    assert heard == [0.02, 0.5, 0.999, 1.0]


def test_worker_runs_batches_then_idle_work_and_reports_faults():
    q = JobQueue(capacity=10)
    done, idle_runs = [], []

    def run_batch(batch):
        if batch[0].id == "boom":
            raise RuntimeError("kaput")
        for job in batch:
            q.finish(job, job.id.upper())

    def idle_work():
        return (lambda: idle_runs.append(1)) if len(idle_runs) < 3 else None

    worker = Worker(q, run_batch, idle_work)
    for name in ("ok", "boom"):
        job = Job(name)
        q.submit(job)
        q.add_done_callback(job, done.append)
    worker.start()
    deadline = time.monotonic() + 5
    while (len(done) < 2 or len(idle_runs) < 3) and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop(2)
    assert [(j.id, j.state) for j in done] == [("ok", "done"), ("boom", "failed")]
    assert done[0].result == "OK" and type(done[1].error) is DDBridgeError and "kaput" in str(done[1].error)
    assert len(idle_runs) == 3
