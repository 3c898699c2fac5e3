"""IAM's evaluation as the stand-in does it: elements, wildcards, conditions and absent context keys."""

from __future__ import annotations

from typing import Any

import pytest

from standin.iam.policy_evaluation import PolicyError, Request, evaluate, matching

ROLE = "arn:aws:iam::123456789012:role/service-role/UseRole"
PASS = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/service-role/Use*"}
TO_SAGEMAKER = {"iam:PassedToService": ["sagemaker.amazonaws.com"]}


def decide(
    statements: list[dict[str, Any]], context: dict[str, list[str]] | None = None, **request: str
) -> str:
    document = {"Version": "2012-10-17", "Statement": statements}
    return evaluate(
        [document],
        Request(request.get("action", "iam:PassRole"), request.get("resource", ROLE), context or {}),
    ).decision


@pytest.mark.parametrize(
    ("case", "statements", "context", "decision"),
    [
        ("matching allow", [PASS], None, "allowed"),
        ("nothing allows", [], None, "implicitDeny"),
        ("other resource", [{**PASS, "Resource": "arn:aws:iam::*:role/Other"}], None, "implicitDeny"),
        ("other action", [{**PASS, "Action": ["iam:GetRole"]}], None, "implicitDeny"),
        ("deny wins over allow", [PASS, {**PASS, "Effect": "Deny"}], None, "explicitDeny"),
        ("action wildcard, any case", [{**PASS, "Action": "IAM:pass*"}], None, "allowed"),
        ("single-character wildcard", [{**PASS, "Action": "iam:PassRol?"}], None, "allowed"),
        ("brackets are no wildcard", [{**PASS, "Action": "iam:PassRol[e]"}], None, "implicitDeny"),
        (
            "NotAction excludes",
            [{"Effect": "Allow", "NotAction": "iam:PassRole", "Resource": "*"}],
            None,
            "implicitDeny",
        ),
        ("NotAction includes", [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}], None, "allowed"),
        (
            "NotResource",
            [{**{k: v for k, v in PASS.items() if k != "Resource"}, "NotResource": "arn:aws:s3:::*"}],
            None,
            "allowed",
        ),
        (
            "resources match case-sensitively",
            [{**PASS, "Resource": "arn:aws:iam::*:role/service-role/use*"}],
            None,
            "implicitDeny",
        ),
        (
            "a wildcard keeps to its ARN segment",
            [{**PASS, "Resource": "arn:aws:iam::*"}],
            None,
            "implicitDeny",
        ),
        (
            "the last segment holds colons and slashes",
            [{**PASS, "Resource": "arn:aws:iam::123456789012:*"}],
            None,
            "allowed",
        ),
        (
            "condition met by the context",
            [{**PASS, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}],
            TO_SAGEMAKER,
            "allowed",
        ),
        (
            "condition keys match in any case",
            [{**PASS, "Condition": {"StringEquals": {"IAM:passedToService": "sagemaker.amazonaws.com"}}}],
            TO_SAGEMAKER,
            "allowed",
        ),
        (
            "condition not met",
            [{**PASS, "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}],
            TO_SAGEMAKER,
            "implicitDeny",
        ),
        (
            "absent key: a positive operator fails",
            [{**PASS, "Condition": {"StringLike": {"iam:PassedToService": "*"}}}],
            None,
            "implicitDeny",
        ),
        (
            "absent key: a negated operator holds",
            [{**PASS, "Condition": {"StringNotEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}],
            None,
            "allowed",
        ),
        (
            "absent key: IfExists holds",
            [{**PASS, "Condition": {"ArnLikeIfExists": {"cloudformation:RoleArn": "arn:aws:iam::*:role/x"}}}],
            None,
            "allowed",
        ),
        (
            "present key: IfExists compares",
            [
                {
                    **PASS,
                    "Condition": {"StringEqualsIfExists": {"iam:PassedToService": "lambda.amazonaws.com"}},
                }
            ],
            TO_SAGEMAKER,
            "implicitDeny",
        ),
        (
            "Null true: the key is absent",
            [{**PASS, "Condition": {"Null": {"aws:ResourceTag/x": "true"}}}],
            None,
            "allowed",
        ),
        (
            "Null false: the key is absent",
            [{**PASS, "Condition": {"Null": {"aws:ResourceTag/x": "false"}}}],
            None,
            "implicitDeny",
        ),
        (
            "ForAllValues: every tag key matches",
            [{**PASS, "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["sagemaker:*"]}}}],
            {"aws:TagKeys": ["sagemaker:project-name", "sagemaker:project-id"]},
            "allowed",
        ),
        (
            "ForAllValues: one tag key does not",
            [{**PASS, "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["sagemaker:*"]}}}],
            {"aws:TagKeys": ["sagemaker:project-name", "owner"]},
            "implicitDeny",
        ),
        (
            "ForAnyValue: one tag key matches",
            [{**PASS, "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}}],
            {"aws:TagKeys": ["sagemaker:project-name", "owner"]},
            "allowed",
        ),
        (
            "ForAnyValue: absent key fails",
            [{**PASS, "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}}],
            None,
            "implicitDeny",
        ),
        (
            "ignore-case operator",
            [{**PASS, "Condition": {"StringEqualsIgnoreCase": {"aws:ResourceTag/sagemaker": "TRUE"}}}],
            {"aws:ResourceTag/sagemaker": ["true"]},
            "allowed",
        ),
        (
            "Bool and Numeric",
            [
                {
                    **PASS,
                    "Condition": {
                        "Bool": {"aws:SecureTransport": "true"},
                        "NumericLessThan": {"s3:TlsVersion": "1.3"},
                    },
                }
            ],
            {"aws:SecureTransport": ["true"], "s3:TlsVersion": ["1.2"]},
            "allowed",
        ),
        (
            "a deny whose condition holds",
            [PASS, {**PASS, "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
            {"aws:SecureTransport": ["false"]},
            "explicitDeny",
        ),
        (
            "a policy variable",
            [{**PASS, "Resource": "arn:aws:iam::*:role/service-role/${aws:PrincipalTag/role}"}],
            {"aws:PrincipalTag/role": ["UseRole"]},
            "allowed",
        ),
    ],
)
def test_evaluate(case: str, statements: list, context: dict | None, decision: str) -> None:
    assert decide(statements, context) == decision


def test_the_keys_a_matching_statement_asks_for_and_the_request_lacks_are_reported() -> None:
    statements = [
        {**PASS, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
        {**PASS, "Action": "s3:GetObject", "Condition": {"StringEquals": {"s3:ExistingObjectTag/x": "y"}}},
    ]
    decision = evaluate([{"Statement": statements}], Request("iam:PassRole", ROLE))
    assert (decision.decision, decision.missing) == ("implicitDeny", ["iam:PassedToService"])
    supplied = evaluate([{"Statement": statements}], Request("iam:PassRole", ROLE, TO_SAGEMAKER))
    assert (supplied.decision, supplied.missing) == ("allowed", [])


@pytest.mark.parametrize("operator", ["StringSortOf", "ForSomeValues:StringEquals", "NullIfExists"])
def test_an_operator_iam_does_not_know_is_refused(operator: str) -> None:
    with pytest.raises(PolicyError, match="unknown condition operator"):
        decide([{**PASS, "Condition": {operator: {"iam:PassedToService": "x"}}}], TO_SAGEMAKER)


def test_a_resource_policy_matches_its_principals() -> None:
    bucket_policy = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/seedcode/*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Admin"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/access-logs/*",
            },
        ]
    }

    def request(resource: str, principal: dict, context: dict) -> Request:
        return Request("s3:PutObject", resource, context, principal)

    other = "arn:aws:iam::123456789012:role/Other"
    admin = "arn:aws:iam::123456789012:role/Admin"
    seed = "arn:aws:s3:::b/seedcode/x.zip"
    assert matching(bucket_policy, "Deny", request(seed, {"AWS": other}, {"aws:PrincipalArn": [other]}))
    assert not matching(bucket_policy, "Deny", request(seed, {"AWS": admin}, {"aws:PrincipalArn": [admin]}))
    logs = request("arn:aws:s3:::b/access-logs/p-1/x", {"Service": "logging.s3.amazonaws.com"}, {})
    assert matching(bucket_policy, "Allow", logs)
    assert not matching(bucket_policy, "Allow", request("arn:aws:s3:::b/access-logs/x", {"AWS": other}, {}))
