"""The order CloudFormation creates a template's resources in: what each refers to (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``) or names in ``DependsOn``. As on AWS, resources that do not depend on each other are created at
the same time (``run_when_ready``); what changes moto's state is serialised by ``moto_state``."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from moto.cloudformation.exceptions import ValidationError


def references(value: Any, names: set[str]) -> set[str]:
    """Logical ids of ``names`` that ``value`` refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and item in names:
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item[0] if isinstance(item, list) else str(item).split(".", 1)[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                for ref in re.findall(r"\$\{([^!}][^}]*)\}", str(text)):
                    if ref.split(".", 1)[0] in names:
                        found.add(ref.split(".", 1)[0])
                if isinstance(item, list) and len(item) > 1:
                    found |= references(item[1], names)
            else:
                found |= references(item, names)
    elif isinstance(value, list):
        for item in value:
            found |= references(item, names)
    return found


def dependencies(resources: Mapping[str, dict]) -> dict[str, set[str]]:
    """For each logical id, the logical ids it refers to or names in ``DependsOn``."""
    names = set(resources)
    needs: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else list(depends)
        needs[name] = (references(resource.get("Properties") or {}, names) | set(depends)) & names
        needs[name].discard(name)
    return needs


def creation_order(resources: Mapping[str, dict]) -> list[str]:
    """Logical ids, each after what it refers to or ``DependsOn``; a cycle is a ValidationError."""
    names = set(resources)
    needs = dependencies(resources)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(names):
        ready = sorted(n for n in names - done if needs[n] <= done)
        if not ready:
            cycle = sorted(names - done)
            raise ValidationError(message=f"Circular dependency between resources: {cycle}")
        order.extend(ready)
        done.update(ready)
    return order


def run_when_ready(
    order: list[str], needs: Mapping[str, set[str]], create: Callable[[str], bool], name: str = "resource"
) -> str | None:
    """Call ``create`` for each of ``order`` on its own thread as soon as all it needs were created, as
    CloudFormation does; returns the first that failed (``create`` returned False), else None. After a
    failure nothing new starts, and what is running finishes (CloudFormation cancels it; here it completes,
    and the rollback deletes it)."""
    ready = threading.Condition()
    pending = list(order)
    done: set[str] = set()
    running: set[str] = set()
    failed: list[str] = []

    def work(logical_id: str) -> None:
        ok = False
        try:
            ok = create(logical_id)
        finally:
            with ready:
                running.discard(logical_id)
                (done.add if ok else failed.append)(logical_id)
                ready.notify_all()

    with ready:
        while True:
            if not failed:
                for logical_id in [n for n in pending if needs.get(n, set()) <= done]:
                    pending.remove(logical_id)
                    running.add(logical_id)
                    threading.Thread(
                        target=work, args=(logical_id,), name=f"{name}-{logical_id}", daemon=True
                    ).start()
            if not running:
                return failed[0] if failed else None
            ready.wait()


_MOTO_LOCK = threading.Lock()
_HOLDER = threading.local()


@contextmanager
def moto_state() -> Iterator[None]:
    """Hold the stack engine's lock while this thread creates or deletes through moto (not thread-safe)."""
    if getattr(_HOLDER, "held", False):
        yield
        return
    with _MOTO_LOCK:
        _HOLDER.held = True
        try:
            yield
        finally:
            _HOLDER.held = False


@contextmanager
def lock_released() -> Iterator[None]:
    """Let other resources go on while this thread waits outside moto (a custom resource's function)."""
    if not getattr(_HOLDER, "held", False):
        yield
        return
    _HOLDER.held = False
    _MOTO_LOCK.release()
    try:
        yield
    finally:
        _MOTO_LOCK.acquire()
        _HOLDER.held = True
