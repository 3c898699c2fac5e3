"""The commands against the in-process stand-in (moto + its layer): real provisioning, stacks, deletions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from standin_world import (
    catalog_counts,
    create,
    fast,
    no_sleep,
    register_model_version,
    scientist,
    studio_role,
)

from demo.inventory import inventory, leftovers
from scripts import cleanup, cli, projects, servicecatalog
from scripts.common import Aws, BadInput, CommandError, Waiter
from scripts.projects import Names, RepoOptions
from scripts.servicecatalog import RegisterOptions, register

ONE_OF_EACH = {"portfolios": 1, "products": 1, "versions": 1, "links": 1, "constraints": 1, "principals": 1}


def test_register_three_times_on_the_standin(aws: Aws, v1: Path) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    ids = {(r.portfolio_id, r.product_id, r.artifact_id) for r in (register(aws, options) for _ in range(3))}
    assert len(ids) == 1
    assert catalog_counts(aws) == ONE_OF_EACH
    (product_id,) = {i[1] for i in ids}
    tags = aws.client("servicecatalog").describe_product_as_admin(Id=product_id)["Tags"]
    assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in tags


def test_a_failure_after_each_step_then_a_rerun_then_deregister_on_the_standin(aws: Aws, v1: Path) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    for failed_after in servicecatalog.STEPS:

        def explode(step: str, failed_after: str = failed_after) -> None:
            if step == failed_after:
                raise RuntimeError(f"injected after {step}")

        with pytest.raises(RuntimeError):
            register(aws, options, after_step=explode, sleep=no_sleep)
        register(aws, options, sleep=no_sleep)
        assert catalog_counts(aws) == ONE_OF_EACH, f"after a failure following {failed_after}"
        servicecatalog.deregister(aws, options)
        assert catalog_counts(aws) == dict.fromkeys(ONE_OF_EACH, 0), f"deregister after {failed_after}"


def project_resources(aws: Aws, names: Names) -> dict[str, list[str]]:
    """What the APIs show of the project, by kind (the walkthrough's inventory)."""
    return inventory(aws.client, names.name, names.id)


def test_create_refuses_bad_parameters_before_any_create_call(aws: Aws, v1: Path, connection: str) -> None:
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    bad = RepoOptions(build_repo="no-owner", deploy_repo="acme/d", connection_arn=connection)
    with pytest.raises(BadInput, match="ModelBuildCodeRepositoryFullname"):
        projects.create_project(scientist(aws), "abalone", product, bad, {})
    assert aws.client("sagemaker").list_projects()["ProjectSummaryList"] == []


def test_update_to_a_new_template_version_keeps_the_resources(aws: Aws, v1: Path, connection: str) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    product = register(aws, options).product_id
    assert product
    created = create(aws, product, "abalone", connection)
    assert created["status"] == "CreateCompleted"
    names = Names("abalone", created["id"])
    before = project_resources(aws, names)
    assert len(before["CodePipeline pipeline"]) == 2 and len(before["SageMaker code repository"]) == 2
    assert before["S3 bucket"]
    v1.write_text(v1.read_text() + "\n# version 2\n")
    second = register(aws, options)
    result = projects.update_project(aws, "abalone", {}, waiter=fast())
    assert result["status"] == "UpdateCompleted" and result["provisioning_artifact_id"] == second.artifact_id
    assert project_resources(aws, names) == before


def test_delete_removes_exactly_one_project_beside_another(aws: Aws, v1: Path, connection: str) -> None:
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    mine = Names("abalone", create(aws, product, "abalone", connection)["id"])
    other = Names("other", create(aws, product, "other", connection)["id"])
    for names in (mine, other):
        register_model_version(aws, names)
    kinds_before = {n.name: {r["kind"] for r in cleanup.plan_delete(aws, n)} for n in (mine, other)}
    assert kinds_before["abalone"] == {
        "event rule",
        "project",
        "model version",
        "model package group",
        "bucket",
    }
    other_resources = project_resources(aws, other)

    planned = cleanup.delete_project(aws, "abalone", dry_run=True)
    done = cleanup.delete_project(aws, "abalone", waiter_timeout=120)

    assert [(r["kind"], r["name"]) for r in done] == [(r["kind"], r["name"]) for r in planned]
    assert cleanup.plan_delete(aws, mine) == []
    assert leftovers(project_resources(aws, mine)) == {}
    assert {r["kind"] for r in cleanup.plan_delete(aws, other)} == kinds_before["other"]
    assert project_resources(aws, other) == other_resources


@pytest.mark.slow
def test_a_failed_creation_names_the_failing_resource_and_its_reason(
    aws: Aws, v1: Path, connection: str
) -> None:
    """Sample Code on, but the repository does not exist at the Git provider: the seed check-in fails."""
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    repos = RepoOptions(
        build_repo="acme/missing",
        deploy_repo="acme/missing-too",
        connection_arn=connection,
        seed_deploy=False,
    )
    with pytest.raises(CommandError) as caught:
        projects.create_project(
            scientist(aws),
            "abalone",
            product,
            repos,
            {},
            waiter=Waiter("the project", timeout=300, interval=0.5),
        )
    message = str(caught.value)
    assert "CreateFailed" in message
    assert "SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker" in message


@pytest.fixture
def live(aws: Aws, v1: Path, connection: str) -> Names:
    """A registered product and one live project, `live`, with an object in its bucket."""
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    names = Names("live", create(aws, product, "live", connection)["id"])
    aws.client("s3").put_object(Bucket=names.bucket, Key="data/abalone.csv", Body=b"1,2,3\n")
    return names


def bucket_keys(aws: Aws, bucket: str) -> list[str]:
    return [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_wrong_name_with_a_live_projects_id_deletes_nothing(aws: Aws, live: Names) -> None:
    with pytest.raises(BadInput, match="belongs to project 'live'") as caught:
        cleanup.delete_project(aws, "typo", project_id=live.id, waiter_timeout=120)
    assert caught.value.field == "ProjectName" and "sm-mlops project delete live" in str(caught.value.fix)
    assert bucket_keys(aws, live.bucket) == ["data/abalone.csv"]
    assert projects.describe(aws.client("sagemaker"), "live")["ProjectStatus"] == "CreateCompleted"


def test_a_bucket_tagged_for_another_project_is_not_emptied(aws: Aws, live: Names) -> None:
    """The project is gone, its bucket kept (as a delete stopped half-way leaves it): a wrong name refuses."""
    sagemaker = aws.client("sagemaker")
    sagemaker.delete_project(ProjectName="live")
    Waiter("the project", timeout=120, interval=0.3).until(
        lambda: cleanup._project_status(sagemaker, "live") is None or None
    )
    with pytest.raises(CommandError, match="tag sagemaker:project-name is 'live'") as caught:
        cleanup.delete_project(aws, "typo", project_id=live.id, waiter_timeout=120)
    assert f"sm-mlops project delete live --project-id {live.id}" in str(caught.value.fix)
    assert bucket_keys(aws, live.bucket) == ["data/abalone.csv"]
    done = cleanup.delete_project(aws, "live", project_id=live.id, waiter_timeout=120)
    assert [r["kind"] for r in done] == ["bucket"] and done[0]["objects"] == "1"


def test_an_unconfirmed_delete_deletes_nothing(aws: Aws, live: Names) -> None:
    asked: list[list[dict[str, str]]] = []

    def no(rows: list[dict[str, str]]) -> bool:
        asked.append(rows)
        return False

    with pytest.raises(CommandError, match="not confirmed"):
        cleanup.delete_project(aws, "live", confirm=no, waiter_timeout=120)
    assert [r["kind"] for r in asked[0]] == [r["kind"] for r in cleanup.plan_delete(aws, live)]
    assert bucket_keys(aws, live.bucket) == ["data/abalone.csv"]
    assert projects.describe(aws.client("sagemaker"), "live")["ProjectStatus"] == "CreateCompleted"


def test_delete_stops_what_runs_first_and_leaves_no_footprint(aws: Aws, live: Names) -> None:
    """What the project's code leaves behind (log groups, job streams, Experiment and Trials, access logs)
    goes too, after the rule is disabled and before anything could recreate it."""
    sagemaker, logs, s3 = aws.client("sagemaker"), aws.client("logs"), aws.client("s3")
    for group in (
        f"/aws/codebuild/{live.build_pipeline}",
        f"/aws/lambda/sagemaker-{live.id}-git-seedcodecheckin",
    ):
        logs.create_log_group(logGroupName=group)
    logs.create_log_group(logGroupName="/aws/codebuild/someone-else")
    sagemaker.create_experiment(ExperimentName=live.experiment)
    sagemaker.create_trial(TrialName="exec1", ExperimentName=live.experiment)
    sagemaker.create_trial_component(TrialComponentName="job1-aws-processing-job")
    sagemaker.associate_trial_component(TrialComponentName="job1-aws-processing-job", TrialName="exec1")
    assets = servicecatalog.asset_bucket_name(aws.account, aws.region)
    s3.put_object(Bucket=assets, Key=f"{live.access_log_prefix}2026-12-02-log", Body=b"GET")
    s3.put_object(Bucket=assets, Key="access-logs/p-000000000000/2026-12-02-log", Body=b"GET")
    calls: list[str] = []
    for client in (aws.client("events"), sagemaker, aws.client("cloudformation")):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))

    planned = cleanup.delete_project(aws, "live", dry_run=True)
    done = cleanup.delete_project(aws, "live", waiter_timeout=120)

    assert [(r["kind"], r["name"]) for r in done] == [(r["kind"], r["name"]) for r in planned]
    kinds = [r["kind"] for r in done]
    assert kinds[0] == "event rule" and done[0]["action"] == "disabled"
    assert kinds.index("trial component") < kinds.index("trial") < kinds.index("experiment")
    assert calls.index("DisableRule") < calls.index("DeleteProject")
    assert cleanup.plan_delete(aws, live) == []
    remaining = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert remaining == ["/aws/codebuild/someone-else"]
    assert sagemaker.list_trials()["TrialSummaries"] == []
    assert sagemaker.list_experiments()["ExperimentSummaries"] == []
    access_logs = [k for k in bucket_keys(aws, assets) if k.startswith("access-logs/")]
    assert access_logs == ["access-logs/p-000000000000/2026-12-02-log"]


def test_create_again_with_other_values_refuses_and_changes_nothing(
    aws: Aws, live: Names, connection: str
) -> None:
    before = projects.describe(aws.client("sagemaker"), "live")["ServiceCatalogProvisioningDetails"]
    product = before["ProductId"]
    again = create(aws, product, "live", connection)  # the same request: reported done, as it is
    assert again["id"] == live.id and again["status"] == "CreateCompleted"
    other = RepoOptions(
        build_repo="other/build",
        deploy_repo="acme/live-deploy",
        connection_arn=connection,
        seed_build=False,
        seed_deploy=False,
    )
    with pytest.raises(CommandError, match="ModelBuildCodeRepositoryFullname") as caught:
        projects.create_project(scientist(aws), "live", product, other, {}, waiter=fast())
    assert "sm-mlops project update live" in str(caught.value.fix)
    after = projects.describe(aws.client("sagemaker"), "live")["ServiceCatalogProvisioningDetails"]
    assert after == before


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_cli_asks_on_a_terminal_and_refuses_without_one_unless_yes(
    aws: Aws, live: Names, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["project", "delete", "live"]) == 2
    assert "--yes" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert cli.main(["project", "delete", "live"]) == 1
    assert "will delete bucket" in capsys.readouterr().err
    assert bucket_keys(aws, live.bucket) == ["data/abalone.csv"]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["project", "delete", "live", "--yes"]) == 0
    assert cleanup.plan_delete(aws, live) == []


def test_connections_are_found_past_the_first_page(aws: Aws) -> None:
    """botocore has no paginator for ListConnections: `connection create` still finds one on a later page
    instead of making a second connection of the same name."""
    from scripts.common import paginate
    from scripts.connections import ensure_connection

    client = aws.client("codestar-connections")
    for index in range(3):
        client.create_connection(ProviderType="GitHub", ConnectionName=f"paged-{index}")
    listed = paginate(client, "list_connections", "Connections", MaxResults=1)
    assert {c["ConnectionName"] for c in listed} >= {"paged-0", "paged-1", "paged-2"}
    before = len(listed)
    ensure_connection(aws, "paged-2")
    assert len(paginate(client, "list_connections", "Connections")) == before
