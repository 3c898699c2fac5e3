"""`sm-mlops project update` from one release to the next on the stand-in: the next release pins another seed
and bootstrap, and the update changes neither the seeding function nor the repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from standin_world import fast, scientist, studio_role

from generator import seeding as seeding_generator
from generator.config import VARIANTS
from generator.render import render
from scripts import projects
from scripts.common import Aws, CommandError
from scripts.projects import Names, RepoOptions
from scripts.servicecatalog import RegisterOptions, register
from seeding import assets, function
from seeding.assets import Asset


def check_in_builds(aws: Aws, names: Names) -> list[str]:
    project = f"sagemaker-{names.name}-{names.id}-git-seedcodecheckin"
    return list(aws.client("codebuild").list_builds_for_project(projectName=project)["ids"])


def invoker_properties(aws: Aws, stack: str) -> dict[str, dict[str, Any]]:
    import yaml

    body = aws.client("cloudformation").get_template(StackName=stack)["TemplateBody"]
    template = yaml.safe_load(body) if isinstance(body, str) else body
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudFormation::CustomResource"
    }


@pytest.mark.slow
def test_update_to_the_next_release_reseeds_nothing_and_keeps_the_function(
    aws: Aws,
    v1: Path,
    connection: str,
    standin: Any,
    next_release_assets: dict[str, Asset],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """~20 s: two real check-in builds at creation, none at the update."""
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    product = register(aws, options).product_id
    assert product
    standin.admin.authorize_connection(connection)
    repos = RepoOptions(
        build_repo="acme/abalone-build", deploy_repo="acme/abalone-deploy", connection_arn=connection
    )
    for repo in (repos.build_repo, repos.deploy_repo):
        standin.admin.create_repository(repo, readme=f"# {repo}\n")
    created = projects.create_project(scientist(aws), "abalone", product, repos, {}, waiter=fast())
    assert created["status"] == "CreateCompleted", created
    names = Names("abalone", created["id"])
    builds = check_in_builds(aws, names)
    assert len(builds) == 2
    heads = {repo: standin.git.head(repo, "main") for repo in (repos.build_repo, repos.deploy_repo)}
    assert all(len(standin.git.log(repo, "main")) == 2 for repo in heads)  # README, then the seed
    function_name = f"sagemaker-{names.id}-git-seedcodecheckin"
    function_before = aws.client("lambda").get_function(FunctionName=function_name)["Configuration"]
    details = aws.client("sagemaker").describe_project(ProjectName="abalone")
    provisioned = details["ServiceCatalogProvisionedProductDetails"]["ProvisionedProductId"]
    stack_name = f"SC-{aws.account}-{provisioned}"  # Service Catalog's name for the product's stack
    pinned_before = invoker_properties(aws, stack_name)

    # The next release: its checkout zips other seed and bootstrap assets, and its template pins them.
    monkeypatch.setattr(assets, "build_assets", lambda *args, **kwargs: dict(next_release_assets))
    v1.write_text(render(VARIANTS[v1.stem], next_release_assets))
    second = register(aws, options)
    capsys.readouterr()
    result = projects.update_project(aws, "abalone", {}, waiter=fast())
    answers = [line for line in capsys.readouterr().out.splitlines() if '"Status": "SUCCESS"' in line]
    assert len(answers) == 2 and all(function.UPDATE_REASON in line for line in answers), answers

    assert result["status"] == "UpdateCompleted" and result["provisioning_artifact_id"] == second.artifact_id
    assert check_in_builds(aws, names) == builds  # no build: nothing pushed over the repositories
    assert {repo: standin.git.head(repo, "main") for repo in heads} == heads
    function_after = aws.client("lambda").get_function(FunctionName=function_name)["Configuration"]
    assert (function_after["CodeSha256"], function_after["LastModified"]) == (
        function_before["CodeSha256"],
        function_before["LastModified"],
    )
    pinned_after = invoker_properties(aws, stack_name)
    for name, props in pinned_after.items():
        asset = next_release_assets["modelbuild" if "ModelBuild" in name else "modeldeploy"]
        assert (props["SeedCodeKey"], props["SeedCodeSha256"]) == (asset.key, asset.sha256)
        assert props["SeedCodeKey"] != pinned_before[name]["SeedCodeKey"]

    # A release that changed the function could not be updated to under the launch role: the stand-in refuses
    # the function's update as AWS does (so the function must never change, as the generator's tests hold).
    changed_code = seeding_generator.function_code() + "CHANGED = True\n"
    monkeypatch.setattr(seeding_generator, "function_code", lambda: changed_code)
    v1.write_text(render(VARIANTS[v1.stem], next_release_assets))
    register(aws, options)
    with pytest.raises(CommandError, match="lambda:UpdateFunctionCode") as refused:
        projects.update_project(aws, "abalone", {}, waiter=fast())
    assert "AmazonSageMakerServiceCatalogProductsLaunchRole" in str(refused.value)
    assert check_in_builds(aws, names) == builds
