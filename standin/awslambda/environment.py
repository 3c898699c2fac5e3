"""Each Lambda invocation's own environment while it runs on a thread of the stand-in's process.

On AWS every invocation runs in its own execution environment: its variables are its own. In-process, two
custom resources of one stack run at the same time, so swapping the process's ``os.environ`` would let one
see the other's variables. ``os.environ`` becomes a mapping that, on a thread inside ``invocation_env``,
reads and writes that invocation's copy, and everywhere else is the process's environment, unchanged.
botocore and urllib read ``os.environ`` when they make a client or a request, so a client made inside the
handler sees the invocation's endpoint, credentials and region. Child processes inherit the process's
environment, as before: no invocation's variables leak into them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

_LOCAL = threading.local()
_INSTALL_LOCK = threading.Lock()


class ThreadEnviron(MutableMapping[str, str]):
    """``os.environ`` with a per-thread copy for the threads running an invocation."""

    def __init__(self, process: MutableMapping[str, str]) -> None:
        self.process = process

    def _current(self) -> MutableMapping[str, str]:
        own = getattr(_LOCAL, "env", None)
        return self.process if own is None else own

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())

    def __repr__(self) -> str:
        return f"ThreadEnviron({dict(self._current())!r})"


def install() -> ThreadEnviron:
    """Put ``ThreadEnviron`` in place of ``os.environ`` (once per process)."""
    with _INSTALL_LOCK:
        if not isinstance(os.environ, ThreadEnviron):
            os.environ = ThreadEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003
        return os.environ  # type: ignore[return-value]


@contextmanager
def invocation_env(variables: Mapping[str, str]) -> Iterator[None]:
    """Within this block, this thread's ``os.environ`` is the process's environment plus ``variables``."""
    environ = install()
    outer = getattr(_LOCAL, "env", None)
    _LOCAL.env = {**dict(environ.process if outer is None else outer), **dict(variables)}
    try:
        yield
    finally:
        _LOCAL.env = outer
