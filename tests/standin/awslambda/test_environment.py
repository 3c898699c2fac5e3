"""Each Lambda invocation's environment is its own, even while others run on other threads."""

from __future__ import annotations

import os
import threading

from standin.awslambda.environment import invocation_env


def test_concurrent_invocations_each_see_their_own_variables_and_the_process_keeps_its_own() -> None:
    before = dict(os.environ)
    both_inside = threading.Barrier(2, timeout=5)
    seen: dict[str, str | None] = {}

    def run(name: str) -> None:
        with invocation_env({"STANDIN_TEST_WHO": name}):
            both_inside.wait()
            os.environ["STANDIN_TEST_WRITTEN"] = name
            both_inside.wait()
            seen[name] = os.environ.get("STANDIN_TEST_WHO")
            seen[name + "-written"] = os.environ.get("STANDIN_TEST_WRITTEN")

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(6)
    assert seen == {"one": "one", "one-written": "one", "two": "two", "two-written": "two"}
    assert "STANDIN_TEST_WHO" not in os.environ and "STANDIN_TEST_WRITTEN" not in os.environ
    assert dict(os.environ) == before
