"""Who may assume a role: the trust policy of a role that AWS services act as."""

from __future__ import annotations

from typing import Any


def trust_policy(services: list[str], accounts: list[str] | None = None) -> dict[str, Any]:
    """A trust policy that lets each of `services` (``codebuild.amazonaws.com``, ...) assume the role, and
    the principals of `accounts` whose own policies allow them ``sts:AssumeRole`` on it."""
    principal: dict[str, Any] = {"Service": services}
    if accounts:
        principal["AWS"] = [f"arn:aws:iam::{account}:root" for account in accounts]
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }
