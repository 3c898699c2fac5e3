"""The running stand-in, for work that starts outside a request (a git push, a stack creating a pipeline)."""

from __future__ import annotations

import threading
from typing import Any

_current: Any = None
_lock = threading.Lock()


def bind(standin: Any) -> None:
    """Remember `standin` (called by `standin.runtime.install` and by every runtime handler's request)."""
    global _current
    if standin is None:
        return
    with _lock:
        _current = standin


def current() -> Any:
    """The stand-in last bound; RuntimeError if none is (the runtime cannot act without one)."""
    if _current is None:
        raise RuntimeError("no stand-in is running: call standin.runtime.install(standin) after start()")
    return _current


def bound() -> bool:
    """Whether a stand-in is bound (work started outside a request runs only then)."""
    return _current is not None


_clients: dict[tuple[int, str, str], Any] = {}
_clients_lock = threading.Lock()


def client(standin: Any, service: str, region: str) -> Any:
    """A boto3 client pointed at `standin`, made once per service and region (creating clients from several
    threads at once is not safe in boto3; using one is)."""
    key = (id(standin), service, region)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = standin.client(service, region_name=region)
        return _clients[key]
