"""No policy this project writes allows a wildcard action: the template's, the asset bucket's, and the roles
`sm-mlops bootstrap` creates (their trust policies, and the projects family's copies of AWS's policies). AWS's
managed policies, attached as they are, are not ours."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.config import TemplateConfig
from generator.policies import asset_bucket_policy
from generator.render import variants
from generator.template import build_template
from permissions.trust import trust_policy
from scripts import iam_roles
from scripts.common import CommandError

ACCOUNT = "123456789012"


def statements(node: Any) -> list[dict[str, Any]]:
    """Every policy statement anywhere in a document (a template, a policy)."""
    if isinstance(node, dict):
        if "Statement" in node:
            found = node["Statement"]
            return list(found) if isinstance(found, list) else [found]
        return [s for value in node.values() for s in statements(value)]
    if isinstance(node, list):
        return [s for value in node for s in statements(value)]
    return []


def _template(config: TemplateConfig) -> dict[str, Any]:
    return dict(json.loads(build_template(config).to_json()))


def written() -> dict[str, list[dict[str, Any]]]:
    """Each source of policies, by name, with its statements."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, config in variants(all_conditions_on=True).items():
        out[f"template {name}"] = statements(_template(config))
    admins = [f"arn:aws:iam::{ACCOUNT}:role/Admin"]
    out["asset bucket"] = statements(json.loads(asset_bucket_policy("b", ACCOUNT, "aws", admins).to_json()))
    for family in iam_roles.FAMILY_PREFIX:
        for kind in iam_roles.KINDS:
            role = iam_roles.role_name(family, kind)
            out[f"bootstrap {role} trust"] = trust_policy(iam_roles.TRUSTED[kind])["Statement"]
    for name, document in written_copies().items():
        out[f"bootstrap {name}"] = document["Statement"]
    return out


def aws_document(source: str) -> dict[str, Any]:
    """AWS's managed policy document, as moto ships it (its copy of AWS's)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data)[source.rsplit("/", 1)[-1]]["Document"])


def written_copies() -> dict[str, dict[str, Any]]:
    """The policies bootstrap writes for the projects family: AWS's with the family's role names."""
    family = "projects"
    return {
        iam_roles.family_policy_name(source, family): iam_roles.for_family(aws_document(source), family)
        for kind in iam_roles.KINDS
        for source in iam_roles.AWS_POLICIES[kind]
        if source not in iam_roles.FAMILY_NEUTRAL
    }


WRITTEN = written()


def wildcard_allows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bad = []
    for statement in found:
        if statement["Effect"] != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if "NotAction" in statement or any("*" in a for a in actions):
            bad.append(statement)
    return bad


def test_the_check_reaches_allow_statements() -> None:
    """The sources hold Allow statements to judge (the template alone holds only Denies)."""
    allows = [s for found in WRITTEN.values() for s in found if s["Effect"] == "Allow"]
    assert len(allows) > 50
    assert any(name.startswith("bootstrap") for name, found in WRITTEN.items() if found)


@pytest.mark.parametrize("source", sorted(WRITTEN))
def test_no_allow_statement_has_a_wildcard_action(source: str) -> None:
    assert WRITTEN[source], f"{source}: no statement found"
    assert not wildcard_allows(WRITTEN[source])


def test_a_wildcard_allow_is_caught() -> None:
    introduced = written_copies()["AmazonSageMakerAdmin-ProjectsServiceRolePolicy"]["Statement"]
    introduced.append({"Effect": "Allow", "Action": ["cloudformation:*"], "Resource": ["*"]})
    assert wildcard_allows(introduced) == [introduced[-1]]
    assert wildcard_allows([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}])


def test_bootstrap_refuses_to_write_a_copy_that_grants_a_whole_service() -> None:
    granting = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}
    with pytest.raises(CommandError, match="sagemaker:\\*"):
        iam_roles.for_family(granting, "projects")


def test_the_projects_copies_name_only_their_own_family() -> None:
    """Each copy passes and names the projects family's roles only, and keeps AWS's actions."""
    for name, document in written_copies().items():
        text = json.dumps(document)
        assert "ServiceCatalogProducts" not in text and "AmazonSageMakerServiceCatalog*" not in text, name
        assert "AmazonSageMakerProjects" in text or "PassRole" not in text, name
    launch = written_copies()["AmazonSageMakerAdmin-ProjectsServiceRolePolicy"]
    source = aws_document(iam_roles.AWS_POLICIES["Launch"][0])
    assert [s["Action"] for s in launch["Statement"]] == [s["Action"] for s in source["Statement"]]
