"""A fault at each AWS call of `register`, `project create|update|delete`, then the same command again.

The calls a command makes are recorded once, from a run without faults on the stand-in (its runtime off);
then, for every N, the Nth call fails as an AWS outage would (`ServiceUnavailable` after the SDK's retries)
and the same command is run again. It must reach the end state a run without the fault reaches, and the
test compares the two states in full.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from standin_world import (
    bucket_settings,
    create,
    fast,
    no_sleep,
    register_model_version,
    repos,
    scientist,
    studio_role,
)

from scripts import cleanup, projects, servicecatalog
from scripts.common import Aws, CommandError, NotFound
from scripts.projects import Names
from scripts.servicecatalog import RegisterOptions, register

_LOADER = botocore.loaders.create_loader()


class Faults:
    """Records the calls made through one session; the ``at``-th fails."""

    def __init__(self, at: int | None = None, credentials: Any = None) -> None:
        self.at = at
        self.calls: list[str] = []
        self.credentials = credentials  # another identity's (botocore Credentials), else the environment's

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)
        if len(self.calls) == self.at:
            error = {"Code": "ServiceUnavailable", "Message": f"injected fault at call {self.at}"}
            raise ClientError({"Error": error}, model.name)

    def session(self) -> Aws:
        core = botocore.session.get_session()
        core.register_component("data_loader", _LOADER)  # service models parsed once, not per session
        if self.credentials is not None:
            core._credentials = self.credentials
        session = boto3.session.Session(botocore_session=core)
        session.events.register("before-call", self)
        return Aws(session)


# The longest of these tests split into shards that pytest-xdist runs side by side: shard i of n takes every
# n-th call (each shard records the command once more, to know the calls).
SHARDS = 4


def each_fault(
    command: Callable[[Aws], Any], as_who: Aws | None = None, shard: tuple[int, int] = (0, 1)
) -> Iterator[tuple[int, str, Aws]]:
    """Record ``command``'s calls once, then yield (N, operation, session failing at call N) for each N of
    the shard (index, count); the sessions have ``as_who``'s credentials when given."""
    credentials = as_who.session._session.get_credentials() if as_who else None
    recorded = Faults(credentials=credentials)
    command(recorded.session())
    assert recorded.calls, "the command made no AWS call"
    index, count = shard
    for at, operation in enumerate(recorded.calls, start=1):
        if (at - 1) % count == index:
            yield at, operation, Faults(at, credentials).session()


def run_with_fault(command: Callable[[Aws], Any], faulty: Aws) -> None:
    with contextlib.suppress(ClientError, BotoCoreError, CommandError):  # a repeated poll may not fail
        command(faulty)


def project_state(aws: Aws, name: str) -> dict[str, Any]:
    """What `project create`/`update` leave: the project, its parameters and version, its stack."""
    project = projects.describe(aws.client("sagemaker"), name)
    details = project["ServiceCatalogProvisioningDetails"]
    stacks = [
        s["StackStatus"]
        for s in aws.client("cloudformation").describe_stacks()["Stacks"]
        if s.get("Tags") and {"Key": "sagemaker:project-name", "Value": name} in s["Tags"]
    ]
    same_name = [
        p for p in aws.client("sagemaker").list_projects()["ProjectSummaryList"] if p["ProjectName"] == name
    ]
    return {
        "status": project["ProjectStatus"],
        "artifact": details["ProvisioningArtifactId"],
        "parameters": sorted((p["Key"], p["Value"]) for p in details["ProvisioningParameters"]),
        "stacks": stacks,
        "projects of that name": len(same_name),
    }


@pytest.fixture
def product(aws: Aws, v1: Path) -> str:
    product_id = register(
        aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    ).product_id
    assert product_id
    return product_id


def test_create_finishes_after_a_fault_at_any_call(aws: Aws, product: str, connection: str) -> None:
    create(aws, product, "clean", connection)
    expected = project_state(aws, "clean")
    assert expected["status"] == "CreateCompleted" and expected["stacks"] == ["CREATE_COMPLETE"]

    def command(name: str) -> Callable[[Aws], Any]:
        return lambda session: projects.create_project(
            session, name, product, repos(name, connection), {}, waiter=fast()
        )

    studio = scientist(aws)
    for at, operation, faulty in each_fault(command("recorded"), studio):
        name = f"create{at}"
        run_with_fault(command(name), faulty)
        command(name)(studio)
        state = project_state(aws, name)
        assert state == {**expected, "parameters": _renamed(expected["parameters"], "clean", name)}, (
            f"fault at call {at} ({operation})"
        )


def _renamed(parameters: list[tuple[str, str]], old: str, new: str) -> list[tuple[str, str]]:
    return sorted((k, v.replace(f"acme/{old}-", f"acme/{new}-")) for k, v in parameters)


def test_update_finishes_after_a_fault_at_any_call(aws: Aws, v1: Path, product: str, connection: str) -> None:
    first = projects.active_artifact(aws.client("servicecatalog"), product)["Id"]
    v1.write_text(v1.read_text() + "\n# version 2\n")
    second = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).artifact_id

    def project_at_v1(name: str) -> None:
        projects.create_project(
            scientist(aws), name, product, repos(name, connection), {}, artifact_id=first, waiter=fast()
        )

    def command(name: str) -> Callable[[Aws], Any]:
        return lambda session: projects.update_project(session, name, {}, waiter=fast())

    project_at_v1("clean")
    command("clean")(aws)
    expected = project_state(aws, "clean")
    assert expected["status"] == "UpdateCompleted" and expected["artifact"] == second
    project_at_v1("recorded")
    for at, operation, faulty in each_fault(command("recorded")):
        name = f"update{at}"
        project_at_v1(name)
        run_with_fault(command(name), faulty)
        command(name)(aws)
        state = project_state(aws, name)
        assert state == {**expected, "parameters": _renamed(expected["parameters"], "clean", name)}, (
            f"fault at call {at} ({operation})"
        )


def with_footprints(aws: Aws, product: str, connection: str, name: str) -> Names:
    """A project with what its code leaves: a model version, a log group, an Experiment, bucket objects."""
    names = Names(name, create(aws, product, name, connection)["id"])
    register_model_version(aws, names)
    sagemaker = aws.client("sagemaker")
    aws.client("logs").create_log_group(logGroupName=f"/aws/codebuild/{names.build_pipeline}")
    sagemaker.create_experiment(ExperimentName=names.experiment)
    sagemaker.create_trial(TrialName=f"{names.id}-run", ExperimentName=names.experiment)
    aws.client("s3").put_object(Bucket=names.bucket, Key="data/abalone.csv", Body=b"1,2\n")
    return names


@pytest.mark.parametrize("shard", range(SHARDS))
def test_delete_finishes_after_a_fault_at_any_call(
    aws: Aws, product: str, connection: str, shard: int
) -> None:
    neighbour = with_footprints(aws, product, connection, "neighbour")
    untouched = cleanup.plan_delete(aws, neighbour)

    def command(name: str) -> Callable[[Aws], Any]:
        return lambda session: cleanup.delete_project(session, name, waiter_timeout=60, poll=0.3)

    with_footprints(aws, product, connection, "recorded")
    for at, operation, faulty in each_fault(command("recorded"), shard=(shard, SHARDS)):
        names = with_footprints(aws, product, connection, f"delete{at}")
        run_with_fault(command(names.name), faulty)
        with contextlib.suppress(NotFound):  # the fault hit after the last deletion: nothing is left
            command(names.name)(aws)
        assert cleanup.plan_delete(aws, names) == [], f"fault at call {at} ({operation})"
    assert cleanup.plan_delete(aws, neighbour) == untouched


def registration_state(aws: Aws) -> dict[str, Any]:
    """What `register` leaves: portfolio, product, versions, constraint, principals, the asset bucket."""
    sc, s3 = aws.client("servicecatalog"), aws.client("s3")
    portfolios = sc.list_portfolios()["PortfolioDetails"]
    products = sc.search_products_as_admin()["ProductViewDetails"]
    state: dict[str, Any] = {
        "portfolios": sorted(p["DisplayName"] for p in portfolios),
        "products": sorted(p["ProductViewSummary"]["Name"] for p in products),
    }
    for product in products:
        product_id = product["ProductViewSummary"]["ProductId"]
        artifacts = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
        state["versions"] = sorted(
            (a["Name"], a["Active"], a.get("Guidance", "DEFAULT"))
            for a in (
                sc.describe_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=x["Id"])[
                    "ProvisioningArtifactDetail"
                ]
                for x in artifacts
            )
        )
        state["tags"] = sorted(
            (t["Key"], t["Value"]) for t in sc.describe_product_as_admin(Id=product_id).get("Tags", [])
        )
    for portfolio in portfolios:
        constraints = sc.list_constraints_for_portfolio(PortfolioId=portfolio["Id"])["ConstraintDetails"]
        state["constraints"] = sorted(c["Type"] for c in constraints)
        principals = sc.list_principals_for_portfolio(PortfolioId=portfolio["Id"])["Principals"]
        state["principals"] = sorted(p["PrincipalARN"] for p in principals)
    bucket = servicecatalog.asset_bucket_name(aws.account, aws.region)
    state["bucket"] = bucket_settings(s3, bucket)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    state["objects"] = {
        o["Key"]: hashlib.sha256(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()).hexdigest()
        for o in listed
    }
    return state


@pytest.mark.parametrize("shard", range(2))
def test_register_finishes_after_a_fault_at_any_call(aws: Aws, v1: Path, shard: int) -> None:
    """Each run starts from an account with only the roles `bootstrap` makes, as the first register does."""
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])

    def command(session: Aws) -> Any:
        return register(session, options, sleep=no_sleep)

    def unregister() -> None:  # back to the account before the first register
        servicecatalog.deregister(aws, options)
        bucket = servicecatalog.asset_bucket_name(aws.account, aws.region)
        cleanup.empty_bucket(aws.client("s3"), bucket)
        aws.client("s3").delete_bucket(Bucket=bucket)

    command(aws)
    expected = registration_state(aws)
    assert len(expected["versions"]) == 1 and expected["objects"]
    unregister()
    for at, operation, faulty in each_fault(command, shard=(shard, 2)):
        unregister()
        run_with_fault(command, faulty)
        command(aws)
        assert registration_state(aws) == expected, f"fault at call {at} ({operation})"
