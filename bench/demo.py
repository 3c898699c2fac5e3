"""`make demo`'s wall time, step by step (the demo's own step timings)."""

from __future__ import annotations

import io
import time


def run() -> list[tuple[str, str]]:
    from demo import DemoFailed
    from demo import run as run_demo

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
    rows = [(name, f"{seconds:.1f} s") for name, seconds in result.steps]
    rows.append(("total wall time", f"{time.perf_counter() - began:.1f} s"))
    return rows
