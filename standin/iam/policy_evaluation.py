"""IAM's evaluation of policy documents for one request, as AWS documents it.

A statement applies when its `Action`/`NotAction`, `Resource`/`NotResource` (and, in a resource policy,
`Principal`/`NotPrincipal`) match and every condition holds. An explicit Deny wins over an Allow; with
neither, the request is implicitly denied. Wildcards are `*` and `?` only; actions match without regard to
case, ARNs segment by segment (a wildcard does not cross a `:` of the first five segments). Conditions are
evaluated against the keys the request supplies: a key it does not supply is absent, as in AWS (a negated
operator then holds, any other does not, `...IfExists` holds, `Null` says whether it is absent), and every
key a matching statement asks for and the request lacks is reported, as the simulator's
`MissingContextValues`. An operator IAM does not know raises `PolicyError`, as IAM refuses such a policy.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"


class PolicyError(ValueError):
    """A policy IAM would not accept (an unknown condition operator, a malformed element)."""


@dataclass(frozen=True)
class Request:
    """One request: the action, the resource's ARN, its context keys (each to one or more values) and, for a
    resource policy, who makes it (``{"AWS": arn}`` or ``{"Service": "logging.s3.amazonaws.com"}``)."""

    action: str
    resource: str = "*"
    context: Mapping[str, list[str]] = field(default_factory=dict)
    principal: Mapping[str, str] | None = None

    def values(self, key: str) -> list[str] | None:
        """The request's values of a context key (keys match without regard to case), None when absent."""
        wanted = key.lower()
        return next((list(v) for k, v in self.context.items() if k.lower() == wanted), None)


@dataclass
class Decision:
    decision: str
    matched: list[dict[str, Any]]
    missing: list[str]


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | bool | int | float) else list(value)


def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_matches(pattern: str, value: str) -> bool:
    """IAM's ARN matching (Resource and ArnLike): `*` matches everything, otherwise segment by segment."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    if len(actual) != 6:  # not an ARN (e.g. "*", the resource of an action that takes none)
        return glob_matches(pattern, value)
    if len(wanted) != 6:
        return False
    return all(glob_matches(w, a) for w, a in zip(wanted, actual, strict=True))


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _substitute(text: str, request: Request) -> str | None:
    """Policy variables (``${aws:username}``) from the request's context; None when one is absent."""
    absent = False

    def fill(match: re.Match[str]) -> str:
        nonlocal absent
        name = match.group(1)
        if name in _ESCAPES:
            return _ESCAPES[name]
        values = request.values(name)
        if not values:
            absent = True
            return ""
        return values[0]

    result = _VARIABLE.sub(fill, text)
    return None if absent else result


def _any_pattern(patterns: Iterable[str], request: Request, match: Callable[[str], bool]) -> bool:
    for pattern in patterns:
        filled = _substitute(pattern, request)
        if filled is not None and match(filled):
            return True
    return False


# --- condition operators ------------------------------------------------------------------------------------
def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime:
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text))
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _ip(actual: str, network: str) -> bool:
    return ipaddress.ip_address(actual) in ipaddress.ip_network(network, strict=False)


Compare = Callable[[str, str], bool]
# name -> (negated, compare(request value, policy value))
_OPERATORS: dict[str, tuple[bool, Compare]] = {
    "StringEquals": (False, lambda a, p: a == p),
    "StringNotEquals": (True, lambda a, p: a == p),
    "StringEqualsIgnoreCase": (False, lambda a, p: a.lower() == p.lower()),
    "StringNotEqualsIgnoreCase": (True, lambda a, p: a.lower() == p.lower()),
    "StringLike": (False, lambda a, p: glob_matches(p, a)),
    "StringNotLike": (True, lambda a, p: glob_matches(p, a)),
    "NumericEquals": (False, lambda a, p: _number(a) == _number(p)),
    "NumericNotEquals": (True, lambda a, p: _number(a) == _number(p)),
    "NumericLessThan": (False, lambda a, p: _number(a) < _number(p)),
    "NumericLessThanEquals": (False, lambda a, p: _number(a) <= _number(p)),
    "NumericGreaterThan": (False, lambda a, p: _number(a) > _number(p)),
    "NumericGreaterThanEquals": (False, lambda a, p: _number(a) >= _number(p)),
    "DateEquals": (False, lambda a, p: _date(a) == _date(p)),
    "DateNotEquals": (True, lambda a, p: _date(a) == _date(p)),
    "DateLessThan": (False, lambda a, p: _date(a) < _date(p)),
    "DateLessThanEquals": (False, lambda a, p: _date(a) <= _date(p)),
    "DateGreaterThan": (False, lambda a, p: _date(a) > _date(p)),
    "DateGreaterThanEquals": (False, lambda a, p: _date(a) >= _date(p)),
    "Bool": (False, lambda a, p: a.lower() == p.lower()),
    "BinaryEquals": (False, lambda a, p: a == p),
    "IpAddress": (False, _ip),
    "NotIpAddress": (True, _ip),
    "ArnEquals": (False, lambda a, p: arn_matches(p, a)),
    "ArnLike": (False, lambda a, p: arn_matches(p, a)),
    "ArnNotEquals": (True, lambda a, p: arn_matches(p, a)),
    "ArnNotLike": (True, lambda a, p: arn_matches(p, a)),
}


def _parse_operator(name: str) -> tuple[str, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> ("ForAnyValue", "StringLike", True)."""
    qualifier, _, operator = name.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise PolicyError(f"unknown condition operator {name}")
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    base = operator[: -len("IfExists")] if if_exists else operator
    if (base == "Null" and if_exists) or (base != "Null" and base not in _OPERATORS):
        raise PolicyError(f"unknown condition operator {name}")
    return qualifier, base, if_exists


def _key_holds(name: str, key: str, wanted: list[str], request: Request) -> bool:
    qualifier, base, if_exists = _parse_operator(name)
    actual = request.values(key)
    if base == "Null":
        return any(str(w).lower() == ("true" if actual is None else "false") for w in wanted)
    negated, compare = _OPERATORS[base]
    if actual is None:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def matches(value: str) -> bool:
        return _any_pattern(wanted, request, lambda p: compare(value, p))

    if qualifier == "ForAllValues":
        return all(matches(v) != negated for v in actual)
    if qualifier == "ForAnyValue":
        return any(matches(v) != negated for v in actual)
    return not any(matches(v) for v in actual) if negated else any(matches(v) for v in actual)


def _conditions_hold(condition: Mapping[str, Any], request: Request) -> bool:
    return all(
        _key_holds(name, key, [str(w) for w in _listed(values)], request)
        for name, block in condition.items()
        for key, values in block.items()
    )


def _condition_keys(condition: Mapping[str, Any]) -> set[str]:
    return {key for block in condition.values() for key in block}


# --- statements ---------------------------------------------------------------------------------------------
def _element(statement: Mapping[str, Any], name: str, match: Callable[[str], bool]) -> bool:
    """`Action`/`NotAction`-style pairs: the element matches, or its Not- form does not."""
    if name in statement:
        return any(match(str(v)) for v in _listed(statement[name]))
    if f"Not{name}" in statement:
        return not any(match(str(v)) for v in _listed(statement[f"Not{name}"]))
    return False


def _resource_matches(pattern: str, request: Request) -> bool:
    filled = _substitute(pattern, request)
    return filled is not None and arn_matches(filled, request.resource)


def _principal_matches(principal: Any, request: Request) -> bool:
    who = request.principal or {}
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise PolicyError(f'a Principal must be "*" or a map, not {principal!r}')
    for kind, values in principal.items():
        for value in _listed(values):
            if kind == "AWS" and "AWS" in who:
                arn, account = who["AWS"], who["AWS"].split(":")[4] if who["AWS"].count(":") >= 5 else ""
                if value in ("*", arn, account, f"arn:aws:iam::{account}:root"):
                    return True
            elif kind in who and value in ("*", who[kind]):
                return True
    return False


def _targets(statement: Mapping[str, Any], request: Request) -> bool:
    """The statement is about this action, resource and principal (its conditions aside)."""
    if not _element(statement, "Action", lambda p: glob_matches(p, request.action, ignore_case=True)):
        return False
    if not _element(statement, "Resource", lambda p: _resource_matches(p, request)):
        return False
    if request.principal is None or ("Principal" not in statement and "NotPrincipal" not in statement):
        return True
    if "Principal" in statement:
        return _principal_matches(statement["Principal"], request)
    return not _principal_matches(statement["NotPrincipal"], request)


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement") or []
    return [dict(found)] if isinstance(found, Mapping) else list(found)


def matching(document: Mapping[str, Any], effect: str, request: Request) -> list[dict[str, Any]]:
    """The statements of `effect` in one document that apply to this request."""
    return [
        s
        for s in statements(document)
        if s.get("Effect") == effect
        and _targets(s, request)
        and _conditions_hold(s.get("Condition") or {}, request)
    ]


def evaluate(documents: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    """One request's decision over a principal's policies: explicit Deny, then Allow, else implicit deny."""
    allows: list[dict[str, Any]] = []
    denies: list[dict[str, Any]] = []
    missing: set[str] = set()
    for document in documents:
        for statement in statements(document):
            if not _targets(statement, request):
                continue
            condition = statement.get("Condition") or {}
            missing |= {k for k in _condition_keys(condition) if request.values(k) is None}
            if not _conditions_hold(condition, request):
                continue
            (denies if statement.get("Effect") == "Deny" else allows).append(statement)
    if denies:
        return Decision(EXPLICIT_DENY, denies, sorted(missing))
    return Decision(ALLOWED if allows else IMPLICIT_DENY, allows, sorted(missing))
