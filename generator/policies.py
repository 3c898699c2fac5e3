"""IAM policy documents, through awacs only. The template creates no role: its one policy is the bucket's."""

from __future__ import annotations

from awacs import s3
from awacs.aws import Bool, Condition, Deny, NumericLessThan, Policy, Principal, SecureTransport, Statement
from troposphere import GetAtt, Sub
from troposphere.s3 import Bucket

ALL_S3_ACTIONS = s3.Action("*")  # Deny only: refusing every request that fails the condition
MIN_TLS_VERSION = "1.2"


def _bucket_resources(bucket: Bucket) -> list[object]:
    return [GetAtt(bucket, "Arn"), Sub("${" + bucket.title + ".Arn}/*")]


def deny_insecure_transport(bucket: Bucket) -> Statement:
    """Refuse any request to the bucket not made over TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[ALL_S3_ACTIONS],
        Resource=_bucket_resources(bucket),
        Condition=Condition(Bool(SecureTransport, "false")),
    )


def deny_old_tls(bucket: Bucket) -> Statement:
    """Refuse requests made with TLS older than 1.2."""
    return Statement(
        Sid="DenyOutdatedTls",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[ALL_S3_ACTIONS],
        Resource=_bucket_resources(bucket),
        Condition=Condition(NumericLessThan("s3:TlsVersion", MIN_TLS_VERSION)),
    )


def artifact_bucket_policy(bucket: Bucket) -> Policy:
    """The artifact bucket's policy: TLS 1.2 or newer only."""
    return Policy(Version="2012-10-17", Statement=[deny_insecure_transport(bucket), deny_old_tls(bucket)])
