"""The runner's I/O loop: operations handed to it from other threads all run, however their
hand-overs interleave with the loop's own wake-ups."""

from __future__ import annotations

import threading
import time

from imptsh.sim.squirrel.eventloop import IoLoop

WAIT = 20.0


def test_every_deferred_operation_runs_while_many_threads_hand_them_over() -> None:
    loop = IoLoop(lambda: None, name="test-io")
    done = threading.Condition()
    count = 0
    threads, per_thread = 4, 20000

    def one() -> None:
        nonlocal count
        with done:
            count += 1
            done.notify_all()

    def hand_over() -> None:
        for n in range(per_thread):
            loop.defer(one)
            if n % 500 == 0:
                time.sleep(0)  # let the loop catch up now and then: wake-ups and drains interleave

    try:
        workers = [threading.Thread(target=hand_over) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        # A last one after everything else: it must run too (a lost wake-up strands it).
        loop.defer(one)
        with done:
            assert done.wait_for(lambda: count == threads * per_thread + 1, WAIT), count
    finally:
        loop.stop()
