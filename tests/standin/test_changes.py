"""Waits wake when the stand-in's state changes, not on a timer."""

from __future__ import annotations

import threading
import time

import pytest

from standin import changes
from standin.testing import wait_for


def test_a_wait_wakes_at_a_change_long_before_its_interval():
    state: dict[str, bool] = {}

    def later() -> None:
        time.sleep(0.2)
        state["done"] = True
        changes.notify()

    threading.Thread(target=later).start()
    began = time.monotonic()
    assert wait_for(lambda: state.get("done"), timeout=30, what="the change", interval=20) is True
    assert time.monotonic() - began < 5


def test_without_a_change_a_wait_still_checks_again_after_its_interval():
    state = {"checks": 0}

    def check() -> bool:
        state["checks"] += 1
        return state["checks"] >= 3

    assert wait_for(check, timeout=30, interval=0.05) is True


def test_a_wait_that_times_out_names_what_it_waited_for():
    with pytest.raises(AssertionError, match=r"timed out after 0.2 s waiting for the thing"):
        wait_for(lambda: None, timeout=0.2, what="the thing", interval=10)


def test_a_write_request_wakes_waiters_and_a_read_does_not(standin):
    s3 = standin.client("s3")
    seen = changes.version()
    s3.list_buckets()
    assert changes.version() == seen
    s3.create_bucket(Bucket="woken")
    assert changes.version() > seen


def test_a_builds_phases_wake_a_wait_on_its_status(tmp_path):
    from standin.codebuild import BuildRunner

    runner = BuildRunner(tmp_path / "work", cache_dir=tmp_path / "cache")
    spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 0.3\n"
    build = runner.start({"name": "p", "source": {"buildspec": spec}})
    began = time.monotonic()
    wait_for(lambda: build.done.is_set(), timeout=60, what="the build", interval=30)
    assert build.status == "SUCCEEDED" and time.monotonic() - began < 20
