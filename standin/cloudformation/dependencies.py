"""The order CloudFormation creates a template's resources in: what each refers to (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``) or names in ``DependsOn``."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def creation_order(resources: Mapping[str, dict]) -> list[str]:
    """Logical ids, each after what it refers to or ``DependsOn``; a cycle is a ValidationError."""
    names = set(resources)
    needs: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else list(depends)
        needs[name] = (references(resource.get("Properties") or {}, names) | set(depends)) & names
        needs[name].discard(name)
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
