"""`project create|update|status|delete`, `model approve`, `deploy promote`, on the stand-in's projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from botocore.stub import Stubber
from standin_world import (
    create,
    fast,
    no_sleep,
    record_calls,
    register_model_version,
    repos,
    scientist,
    studio_role,
)

from scripts import cleanup, cli, models, projects
from scripts.common import Aws, BadInput, CommandError, NotFound
from scripts.projects import Names, RepoOptions
from scripts.servicecatalog import RegisterOptions, register

# Well-formed; the refusals below come before any use of it.
CONNECTION = (
    "arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
)
PIPELINE_DEFINITION = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []})


def registered(aws: Aws, template: Path) -> str:
    result = register(
        aws, RegisterOptions(template_file=template, studio_role_arns=[studio_role(aws)]), sleep=no_sleep
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
    aws: Aws,
    v1: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    repos: RepoOptions,
    explicit: dict[str, str],
    field: str,
) -> None:
    product = registered(aws, v1)
    before = stored_objects(aws)
    assert before[f"sagemaker-mlops-assets-{aws.account}-{aws.region}"]  # what register uploaded
    calls = record_calls(monkeypatch)
    with pytest.raises(BadInput) as caught:
        projects.create_project(scientist(aws), "abalone", product, repos, explicit)
    assert field in str(caught.value)
    assert "sagemaker.CreateProject" not in calls
    assert stored_objects(aws) == before  # no bucket, no object, no new version of one


def stored_objects(aws: Aws) -> dict[str, list[tuple[str, str]]]:
    """Every bucket with each object version in it (key, ETag)."""
    s3 = aws.client("s3")
    return {
        bucket["Name"]: sorted(
            (v["Key"], v["ETag"]) for v in s3.list_object_versions(Bucket=bucket["Name"]).get("Versions", [])
        )
        for bucket in s3.list_buckets()["Buckets"]
    }


def test_good_parameters_reach_create_project_in_the_v1_form(aws: Aws, v1: Path) -> None:
    product = registered(aws, v1)
    template = projects.artifact_template(
        aws, product, projects.active_artifact(aws.client("servicecatalog"), product)["Id"]
    )
    values = projects.parameters_for(template, REPOS, {})
    projects.validate(template, "abalone", values)  # no problem
    assert values["ModelBuildCodeRepositoryUrl"] == "https://github.com/acme/abalone-build.git"
    assert values["ModelDeployCodeRepositoryIsSeedcodeRequired"] == "true"
    assert values["ModelBuildCodeRepositoryCodestarConnectionArn"] == CONNECTION


def test_creating_again_reports_the_project_instead_of_failing(
    aws: Aws, v1: Path, connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = registered(aws, v1)
    first = create(aws, product, "abalone", connection)
    calls = record_calls(monkeypatch)
    result = projects.create_project(scientist(aws), "abalone", product, repos("abalone", connection), {})
    assert (result["id"], result["status"]) == (first["id"], "CreateCompleted")
    assert "sagemaker.CreateProject" not in calls


def failing_variant(v1: Path, taken: str) -> None:
    """v1 with one more bucket, named ``taken``: a name someone already holds fails the project's stack."""
    template = yaml.safe_load(v1.read_text())
    template["Resources"]["TakenName"] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": taken}}
    v1.write_text(yaml.safe_dump(template, sort_keys=True))


def test_creating_over_a_failed_project_says_to_delete_it_first(
    aws: Aws, v1: Path, connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.client("s3").create_bucket(Bucket="sagemaker-name-taken")
    failing_variant(v1, "sagemaker-name-taken")
    product = registered(aws, v1)
    with pytest.raises(CommandError, match="CreateFailed"):
        create(aws, product, "abalone", connection)
    assert projects.describe(aws.client("sagemaker"), "abalone")["ProjectStatus"] == "CreateFailed"
    calls = record_calls(monkeypatch)
    with pytest.raises(CommandError) as caught:
        projects.create_project(scientist(aws), "abalone", product, repos("abalone", connection), {})
    assert "CreateFailed" in str(caught.value) and "project delete abalone" in str(caught.value.fix)
    assert "sagemaker.CreateProject" not in calls


def test_a_bad_project_name_exits_2_before_any_call(
    standin_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_calls(monkeypatch)
    code = cli.main(
        ["project", "create", "9-starts-with-a-digit", "--build-repo", "a/b", "--deploy-repo", "a/c"]
    )
    assert code == 2
    assert "ProjectName" in capsys.readouterr().err
    assert calls == []


def test_update_moves_to_the_newest_version_keeping_the_parameters(
    aws: Aws, v1: Path, connection: str
) -> None:
    product = registered(aws, v1)
    values = create(aws, product, "abalone", connection)["parameters"]
    v1.write_text(v1.read_text() + "\n# a new version\n")
    newest = register(
        aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)]), sleep=no_sleep
    ).artifact_id
    result = projects.update_project(aws, "abalone", {}, waiter=fast())
    assert result["provisioning_artifact_id"] == newest and result["status"] == "UpdateCompleted"
    details = projects.describe(aws.client("sagemaker"), "abalone")["ServiceCatalogProvisioningDetails"]
    assert details["ProvisioningArtifactId"] == newest
    assert {p["Key"]: p["Value"] for p in details["ProvisioningParameters"]} == values
    assert projects.update_project(aws, "abalone", {}, waiter=fast())["status"] == "unchanged"


# --- delete: exactly this project's resources ---------------------------------------------------------


def make_project_resources(aws: Aws, product: str, connection: str, name: str) -> Names:
    """A project with what it leaves outside its own stack (`leftovers`)."""
    names = Names(name, create(aws, product, name, connection)["id"])
    leftovers(aws, names)
    return names


def leftovers(aws: Aws, names: Names) -> None:
    """What a project leaves outside its own stack: deploy stacks, the seed's pipeline, models, and objects in
    its bucket (two versions and a delete marker); the bucket is made if the project did not make it."""
    cfn, sagemaker, s3 = (aws.client(s) for s in ("cloudformation", "sagemaker", "s3"))
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
        RoleArn=studio_role(aws),
    )
    for _ in range(2):
        register_model_version(aws, names)
    if names.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=names.bucket)
    s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})
    for data in (b"one", b"two"):
        s3.put_object(Bucket=names.bucket, Key="pipeline/model.tar.gz", Body=data)
    s3.delete_object(Bucket=names.bucket, Key="pipeline/model.tar.gz")  # leaves a delete marker


def existing(aws: Aws, names: Names) -> set[str]:
    return {row["kind"] for row in cleanup.plan_delete(aws, names)}


@pytest.fixture
def product(aws: Aws, v1: Path) -> str:
    return registered(aws, v1)


def test_delete_removes_exactly_the_project_and_nothing_of_its_neighbour(
    aws: Aws, product: str, connection: str
) -> None:
    mine = make_project_resources(aws, product, connection, "abalone")
    neighbour = make_project_resources(aws, product, connection, "abalone2")
    everything = {
        "event rule",  # the project's own: delete disables it before anything else
        "deploy stack",
        "project",
        "sagemaker pipeline",
        "model version",
        "model package group",
        "bucket",
    }
    assert existing(aws, mine) == everything

    planned = cleanup.delete_project(aws, "abalone", dry_run=True)
    assert {r["action"] for r in planned} == {"would delete", "would disable"}  # disable: the event rule
    assert existing(aws, mine) == everything

    rows = cleanup.delete_project(aws, "abalone")
    kinds = [r["kind"] for r in rows]
    assert kinds.index("deploy stack") < kinds.index("project") < kinds.index("bucket") == len(kinds) - 1
    assert kinds.count("model version") == 2
    assert existing(aws, Names("abalone", mine.id)) == set()
    assert existing(aws, neighbour) == everything
    # SageMaker still describes the project (DeleteCompleted): running the delete again finds nothing to do.
    # A project that is gone altogether is refused with NotFound (the half-way test below).
    assert cleanup.delete_project(aws, "abalone") == []


def test_a_delete_that_stopped_half_way_is_finished_with_the_project_id(aws: Aws) -> None:
    names = Names("abalone", "p-aaaaaaaaaaaa")
    leftovers(aws, names)  # the project went, with its stack; its pipeline, models and bucket did not
    with pytest.raises(NotFound) as caught:
        cleanup.delete_project(aws, "abalone")
    assert "--project-id" in str(caught.value.fix)
    with pytest.raises(BadInput, match="not a project id"):
        cleanup.delete_project(aws, "abalone", project_id="sagemaker-project-p-aaaaaaaaaaaa")
    rows = cleanup.delete_project(aws, "abalone", project_id=names.id)
    assert "project" not in {r["kind"] for r in rows} and "bucket" in {r["kind"] for r in rows}
    assert existing(aws, names) == set()


def test_a_project_id_that_is_not_the_projects_is_refused(aws: Aws, product: str, connection: str) -> None:
    names = make_project_resources(aws, product, connection, "abalone")
    other = "p-bbbbbbbbbbbb" if names.id != "p-bbbbbbbbbbbb" else "p-cccccccccccc"
    with pytest.raises(BadInput, match=f"has id {names.id}"):
        cleanup.delete_project(aws, "abalone", project_id=other)


# --- model approve, deploy promote, status ----------------------------------------------------------------


def test_model_approve_approves_the_newest_version_or_the_one_asked(
    aws: Aws, product: str, connection: str
) -> None:
    names = make_project_resources(aws, product, connection, "abalone")
    result = models.approve_model(aws, "abalone")
    assert (result["version"], result["action"]) == (2, "approved")
    assert models.approve_model(aws, "abalone", version=2)["action"] == "already approved"
    with pytest.raises(BadInput, match="--version"):
        models.approve_model(aws, "abalone", version=7)
    statuses = {
        p["ModelPackageVersion"]: p["ModelApprovalStatus"]
        for p in aws.client("sagemaker").list_model_packages(ModelPackageGroupName=names.model_package_group)[
            "ModelPackageSummaryList"
        ]
    }
    assert statuses == {1: "PendingManualApproval", 2: "Approved"}


def test_deploy_promote_answers_the_waiting_approval(aws: Aws, product: str, connection: str) -> None:
    project_id = create(aws, product, "abalone", connection)["id"]
    pipeline = f"sagemaker-abalone-{project_id}-modeldeploy"
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
    codepipeline = aws.client("codepipeline")
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
        assert models.promote(aws, "abalone")["status"] == "Approved"
        stub.add_response(
            "get_pipeline_state", {"pipelineName": pipeline, "stageStates": []}, {"name": pipeline}
        )
        with pytest.raises(NotFound, match="nothing waits for approval"):
            models.promote(aws, "abalone")
        stub.assert_no_pending_responses()


def test_status_shows_model_versions_and_missing_pipelines(aws: Aws, product: str, connection: str) -> None:
    make_project_resources(aws, product, connection, "abalone")
    stub = Stubber(aws.client("codepipeline"))
    for _ in range(2):
        stub.add_client_error("get_pipeline_state", "PipelineNotFoundException", "no such pipeline")
    stub.activate()
    status = projects.project_status(aws, "abalone")
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


def test_dry_run_checks_as_create_does_and_sends_nothing(
    aws: Aws, v1: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts import project_plan

    product = registered(aws, v1)
    artifact = projects.active_artifact(aws.client("servicecatalog"), product)["Id"]
    calls = record_calls(monkeypatch)
    plan = project_plan.plan_create(scientist(aws), "abalone", REPOS, {}, product_id=product)
    details = plan["request"]["ServiceCatalogProvisioningDetails"]
    assert (details["ProductId"], details["ProvisioningArtifactId"]) == (product, artifact)
    assert f"--product-id {product} --provisioning-artifact-id {artifact}" in plan["command"]
    assert {p["Key"]: p["Value"] for p in details["ProvisioningParameters"]} == projects.parameters_for(
        projects.parse_template(v1.read_bytes()), REPOS, {}
    )
    with pytest.raises(BadInput) as caught:
        project_plan.plan_create(aws, "abalone", RepoOptions("abalone-build", "acme/d", CONNECTION), {})
    assert "ModelBuildCodeRepositoryFullname" in str(caught.value)
    assert calls and "sagemaker.CreateProject" not in calls
    assert aws.client("sagemaker").list_projects()["ProjectSummaryList"] == []


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
