"""Callbacks between the stand-in's APIs and CloudFormation types and its engines (what AWS runs).

The APIs and stacks call the module functions below at the moments AWS would react; the engines subscribe with
``subscribe("pipeline_created", callback)`` (or fill the functions in). Unsubscribed, they do nothing.
A failing subscriber is logged and never breaks the caller (a stack create, a git push).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

EVENTS = ("pipeline_created", "pipeline_updated", "pipeline_deleted", "git_pushed")
_subscribers: dict[str, list[Callable[..., Any]]] = {name: [] for name in EVENTS}
_lock = threading.Lock()


def subscribe(event: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """Call ``callback`` on ``event`` (one of ``EVENTS``); returns it, so it also works as a decorator."""
    if event not in _subscribers:
        raise ValueError(f"hooks.subscribe: unknown event {event!r}; use one of {', '.join(EVENTS)}")
    with _lock:
        if callback not in _subscribers[event]:
            _subscribers[event].append(callback)
    return callback


def unsubscribe(event: str, callback: Callable[..., Any]) -> None:
    with _lock:
        if callback in _subscribers.get(event, []):
            _subscribers[event].remove(callback)


def _emit(event: str, *args: Any) -> None:
    with _lock:
        callbacks = list(_subscribers[event])
    for callback in callbacks:
        try:
            callback(*args)
        except Exception:  # a subscriber's bug must not fail the stack or the push
            log.exception("hook %s: subscriber %r failed", event, callback)


def pipeline_created(account_id: str, region: str, name: str) -> None:
    """A CodePipeline pipeline was created by a stack (AWS starts its first execution now)."""
    _emit("pipeline_created", account_id, region, name)


def pipeline_updated(account_id: str, region: str, name: str) -> None:
    """A stack update changed a pipeline's definition."""
    _emit("pipeline_updated", account_id, region, name)


def pipeline_deleted(account_id: str, region: str, name: str) -> None:
    """A stack deleted a pipeline."""
    _emit("pipeline_deleted", account_id, region, name)


def git_pushed(full_name: str, branch: str, sha: str) -> None:
    """The local Git server accepted a push of ``branch`` of ``owner/repo`` at commit ``sha``."""
    _emit("git_pushed", full_name, branch, sha)
