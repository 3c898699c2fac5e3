"""Who made a request, as IAM knows it from the request's credentials: an assumed role's session is its role,
an access key of an IAM user is that user. Service Catalog's end-user API asks this to scope what a caller
sees to the portfolios it is a principal of."""

from __future__ import annotations

import fnmatch
import re

from standin.dispatch import Context


def caller_arns(ctx: Context) -> list[str]:
    """The IAM ARNs the request's identity answers to: the role of an assumed-role session, or the IAM user
    whose access key signed it. Empty for credentials IAM does not know (the stand-in's admin keys stand for
    an identity that is no IAM role or user, like an account's root user)."""
    key = ctx.request.access_key
    if not key:
        return []
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    partition = "aws"
    role = sts_backends[ctx.account_id][partition].get_assumed_role_from_access_key(key)
    if role is not None:
        return [str(role.role_arn)]
    user = iam_backends[ctx.account_id][partition].get_user_from_access_key_id(key)
    return [str(user.arn)] if user is not None else []


def session_arn(ctx: Context) -> str:
    """The caller as STS names it (``GetCallerIdentity``'s Arn), for messages."""
    from moto.sts.models import sts_backends

    _, arn, _ = sts_backends[ctx.account_id]["aws"].get_caller_identity(
        ctx.request.access_key or "", ctx.region
    )
    return str(arn)


def is_principal(principal: dict, arns: list[str]) -> bool:
    """Whether a portfolio principal is one of ``arns``: ``PrincipalType`` IAM names an ARN exactly;
    IAM_PATTERN an ARN without account (``arn:aws:iam:::role/NAME``) with ``*`` and ``?`` in path and name."""
    wanted = str(principal.get("PrincipalARN", ""))
    if principal.get("PrincipalType") == "IAM_PATTERN":
        return any(fnmatch.fnmatchcase(re.sub(r":iam::\d{12}:", ":iam:::", arn), wanted) for arn in arns)
    return wanted in arns
