"""AWS's managed policies in the stand-in's IAM, as every account has them: `AttachRolePolicy` by an
`arn:aws:iam::aws:policy/...` ARN works, and `GetPolicy`/`GetPolicyVersion` answer their documents (moto ships
AWS's documents but loads them only when asked to)."""

from __future__ import annotations

from moto.core.config import default_user_config


def switch_on() -> None:
    """Every IAM backend made from now on holds AWS's managed policies."""
    default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True


switch_on()
