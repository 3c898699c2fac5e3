"""IAM policy documents, through awacs only.

The template creates no role: its one policy is the artifact bucket's. The asset bucket, which
`sm-mlops register` makes (not the template), takes its policy from here too.
"""

from __future__ import annotations

from awacs import s3
from awacs.aws import (
    Allow,
    ArnLike,
    ArnNotLike,
    Bool,
    Condition,
    Deny,
    NumericLessThan,
    Policy,
    Principal,
    SecureTransport,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Sub
from troposphere.s3 import Bucket

ALL_S3_ACTIONS = s3.Action("*")  # Deny only: refusing every request that fails the condition
MIN_TLS_VERSION = "1.2"


def _bucket_resources(bucket: Bucket) -> list[object]:
    return [GetAtt(bucket, "Arn"), Sub("${" + bucket.title + ".Arn}/*")]


def _deny_all_s3(sid: str, bucket: Bucket, condition: Condition) -> Statement:
    return Statement(
        Sid=sid,
        Effect=Deny,
        Principal=Principal("*"),
        Action=[ALL_S3_ACTIONS],
        Resource=_bucket_resources(bucket),
        Condition=condition,
    )


def deny_insecure_transport(bucket: Bucket) -> Statement:
    """Refuse any request to the bucket not made over TLS."""
    return _deny_all_s3("DenyInsecureTransport", bucket, Condition(Bool(SecureTransport, "false")))


def deny_old_tls(bucket: Bucket) -> Statement:
    """Refuse requests made with TLS older than 1.2."""
    return _deny_all_s3(
        "DenyOutdatedTls", bucket, Condition(NumericLessThan("s3:TlsVersion", MIN_TLS_VERSION))
    )


def artifact_bucket_policy(bucket: Bucket) -> Policy:
    """The artifact bucket's policy: TLS 1.2 or newer only."""
    return Policy(Version="2012-10-17", Statement=[deny_insecure_transport(bucket), deny_old_tls(bucket)])


LOG_DELIVERY = "logging.s3.amazonaws.com"
ACCESS_LOG_KEYS = "access-logs/*"  # each project's artifact bucket logs under access-logs/<project-id>/


# The keys whose bytes every project's check-in runs: the seed zips, the bootstrap zips, the templates.
ASSET_KEYS = ("seedcode/*", "seeding/*", "templates/*")
# What replaces or removes those bytes. ACL calls are left out: the bucket enforces object ownership (ACLs
# off), and turning that back on is one of the bucket-level calls denied below.
ASSET_OBJECT_WRITES = (s3.PutObject, s3.DeleteObject, s3.DeleteObjectVersion)
# What would undo the protection or let S3 remove the objects: the policy itself, versioning, lifecycle
# expiry, object ownership, and the bucket.
ASSET_BUCKET_WRITES = (
    s3.PutBucketPolicy,
    s3.DeleteBucketPolicy,
    s3.PutBucketVersioning,
    s3.PutLifecycleConfiguration,
    s3.PutBucketOwnershipControls,
    s3.DeleteBucket,
)


def asset_bucket_policy(
    bucket_name: str, account_id: str, partition: str = "aws", asset_admins: list[str] | None = None
) -> Policy:
    """The asset bucket's policy: TLS only, S3 log delivery from this account's project buckets, and the
    assets written by their administrators only.

    Each project's artifact bucket sends its access logs here (not to itself, which would log its own log
    writes forever); S3 delivers them as the logging service, which the policy must allow, for the project
    buckets of this account only.

    Every project's roles may write to `sagemaker-*` buckets, so without the deny one commit to any model
    build repository could replace the zips that every later project's check-in runs. `asset_admins` are IAM
    ARNs as `aws:PrincipalArn` gives them (a role's ARN, not a session's); the account's root user can always
    delete a bucket policy, should this list lock everyone out.
    """
    bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
    statements = [
        Statement(
            Sid="DenyInsecureTransport",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[ALL_S3_ACTIONS],
            Resource=[bucket_arn, f"{bucket_arn}/*"],
            Condition=Condition(Bool(SecureTransport, "false")),
        ),
        Statement(
            Sid="AllowProjectBucketAccessLogs",
            Effect=Allow,
            Principal=Principal("Service", LOG_DELIVERY),
            Action=[s3.PutObject],
            Resource=[f"{bucket_arn}/{ACCESS_LOG_KEYS}"],
            Condition=Condition(
                [
                    StringEquals("aws:SourceAccount", account_id),
                    ArnLike("aws:SourceArn", f"arn:{partition}:s3:::sagemaker-project-*"),
                ]
            ),
        ),
    ]
    if asset_admins:
        admins = ArnNotLike("aws:PrincipalArn", sorted(set(asset_admins)))
        statements += [
            Statement(
                Sid="DenyAssetWritesExceptByAssetAdmins",
                Effect=Deny,
                Principal=Principal("*"),
                Action=list(ASSET_OBJECT_WRITES),
                Resource=[f"{bucket_arn}/{keys}" for keys in ASSET_KEYS],
                Condition=Condition(admins),
            ),
            Statement(
                Sid="DenyBucketChangesExceptByAssetAdmins",
                Effect=Deny,
                Principal=Principal("*"),
                Action=list(ASSET_BUCKET_WRITES),
                Resource=[bucket_arn],
                Condition=Condition(admins),
            ),
        ]
    return Policy(Version="2012-10-17", Statement=statements)
