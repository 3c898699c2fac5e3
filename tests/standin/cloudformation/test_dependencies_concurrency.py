"""Independent resources are created at the same time; a resource waits for what it needs."""

from __future__ import annotations

import threading
import time

from standin.cloudformation.dependencies import lock_released, moto_state, run_when_ready


def test_independent_resources_run_at_the_same_time_and_dependents_after() -> None:
    needs = {"A": set(), "B": set(), "C": {"A", "B"}}
    started: dict[str, float] = {}
    finished: dict[str, float] = {}
    both_running = threading.Barrier(2, timeout=5)

    def create(name: str) -> bool:
        started[name] = time.monotonic()
        if name in ("A", "B"):
            both_running.wait()  # deadlocks (BrokenBarrierError) if A and B run one after the other
        finished[name] = time.monotonic()
        return True

    assert run_when_ready(["A", "B", "C"], needs, create) is None
    assert started["C"] >= max(finished["A"], finished["B"])


def test_after_a_failure_nothing_new_starts() -> None:
    needs = {"A": set(), "B": {"A"}}
    ran: list[str] = []

    def create(name: str) -> bool:
        ran.append(name)
        return name != "A"

    assert run_when_ready(["A", "B"], needs, create) == "A"
    assert ran == ["A"]


def test_a_custom_resource_waiting_outside_moto_lets_the_others_go() -> None:
    other_done = threading.Event()

    def waits_for_the_other() -> None:
        with moto_state(), lock_released():
            assert other_done.wait(5), "the other resource could not take the lock"

    def the_other() -> None:
        with moto_state():
            other_done.set()

    first = threading.Thread(target=waits_for_the_other)
    first.start()
    time.sleep(0.05)
    second = threading.Thread(target=the_other)
    second.start()
    first.join(6)
    second.join(6)
    assert other_done.is_set()
