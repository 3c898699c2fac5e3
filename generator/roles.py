"""Role family names → role ARNs. The template creates no IAM role: it references the ones Studio creates.

A launch role may pass only the roles of its own family: one family per template.
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Sub

from generator import constants as c


def role_name(family: str, kind: str) -> str:
    """The role's name with its path, e.g. service-role/AmazonSageMakerServiceCatalogProductsCodeBuildRole."""
    if kind not in c.ROLE_KINDS:
        raise ValueError(f"role kind {kind!r} is unknown; use one of {', '.join(c.ROLE_KINDS)}")
    return c.SERVICE_ROLE_PATH.lstrip("/") + c.role_name(family, kind)


def role_arn(family: str, kind: str, explicit: Mapping[str, str] | None = None) -> Sub | str:
    """The ARN of one role: explicit if given, else the family's role in this account and partition."""
    if explicit and kind in explicit:
        return explicit[kind]
    return Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{role_name(family, kind)}")
