"""The stand-in's engines (builds, pipelines, endpoints): the running stand-in they work for when work starts
outside a request (a git push, a stack creating a pipeline), and the state they keep per stand-in (build
runners, pipeline executions, boto3 clients)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_current: Any = None
_lock = threading.Lock()
# Keyed by the stand-in object itself (not its id, which a later stand-in may reuse): an engine's state lives
# as long as its stand-in and is never handed to another one.
_engines: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_engines_lock = threading.RLock()


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


def engine_state(standin: Any, name: str, factory: Callable[[], T]) -> T:
    """The engine state `name` of `standin`, made with `factory` on first use and kept as long as the
    stand-in."""
    with _engines_lock:
        states = _engines.setdefault(standin, {})
        if name not in states:
            states[name] = factory()
        return states[name]


def engine_states(name: str) -> list[Any]:
    """The state `name` of every live stand-in that has one (for a reset, which reaches every stand-in)."""
    with _engines_lock:
        return [states[name] for states in list(_engines.values()) if name in states]


def client(standin: Any, service: str, region: str) -> Any:
    """A boto3 client pointed at `standin`, made once per service and region (creating clients from several
    threads at once is not safe in boto3; using one is)."""
    clients: dict[tuple[str, str], Any] = engine_state(standin, "boto3_clients", dict)
    with _engines_lock:
        key = (service, region)
        if key not in clients:
            clients[key] = standin.client(service, region_name=region)
        return clients[key]
