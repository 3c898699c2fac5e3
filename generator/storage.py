"""The project's artifact bucket: encrypted, private, TLS only, retained on delete."""

from __future__ import annotations

from troposphere import Ref, Sub, Template
from troposphere.s3 import (
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LoggingConfiguration,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from generator import constants as c
from generator.config import TemplateConfig
from generator.policies import artifact_bucket_policy
from generator.scanners import VERSIONING_SKIP, checkov_skips


def _encryption(config: TemplateConfig) -> BucketEncryption:
    if config.kms_key_arn:
        default = ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=config.kms_key_arn)
        return BucketEncryption(
            ServerSideEncryptionConfiguration=[
                ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, BucketKeyEnabled=True)
            ]
        )
    # SSE-S3: the default launch role has s3:PutEncryptionConfiguration but no kms: action.
    default = ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    return BucketEncryption(
        ServerSideEncryptionConfiguration=[ServerSideEncryptionRule(ServerSideEncryptionByDefault=default)]
    )


def add_storage(template: Template, config: TemplateConfig) -> Bucket:
    """Add the artifact bucket (both pipelines' artifact store, SageMaker pipeline outputs) and its policy."""
    bucket = Bucket(
        c.ARTIFACT_BUCKET,
        BucketName=Sub(c.BUCKET_NAME),
        BucketEncryption=_encryption(config),
        PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
        ),
        # Access logs go to the project's own asset bucket (not to itself: logging into the logged bucket
        # logs its own log deliveries forever); the launch role has s3:PutBucketLogging on sagemaker-*.
        LoggingConfiguration=LoggingConfiguration(
            DestinationBucketName=Sub(c.ASSET_BUCKET_NAME), LogFilePrefix=Sub(c.ACCESS_LOG_PREFIX)
        ),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )
    if config.bucket_versioning:
        bucket.VersioningConfiguration = VersioningConfiguration(Status="Enabled")
    else:
        bucket.Metadata = checkov_skips(("CKV_AWS_21", VERSIONING_SKIP))
    template.add_resource(bucket)
    template.add_resource(
        BucketPolicy(
            c.ARTIFACT_BUCKET_POLICY, Bucket=Ref(bucket), PolicyDocument=artifact_bucket_policy(bucket)
        )
    )
    return bucket
