"""Who may assume a role: the trust policy of a role that AWS services act as."""

from __future__ import annotations

from typing import Any


def trust_policy(services: list[str]) -> dict[str, Any]:
    """A trust policy that lets each of `services` (``codebuild.amazonaws.com``, ...) assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}],
    }
