"""checkov findings the launch role makes impossible to fix, each naming the permission it lacks.

Studio's default launch role may do only what AWS's managed launch policy allows.

A skip is allowed only here and only for that reason; everything else is fixed in the template.
"""

from __future__ import annotations

VERSIONING_SKIP = (
    "Studio's default launch role has no s3:PutBucketVersioning; versioning is the bucket_versioning option "
    "for a launch role of your own"
)
LAMBDA_SKIPS = (
    (
        "CKV_AWS_115",
        "Studio's default launch role has no lambda:PutFunctionConcurrency (reserved concurrency)",
    ),
    (
        "CKV_AWS_116",
        "a dead-letter queue needs sqs:CreateQueue or sns:CreateTopic, which Studio's default launch role "
        "lacks; failures are answered to CloudFormation instead",
    ),
    (
        "CKV_AWS_117",
        "attaching the function to a VPC needs ec2:DescribeSubnets/DescribeSecurityGroups/DescribeVpcs "
        "(and a VPC to create), none of which Studio's default launch role has",
    ),
)


def checkov_skips(*skips: tuple[str, str]) -> dict[str, object]:
    """Resource Metadata telling checkov which checks to skip and why."""
    return {"checkov": {"skip": [{"id": check, "comment": comment} for check, comment in skips]}}
