"""State changes inside the stand-in, so that a wait wakes when what it waits for may have happened instead of
polling on a timer.

What changes what the APIs show calls `notify()`: the dispatch layer after every request that may write, and
the engines at their own state changes (a build's phase, a pipeline step's status, a stack's event, a
CodePipeline action). A waiter reads `version()`, checks its condition, and if it does not hold yet calls
`wait(seen, timeout)`, which returns as soon as anything changed since `seen` (or at `timeout`, for changes
made where nobody notifies: another process, a file on disk).
"""

from __future__ import annotations

import threading

_changed = threading.Condition()
_version = 0


def notify() -> None:
    """Something that an API shows has changed: wake every waiter."""
    global _version
    with _changed:
        _version += 1
        _changed.notify_all()


def version() -> int:
    """The count of changes so far; pass it to `wait` after checking a condition."""
    return _version


def wait(seen: int, timeout: float) -> int:
    """Block until a change after `seen` or until `timeout` seconds pass; returns the current count."""
    with _changed:
        _changed.wait_for(lambda: _version != seen, timeout)
        return _version
