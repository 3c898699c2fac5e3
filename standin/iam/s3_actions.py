"""The IAM action of an S3 REST request: S3 names its actions by method, bucket or object, and subresource
(`PUT /bucket?logging` is `s3:PutBucketLogging`, `HEAD /bucket/key` is `s3:GetObject`), not by operation.

The bucket and key come from the path (path-style, as the SDKs address a custom endpoint) or from a
virtual-host name (``bucket.s3.region.amazonaws.com``, as the proxy forwards it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote

# Subresources in the order S3 reads them; the first one present names the operation.
_SUBRESOURCES = (
    "uploadId", "uploads", "delete", "versions", "logging", "tagging", "versioning", "policy", "acl", "cors",
    "lifecycle", "encryption", "publicAccessBlock", "notification", "location", "ownershipControls",
    "object-lock", "website", "replication", "accelerate", "requestPayment", "attributes", "restore",
    "retention", "legal-hold", "policyStatus",
)  # fmt: skip

_BUCKET = {
    ("GET", None): "ListBucket",
    ("HEAD", None): "ListBucket",
    ("GET", "versions"): "ListBucketVersions",
    ("GET", "uploads"): "ListBucketMultipartUploads",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "logging"): "GetBucketLogging",
    ("GET", "tagging"): "GetBucketTagging",
    ("GET", "versioning"): "GetBucketVersioning",
    ("GET", "policy"): "GetBucketPolicy",
    ("GET", "policyStatus"): "GetBucketPolicyStatus",
    ("GET", "acl"): "GetBucketAcl",
    ("GET", "cors"): "GetBucketCORS",
    ("GET", "lifecycle"): "GetLifecycleConfiguration",
    ("GET", "encryption"): "GetEncryptionConfiguration",
    ("GET", "publicAccessBlock"): "GetBucketPublicAccessBlock",
    ("GET", "notification"): "GetBucketNotification",
    ("GET", "ownershipControls"): "GetBucketOwnershipControls",
    ("GET", "object-lock"): "GetBucketObjectLockConfiguration",
    ("GET", "website"): "GetBucketWebsite",
    ("GET", "replication"): "GetReplicationConfiguration",
    ("GET", "accelerate"): "GetAccelerateConfiguration",
    ("GET", "requestPayment"): "GetBucketRequestPayment",
    ("PUT", None): "CreateBucket",
    ("PUT", "logging"): "PutBucketLogging",
    ("PUT", "tagging"): "PutBucketTagging",
    ("PUT", "versioning"): "PutBucketVersioning",
    ("PUT", "policy"): "PutBucketPolicy",
    ("PUT", "acl"): "PutBucketAcl",
    ("PUT", "cors"): "PutBucketCORS",
    ("PUT", "lifecycle"): "PutLifecycleConfiguration",
    ("PUT", "encryption"): "PutEncryptionConfiguration",
    ("PUT", "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("PUT", "notification"): "PutBucketNotification",
    ("PUT", "ownershipControls"): "PutBucketOwnershipControls",
    ("PUT", "object-lock"): "PutBucketObjectLockConfiguration",
    ("PUT", "website"): "PutBucketWebsite",
    ("PUT", "replication"): "PutReplicationConfiguration",
    ("PUT", "accelerate"): "PutAccelerateConfiguration",
    ("PUT", "requestPayment"): "PutBucketRequestPayment",
    ("DELETE", None): "DeleteBucket",
    ("DELETE", "tagging"): "PutBucketTagging",
    ("DELETE", "policy"): "DeleteBucketPolicy",
    ("DELETE", "cors"): "PutBucketCORS",
    ("DELETE", "lifecycle"): "PutLifecycleConfiguration",
    ("DELETE", "encryption"): "PutEncryptionConfiguration",
    ("DELETE", "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("DELETE", "ownershipControls"): "PutBucketOwnershipControls",
    ("DELETE", "website"): "DeleteBucketWebsite",
    ("DELETE", "replication"): "PutReplicationConfiguration",
    ("POST", "delete"): "DeleteObject",
}
_OBJECT = {
    ("GET", None): "GetObject",
    ("HEAD", None): "GetObject",
    ("GET", "tagging"): "GetObjectTagging",
    ("GET", "acl"): "GetObjectAcl",
    ("GET", "attributes"): "GetObjectAttributes",
    ("GET", "uploadId"): "ListMultipartUploadParts",
    ("GET", "retention"): "GetObjectRetention",
    ("GET", "legal-hold"): "GetObjectLegalHold",
    ("PUT", None): "PutObject",
    ("PUT", "tagging"): "PutObjectTagging",
    ("PUT", "acl"): "PutObjectAcl",
    ("PUT", "uploadId"): "PutObject",
    ("PUT", "retention"): "PutObjectRetention",
    ("PUT", "legal-hold"): "PutObjectLegalHold",
    ("POST", "uploads"): "PutObject",
    ("POST", "uploadId"): "PutObject",
    ("POST", "restore"): "RestoreObject",
    ("DELETE", None): "DeleteObject",
    ("DELETE", "tagging"): "DeleteObjectTagging",
    ("DELETE", "uploadId"): "AbortMultipartUpload",
}
_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "GetObjectAcl": "GetObjectVersionAcl",
}
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?::\d+)?$"
)


def bucket_and_key(path: str, host: str) -> tuple[str, str]:
    """The bucket and key a request addresses ("" for none)."""
    virtual = _VIRTUAL_HOST.match(host or "")
    parts = unquote(path).lstrip("/")
    if virtual:
        return virtual.group("bucket"), parts
    bucket, _, key = parts.partition("/")
    return bucket, key


def s3_actions(
    method: str, path: str, host: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs one S3 REST request needs."""
    bucket, key = bucket_and_key(path, host)
    if not bucket:
        return [("s3:ListAllMyBuckets", "*")]
    sub = next((s for s in _SUBRESOURCES if s in query), None)
    table = _OBJECT if key else _BUCKET
    name = table.get((method, sub)) or table.get((method, None)) or "GetObject"
    if key and "versionId" in query:
        name = _VERSIONED.get(name, name)
    resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    pairs = [(f"s3:{name}", resource)]
    source = headers.get("x-amz-copy-source")
    if key and method == "PUT" and source:
        pairs.append(("s3:GetObject", f"arn:aws:s3:::{unquote(source).lstrip('/').split('?', 1)[0]}"))
    return pairs


def deleted_keys(body: bytes) -> list[str]:
    """The keys of a DeleteObjects request (``POST /bucket?delete``), each authorised on its own."""
    return [unquote(k.decode()) for k in re.findall(rb"<Key>(.*?)</Key>", body or b"")]
