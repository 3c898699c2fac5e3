"""The asset bucket `register` keeps for every product version: its settings (versioned, encrypted, no public
access, TLS only), its policy, and the objects it holds (templates and seed zips, verified by SHA-256)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scripts.common import BadInput, CommandError

PUBLIC_ACCESS_BLOCKED = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)
# What "no such setting" sounds like for each read: the setting is then absent, not an error.
SETTING_ABSENT = {
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "NoSuchBucketPolicy",
}


@dataclass(frozen=True)
class BucketSetting:
    """One setting of the asset bucket: how to read it, whether what is read will do, how to set it."""

    name: str
    read: Callable[[Any, str], Any]
    holds: Callable[[Any], bool]
    write: Callable[[Any, str], Any]


def _read(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in SETTING_ABSENT:
            return None
        raise


def _encrypted(answer: Any) -> bool:
    # Any default encryption will do: an owner who moved the bucket to a KMS key keeps it.
    rules = (answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    return any(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules)


BUCKET_SETTINGS = (
    BucketSetting(
        "encryption",
        lambda s3, b: _read(lambda: s3.get_bucket_encryption(Bucket=b)),
        _encrypted,
        lambda s3, b: s3.put_bucket_encryption(
            Bucket=b,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        ),
    ),
    BucketSetting(
        "public access block",
        lambda s3, b: _read(lambda: s3.get_public_access_block(Bucket=b)),
        lambda answer: (answer or {}).get("PublicAccessBlockConfiguration") == PUBLIC_ACCESS_BLOCKED,
        lambda s3, b: s3.put_public_access_block(
            Bucket=b, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCKED
        ),
    ),
    # ACLs off: only the bucket policy says who may write, and every object belongs to the bucket's owner.
    BucketSetting(
        "object ownership",
        lambda s3, b: _read(lambda: s3.get_bucket_ownership_controls(Bucket=b)),
        lambda answer: (
            [r.get("ObjectOwnership") for r in (answer or {}).get("OwnershipControls", {}).get("Rules", [])]
            == ["BucketOwnerEnforced"]
        ),
        lambda s3, b: s3.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        ),
    ),
    # Versions keep the bytes an overwrite replaced (what `register` repairs can be looked at afterwards).
    BucketSetting(
        "versioning",
        lambda s3, b: s3.get_bucket_versioning(Bucket=b),
        lambda answer: answer.get("Status") == "Enabled",
        lambda s3, b: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"}),
    ),
)


def ensure_bucket(s3: Any, bucket: str, region: str, *, dry_run: bool = False) -> str:
    """The asset bucket with every setting of `BUCKET_SETTINGS` in place: each is read and set when it is not,
    so a run that stopped between creating the bucket and configuring it is finished by the next."""
    settings = ", ".join(s.name for s in BUCKET_SETTINGS)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise CommandError(
                f"bucket {bucket} exists but this account cannot use it ({error})",
                field="asset bucket",
                fix="the name is per account and region; check your credentials and AWS_REGION",
            ) from error
        if dry_run:
            return f"would create (with {settings})"
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        s3.get_waiter("bucket_exists").wait(Bucket=bucket, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        for setting in BUCKET_SETTINGS:
            setting.write(s3, bucket)
        return f"created (with {settings})"
    missing = [s for s in BUCKET_SETTINGS if not s.holds(s.read(s3, bucket))]
    if not missing:
        return f"exists ({settings} in place)"
    names = ", ".join(s.name for s in missing)
    if dry_run:
        return f"exists, would set {names}"
    for setting in missing:
        setting.write(s3, bucket)
    return f"exists, repaired {names}"


ASSET_ADMIN_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::\d{12}:(?:root|(?:role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128})"
)


def check_asset_admins(arns: list[str]) -> None:
    """`--asset-admin` takes IAM role, user or root ARNs: what `aws:PrincipalArn` holds, and no wildcards."""
    for arn in arns:
        if not ASSET_ADMIN_ARN.fullmatch(arn):
            raise BadInput(
                f"{arn!r} is not an IAM role, user or root ARN",
                field="--asset-admin",
                fix="give arn:aws:iam::<account>:role/NAME (a role's ARN, not an assumed-role session's;"
                " no wildcards)",
            )


def ensure_bucket_policy(
    s3: Any, bucket: str, account: str, partition: str, asset_admins: list[str], *, dry_run: bool = False
) -> str:
    """The asset bucket's policy (TLS only; project buckets' access logs delivered; assets written by their
    administrators only), set when it differs."""
    from generator.policies import asset_bucket_policy

    wanted = json.loads(asset_bucket_policy(bucket, account, partition, asset_admins).to_json())
    try:
        current = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {"NoSuchBucketPolicy", "NoSuchBucket", "404"}:
            raise
        current = None
    what = f"TLS only, access-log delivery, assets written by {', '.join(asset_admins)} only"
    if current == wanted:
        return "policy up to date"
    if dry_run:
        return f"would set the policy ({what})"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted))
    return f"policy {'replaced' if current else 'set'} ({what})"


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def ensure_object(s3: Any, bucket: str, key: str, data: bytes, *, dry_run: bool = False) -> str:
    """The object holds exactly these bytes. What is stored is read and hashed (SHA-256), not trusted for
    existing: a key that anyone could overwrite proves nothing, and a mismatch is repaired."""
    try:
        stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {
            "404",
            "NoSuchKey",
            "NoSuchBucket",
            "NotFound",
        }:
            raise
        stored = None
    if stored is not None and hashlib.sha256(stored).digest() == hashlib.sha256(data).digest():
        return "exists (SHA-256 matches)"
    action = "upload" if stored is None else "repair"
    if dry_run:
        return f"would {action}" + ("" if stored is None else " (SHA-256 differs)")
    # S3 checks the bytes it receives against this checksum and refuses them (BadDigest) if they differ.
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        ServerSideEncryption="AES256",
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=sha256_b64(data),
    )
    return "uploaded" if stored is None else "repaired (SHA-256 differed)"


def template_url(bucket: str, region: str, key: str, dns_suffix: str = "amazonaws.com") -> str:
    """The object's virtual-hosted URL in its partition's domain (amazonaws.com.cn in China)."""
    return f"https://{bucket}.s3.{region}.{dns_suffix}/{key}"
