"""sm-mlops' Waiter: quick first checks, waits that grow to a ceiling."""

from __future__ import annotations

from scripts.common import Waiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_a_quick_answer_is_seen_within_a_second() -> None:
    fake = FakeTime()
    answers = iter([None, None, "done"])
    waiter = Waiter("the project", sleep=fake.sleep, clock=fake.clock)
    assert waiter.until(lambda: next(answers)) == "done"
    assert fake.now < 1.5 and fake.sleeps[0] <= 0.5


def test_a_long_wait_backs_off_to_the_ceiling() -> None:
    fake = FakeTime()
    waiter = Waiter("the project", sleep=fake.sleep, clock=fake.clock)
    assert waiter.until(lambda: "done" if fake.now > 600 else None) == "done"
    assert fake.sleeps == sorted(fake.sleeps) and fake.sleeps[-1] == waiter.max_interval
    assert len(fake.sleeps) < 600 / waiter.max_interval + 15
