"""`make demo`'s wall time, step by step, beside each step's floor: the same work done directly, without the
stand-in, the pipelines and the builds around it, and the ratio of the two (the stand-in's overhead).

Floors: creating the project seeds both repositories at once, so its floor is one check-in of the modelbuild
seed alone; a model build's floor is the definition build (the SDK's import included) plus the seed's local
run (preprocess, train, evaluate). The other steps have none. Floors are measured after the demo, one at a
time, on the same machine; the load average is printed with them (the machine may be shared).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable

# Step name prefix (as `demo.walkthrough` names its steps) → what its floor is.
FLOORS: dict[str, str] = {
    "step 2:": "checkin",
    "the first model build": "model build",
    "watch the build pipeline": "model build",
}


def _floors() -> dict[str, tuple[float, str]]:
    from bench.modelbuild import definition_build, local_run
    from bench.seedcode import checkin_times, median

    definition = definition_build()
    local = local_run()[0]
    measures: dict[str, Callable[[], tuple[float, str]]] = {
        "checkin": lambda: (median(checkin_times(3)[0]), "one seed check-in alone"),
        "model build": lambda: (
            definition + local,
            f"definition build {definition:.1f} s + local run {local:.1f} s",
        ),
    }
    return {kind: measure() for kind, measure in measures.items()}


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def run() -> list[tuple[str, str]]:
    from demo import DemoFailed
    from demo import run as run_demo

    load_before = _load()
    began = time.perf_counter()
    out = io.StringIO()  # the demo's progress is not the bench's output
    try:
        result = run_demo(out=out)
    except DemoFailed as error:
        return [
            (
                "demo",
                f"failed at {error.step!r} after {time.perf_counter() - began:.0f} s: {str(error)[:200]}",
            )
        ]
    total = time.perf_counter() - began
    load_after = _load()
    floors = _floors()
    rows = []
    matched: set[str] = set()
    for name, seconds in result.steps:
        prefix = next((p for p in FLOORS if name.startswith(p)), None)
        if prefix is None:
            rows.append((name, f"{seconds:.1f} s"))
            continue
        matched.add(prefix)
        floor, what = floors[FLOORS[prefix]]
        rows.append((name, f"{seconds:.1f} s; floor {floor:.1f} s ({what}); {seconds / floor:.1f}x"))
    for prefix in sorted(set(FLOORS) - matched):
        rows.append((f"(no step starts with {prefix!r})", "its floor was not compared"))
    rows.append(("total wall time", f"{total:.1f} s"))
    rows.append(("machine", f"before: {load_before}; after: {load_after}"))
    return rows
