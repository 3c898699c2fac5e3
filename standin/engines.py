"""The stand-in's engines (builds, pipelines, endpoints): the running stand-in they work for when work starts
outside a request (a git push, a stack creating a pipeline), and the state they keep per stand-in (build
runners, pipeline executions, boto3 clients, the events sent, the custom resources' response server).

A stand-in's state belongs to it: ``release(standin)`` (``StandIn.stop``) runs the engines' ``on_release``
hooks on that state and then forgets it, and a stopped stand-in is no longer the one work is bound to."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from standin import dispatch

T = TypeVar("T")

# The started stand-ins that have not stopped, the one bound last at the end: work that starts outside a
# request belongs to it. Stopping it hands that back to the one before (a test's own stand-in inside a
# session's).
_live: list[Any] = []
_lock = threading.Lock()
# Keyed by the stand-in object itself (not its id, which a later stand-in may reuse): an engine's state lives
# as long as its stand-in and is never handed to another one.
_engines: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_engines_lock = threading.RLock()
_RELEASE_HOOKS: list[Callable[[Any], None]] = []


def bind(standin: Any) -> None:
    """Make `standin` the one work is bound to (``StandIn.start`` and every runtime handler's request)."""
    if standin is None:
        return
    with _lock:
        _live[:] = [*(live for live in _live if live is not standin), standin]


def on_release(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """Run ``hook(standin)`` when `standin` stops, before its engine state is dropped (stop what it runs)."""
    _RELEASE_HOOKS.append(hook)
    return hook


def stops_with(name: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Register ``hook(state)`` for a stand-in's engine state `name` (when it was made): it runs when that
    stand-in is reset and when it stops (stop the work the state runs, forget its records)."""

    def register(hook: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(standin: Any) -> None:
            state = existing_state(standin, name)
            if state is not None:
                hook(state)

        dispatch.on_reset(run)
        on_release(run)
        return hook

    return register


def release(standin: Any) -> None:
    """`standin` stopped: its engines stop their work, its state goes, and work is no longer bound to it."""
    for hook in list(_RELEASE_HOOKS):
        hook(standin)
    with _engines_lock:
        _engines.pop(standin, None)
    with _lock:
        _live[:] = [live for live in _live if live is not standin]


def current() -> Any:
    """The stand-in bound last that still runs; RuntimeError if none does (the runtime cannot act without
    one)."""
    with _lock:
        if not _live:
            raise RuntimeError("no stand-in is running: start one (StandIn().start()) first")
        return _live[-1]


def bound() -> bool:
    """Whether a stand-in is bound (a started one that has not stopped)."""
    return bool(_live)


def install_runtime(standin: Any) -> None:
    """`standin` runs what AWS runs (pipelines start on a push or on creation); see `standin.runtime`."""
    installed: dict[str, bool] = engine_state(standin, "runtime_installed", dict)
    installed["installed"] = True


def runs_work() -> bool:
    """Whether the bound stand-in runs work that starts outside a request (its runtime is installed)."""
    with _lock:
        standin = _live[-1] if _live else None
    return standin is not None and bool(existing_state(standin, "runtime_installed"))


def engine_state(standin: Any, name: str, factory: Callable[[], T]) -> T:
    """The engine state `name` of `standin`, made with `factory` on first use and kept as long as the
    stand-in."""
    with _engines_lock:
        states = _engines.setdefault(standin, {})
        if name not in states:
            states[name] = factory()
        return states[name]


def existing_state(standin: Any, name: str) -> Any | None:
    """The engine state `name` of `standin` if it has been made, else None (for a reset or a release)."""
    with _engines_lock:
        return _engines.get(standin, {}).get(name)


def client(standin: Any, service: str, region: str) -> Any:
    """A boto3 client pointed at `standin`, made once per service and region (creating clients from several
    threads at once is not safe in boto3; using one is)."""
    clients: dict[tuple[str, str], Any] = engine_state(standin, "boto3_clients", dict)
    with _engines_lock:
        key = (service, region)
        if key not in clients:
            clients[key] = standin.client(service, region_name=region)
        return clients[key]
