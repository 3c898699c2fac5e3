"""EventBridge delivery: an event matched against every enabled rule of a bus and sent to the rules' targets.

moto's EventBridge cannot deliver to CodePipeline. Here an event is matched with moto's own pattern matcher;
a CodePipeline target starts that pipeline (trigger `CloudWatchEvent`), other targets go through moto's
delivery. SageMaker's "Model Package State Change" (`standin.sagemaker.model_package_events`) and `PutEvents`
(`standin.events.api`) come through here.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

from moto.backends import get_backend

from standin import engines
from standin.codepipeline.engine import start_pipeline
from standin.dispatch import on_reset

log = logging.getLogger(__name__)

_emitted_lock = threading.Lock()


def _sent(standin: Any) -> list[dict[str, Any]]:
    return engines.engine_state(standin, "events_sent", list)


def emitted(standin: Any) -> list[dict[str, Any]]:
    """Every event `standin` built since its last reset, oldest first (for tests and for a person debugging a
    rule)."""
    with _emitted_lock:
        return list(_sent(standin))


def deliver(account_id: str, region: str, event: dict[str, Any], bus_name: str = "default") -> list[str]:
    """Send `event` to the targets of every enabled rule whose pattern matches; returns those reached."""
    with _emitted_lock:
        _sent(engines.current()).append(event)
    backend = get_backend("events")[account_id][region]
    # moto types events as its own TypedDict; ours carry the same keys (version, id, detail-type, ...).
    message: Any = event
    bus = backend.event_buses.get(bus_name.rsplit("/", 1)[-1])
    reached: list[str] = []
    if bus is None:
        return reached
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(message):
            continue
        for target in list(rule.targets):
            arn = target["Arn"]
            parts = arn.split(":")
            if len(parts) >= 6 and parts[2] == "codepipeline":
                name = parts[5]
                try:
                    start_pipeline(parts[4], parts[3], name, "CloudWatchEvent", rule.arn)
                except KeyError:
                    log.warning("rule %s: target pipeline %s does not exist", rule.name, name)
                    continue
            else:
                single = copy.copy(rule)
                single.targets = [target]
                try:
                    single.send_to_targets(message)
                except NotImplementedError:
                    log.warning("rule %s: the stand-in cannot deliver to %s", rule.name, arn)
                    continue
            reached.append(arn)
    return reached


@on_reset
def _forget(standin: Any) -> None:
    with _emitted_lock:
        _sent(standin).clear()
