"""`project create|update|status|delete`, `model approve`, `deploy promote`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.stub import Stubber
from sm_fakes import ACCOUNT, STUDIO_ROLE, World, no_sleep

from scripts import cleanup, cli, models, projects
from scripts.common import BadInput, CommandError, NotFound
from scripts.projects import Names, RepoOptions
from scripts.servicecatalog import RegisterOptions, register

CONNECTION = (
    f"arn:aws:codestar-connections:us-east-1:{ACCOUNT}:connection/0a1b2c3d-1111-2222-3333-444455556666"
)
PIPELINE_DEFINITION = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []})


def registered(world: World, template: Path) -> str:
    result = register(
        world.aws, RegisterOptions(template_file=template, studio_role_arns=[STUDIO_ROLE]), sleep=no_sleep
    )
    assert result.product_id
    return result.product_id


REPOS = RepoOptions(
    build_repo="acme/abalone-build", deploy_repo="acme/abalone-deploy", connection_arn=CONNECTION
)


@pytest.mark.parametrize(
    ("case", "repos", "explicit", "field"),
    [
        (
            "repo without owner",
            RepoOptions("abalone-build", "acme/d", CONNECTION),
            {},
            "ModelBuildCodeRepositoryFullname",
        ),
        (
            "bad connection arn",
            RepoOptions("acme/b", "acme/d", "arn:aws:s3:::nope"),
            {},
            "CodestarConnectionArn",
        ),
        (
            "branch with a space",
            RepoOptions("acme/b", "acme/d", CONNECTION, deploy_branch="my branch"),
            {},
            "Branch",
        ),
        ("toggle not true/false", REPOS, {"ModelBuildCodeRepositoryIsSeedcodeRequired": "yes"}, "Seedcode"),
        ("unknown parameter", REPOS, {"NoSuchParameter": "x"}, "NoSuchParameter"),
    ],
)
def test_bad_parameters_are_refused_before_any_create_call(
    world: World, v1: Path, case: str, repos: RepoOptions, explicit: dict[str, str], field: str
) -> None:
    product = registered(world, v1)
    before = stored_objects(world)
    assert before["sagemaker-mlops-assets-123456789012-us-east-1"]  # what register uploaded
    with pytest.raises(BadInput) as caught:
        projects.create_project(world.aws, "abalone", product, repos, explicit)
    assert field in str(caught.value)
    assert "CreateProject" not in world.projects.calls
    assert stored_objects(world) == before  # no bucket, no object, no new version of one


def stored_objects(world: World) -> dict[str, list[tuple[str, str]]]:
    """Every bucket with each object version in it (key, ETag)."""
    s3 = world.aws.client("s3")
    return {
        bucket["Name"]: sorted(
            (v["Key"], v["ETag"]) for v in s3.list_object_versions(Bucket=bucket["Name"]).get("Versions", [])
        )
        for bucket in s3.list_buckets()["Buckets"]
    }


def test_good_parameters_reach_create_project_in_the_v1_form(world: World, v1: Path) -> None:
    product = registered(world, v1)
    template = projects.artifact_template(
        world.aws, product, projects.active_artifact(world.aws.client("servicecatalog"), product)["Id"]
    )
    values = projects.parameters_for(template, REPOS, {})
    projects.validate(template, "abalone", values)  # no problem
    assert values["ModelBuildCodeRepositoryUrl"] == "https://github.com/acme/abalone-build.git"
    assert values["ModelDeployCodeRepositoryIsSeedcodeRequired"] == "true"
    assert values["ModelBuildCodeRepositoryCodestarConnectionArn"] == CONNECTION


def test_creating_again_reports_the_project_instead_of_failing(world: World, v1: Path) -> None:
    product = registered(world, v1)
    values = projects.parameters_for(projects.parse_template(v1.read_bytes()), REPOS, {})
    world.projects.add("abalone", "p-aaaaaaaaaaaa", product, world.sc.artifacts[product][0]["Id"], values)
    result = projects.create_project(world.aws, "abalone", product, REPOS, {})
    assert (result["id"], result["status"]) == ("p-aaaaaaaaaaaa", "CreateCompleted")
    assert "CreateProject" not in world.projects.calls


def test_creating_over_a_failed_project_says_to_delete_it_first(world: World, v1: Path) -> None:
    product = registered(world, v1)
    values = projects.parameters_for(projects.parse_template(v1.read_bytes()), REPOS, {})
    world.projects.add("abalone", "p-aaaaaaaaaaaa", product, world.sc.artifacts[product][0]["Id"], values)
    world.projects.projects["abalone"]["ProjectStatus"] = "CreateFailed"
    with pytest.raises(CommandError) as caught:
        projects.create_project(world.aws, "abalone", product, REPOS, {})
    assert "CreateFailed" in str(caught.value) and "project delete abalone" in str(caught.value.fix)
    assert "CreateProject" not in world.projects.calls


def test_a_bad_project_name_exits_2_before_any_call(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["project", "create", "9-starts-with-a-digit", "--build-repo", "a/b", "--deploy-repo", "a/c"]
    )
    assert code == 2
    assert "ProjectName" in capsys.readouterr().err
    assert world.sc.calls == [] and world.projects.calls == []


def test_update_moves_to_the_newest_version_keeping_the_parameters(world: World, v1: Path) -> None:
    product = registered(world, v1)
    first = world.sc.artifacts[product][0]["Id"]
    values = projects.parameters_for(projects.parse_template(v1.read_bytes()), REPOS, {})
    world.projects.add("abalone", "p-aaaaaaaaaaaa", product, first, values)
    v1.write_text(v1.read_text() + "\n# a new version\n")
    registered(world, v1)
    result = projects.update_project(world.aws, "abalone", {})
    newest = world.sc.artifacts[product][1]["Id"]
    assert result["provisioning_artifact_id"] == newest and result["status"] == "UpdateCompleted"
    details = world.projects.projects["abalone"]["ServiceCatalogProvisioningDetails"]
    assert details["ProvisioningArtifactId"] == newest
    assert {p["Key"]: p["Value"] for p in details["ProvisioningParameters"]} == values
    assert projects.update_project(world.aws, "abalone", {})["status"] == "unchanged"


# --- delete: exactly this project's resources ---------------------------------------------------------


def make_project_resources(world: World, names: Names) -> None:
    """What a project leaves outside its own stack: deploy stacks, the seed's pipeline, models, the bucket."""
    cfn, sagemaker, s3 = (world.aws.client(s) for s in ("cloudformation", "sagemaker", "s3"))
    world.projects.add(names.name, names.id)
    for stage in ("staging", "prod"):
        body = {
            "Resources": {
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{names.id}-{stage}"}}
            }
        }
        cfn.create_stack(StackName=names.deploy_stack(stage), TemplateBody=json.dumps(body))
    sagemaker.create_pipeline(
        PipelineName=names.sagemaker_pipeline,
        PipelineDefinition=PIPELINE_DEFINITION,
        RoleArn=STUDIO_ROLE,
    )
    sagemaker.create_model_package_group(ModelPackageGroupName=names.model_package_group)
    for _ in range(2):
        sagemaker.create_model_package(
            ModelPackageGroupName=names.model_package_group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    s3.create_bucket(Bucket=names.bucket)
    s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=names.bucket, Key="pipeline/model.tar.gz", Body=body)
    s3.delete_object(Bucket=names.bucket, Key="pipeline/model.tar.gz")  # leaves a delete marker


def existing(world: World, names: Names) -> set[str]:
    return {row["kind"] for row in cleanup.plan_delete(world.aws, names)}


def test_delete_removes_exactly_the_project_and_nothing_of_its_neighbour(world: World) -> None:
    mine, neighbour = Names("abalone", "p-aaaaaaaaaaaa"), Names("abalone2", "p-bbbbbbbbbbbb")
    make_project_resources(world, mine)
    make_project_resources(world, neighbour)
    everything = {
        "deploy stack",
        "project",
        "sagemaker pipeline",
        "model version",
        "model package group",
        "bucket",
    }
    assert existing(world, mine) == everything

    planned = cleanup.delete_project(world.aws, "abalone", dry_run=True)
    assert {r["action"] for r in planned} == {"would delete"}
    assert existing(world, mine) == everything

    rows = cleanup.delete_project(world.aws, "abalone")
    kinds = [r["kind"] for r in rows]
    assert kinds.index("deploy stack") < kinds.index("project") < kinds.index("bucket") == len(kinds) - 1
    assert kinds.count("model version") == 2
    assert existing(world, Names("abalone", mine.id)) == set()
    assert existing(world, neighbour) == everything
    with pytest.raises(NotFound):
        cleanup.delete_project(world.aws, "abalone")


def test_a_delete_that_stopped_half_way_is_finished_with_the_project_id(world: World) -> None:
    names = Names("abalone", "p-aaaaaaaaaaaa")
    make_project_resources(world, names)
    del world.projects.projects["abalone"]  # the project went; its pipeline, models and bucket did not
    with pytest.raises(NotFound) as caught:
        cleanup.delete_project(world.aws, "abalone")
    assert "--project-id" in str(caught.value.fix)
    with pytest.raises(BadInput, match="not a project id"):
        cleanup.delete_project(world.aws, "abalone", project_id="sagemaker-project-p-aaaaaaaaaaaa")
    rows = cleanup.delete_project(world.aws, "abalone", project_id=names.id)
    assert "project" not in {r["kind"] for r in rows} and "bucket" in {r["kind"] for r in rows}
    assert existing(world, names) == set()


def test_a_project_id_that_is_not_the_projects_is_refused(world: World) -> None:
    make_project_resources(world, Names("abalone", "p-aaaaaaaaaaaa"))
    with pytest.raises(BadInput, match="has id p-aaaaaaaaaaaa"):
        cleanup.delete_project(world.aws, "abalone", project_id="p-bbbbbbbbbbbb")


# --- model approve, deploy promote, status ----------------------------------------------------------------


def test_model_approve_approves_the_newest_version_or_the_one_asked(world: World) -> None:
    names = Names("abalone", "p-aaaaaaaaaaaa")
    make_project_resources(world, names)
    result = models.approve_model(world.aws, "abalone")
    assert (result["version"], result["action"]) == (2, "approved")
    assert models.approve_model(world.aws, "abalone", version=2)["action"] == "already approved"
    with pytest.raises(BadInput, match="--version"):
        models.approve_model(world.aws, "abalone", version=7)
    statuses = {
        p["ModelPackageVersion"]: p["ModelApprovalStatus"]
        for p in world.aws.client("sagemaker").list_model_packages(
            ModelPackageGroupName=names.model_package_group
        )["ModelPackageSummaryList"]
    }
    assert statuses == {1: "PendingManualApproval", 2: "Approved"}


def test_deploy_promote_answers_the_waiting_approval(world: World) -> None:
    world.projects.add("abalone", "p-aaaaaaaaaaaa")
    pipeline = "sagemaker-abalone-p-aaaaaaaaaaaa-modeldeploy"
    state = {
        "pipelineName": pipeline,
        "stageStates": [
            {
                "stageName": "DeployStaging",
                "actionStates": [
                    {"actionName": "DeployResourcesStaging", "latestExecution": {"status": "Succeeded"}},
                    {
                        "actionName": "ApproveDeployment",
                        "latestExecution": {"status": "InProgress", "token": "tok-1"},
                    },
                ],
            }
        ],
    }
    codepipeline = world.aws.client("codepipeline")
    with Stubber(codepipeline) as stub:
        stub.add_response("get_pipeline_state", state, {"name": pipeline})
        stub.add_response(
            "put_approval_result",
            {},
            {
                "pipelineName": pipeline,
                "stageName": "DeployStaging",
                "actionName": "ApproveDeployment",
                "result": {"summary": "Approved with sm-mlops deploy promote", "status": "Approved"},
                "token": "tok-1",
            },
        )
        assert models.promote(world.aws, "abalone")["status"] == "Approved"
        stub.add_response(
            "get_pipeline_state", {"pipelineName": pipeline, "stageStates": []}, {"name": pipeline}
        )
        with pytest.raises(NotFound, match="nothing waits for approval"):
            models.promote(world.aws, "abalone")
        stub.assert_no_pending_responses()


def test_status_shows_model_versions_and_missing_pipelines(world: World) -> None:
    make_project_resources(world, Names("abalone", "p-aaaaaaaaaaaa"))
    stub = Stubber(world.aws.client("codepipeline"))
    for _ in range(2):
        stub.add_client_error("get_pipeline_state", "PipelineNotFoundException", "no such pipeline")
    stub.activate()
    status = projects.project_status(world.aws, "abalone")
    assert [m["approval"] for m in status["model_versions"]] == ["PendingManualApproval"] * 2
    assert {p["status"] for p in status["pipelines"]} == {"missing"}
    assert status["hourly_cost_usd"] == 0 and "pricing" in status["price_source"]


def test_endpoint_rows_price_the_instances() -> None:
    class FakeSageMaker:
        def describe_endpoint(self, EndpointName: str) -> dict[str, str]:
            return {"EndpointConfigName": "c", "EndpointStatus": "InService"}

        def describe_endpoint_config(self, EndpointConfigName: str) -> dict[str, object]:
            return {"ProductionVariants": [{"InstanceType": "ml.m5.large", "InitialInstanceCount": 2}]}

    (row,) = projects._endpoint_rows(FakeSageMaker(), "staging", "abalone-staging")
    assert row["hourly_usd"] == round(2 * projects.HOURLY_PRICE_USD["ml.m5.large"], 3)


@pytest.mark.parametrize(
    ("case", "physical_id", "name"),
    [
        (
            "arn, as CloudFormation keeps it",
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint/abalone-staging",
            "abalone-staging",
        ),
        ("plain name", "abalone-prod", "abalone-prod"),
    ],
)
def test_endpoint_name_from_the_stack_resource(case: str, physical_id: str, name: str) -> None:
    assert projects.endpoint_name(physical_id) == name


def test_dry_run_checks_as_create_does_and_sends_nothing(world: World, v1: Path) -> None:
    from scripts import project_plan

    product = registered(world, v1)
    artifact = world.sc.artifacts[product][0]["Id"]
    plan = project_plan.plan_create(world.aws, "abalone", REPOS, {}, product_id=product)
    details = plan["request"]["ServiceCatalogProvisioningDetails"]
    assert (details["ProductId"], details["ProvisioningArtifactId"]) == (product, artifact)
    assert f"--product-id {product} --provisioning-artifact-id {artifact}" in plan["command"]
    assert {p["Key"]: p["Value"] for p in details["ProvisioningParameters"]} == projects.parameters_for(
        projects.parse_template(v1.read_bytes()), REPOS, {}
    )
    with pytest.raises(BadInput) as caught:
        project_plan.plan_create(world.aws, "abalone", RepoOptions("abalone-build", "acme/d", CONNECTION), {})
    assert "ModelBuildCodeRepositoryFullname" in str(caught.value)
    assert "CreateProject" not in world.projects.calls and not world.projects.projects


def test_dry_run_without_ids_shows_placeholders_and_its_command_plans_the_same(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["project", "create", "abalone", "--build-repo", "acme/b", "--deploy-repo", "acme/d"]
    assert cli.main(["--output", "json", *args, "--connection-arn", CONNECTION, "--dry-run"]) == 0
    plan = json.loads(capsys.readouterr().out)
    details = plan["request"]["ServiceCatalogProvisioningDetails"]
    assert details["ProductId"] == "<product-id>" and "--product-id" not in plan["command"]
    again = plan["command"].split()[1:]  # no value here needs quoting
    assert cli.main(["--output", "json", *again, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == plan
