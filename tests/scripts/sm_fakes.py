"""A small in-memory Service Catalog and SageMaker-projects API for the scripts' tests, while moto lacks them.

It answers through botocore's `before-call` event, so every call is first checked by botocore against the
service model (parameter names, types, required members) exactly as a real call is; moto answers the rest.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

Handler = Callable[[dict[str, Any]], dict[str, Any]]
ACCOUNT = "123456789012"
REGION = "us-east-1"
STUDIO_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-test"


class FakeError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FakeServiceCatalog:
    """Portfolios, products, provisioning artifacts, associations, constraints and principals."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.portfolios: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, list[dict[str, Any]]] = {}
        self.links: set[tuple[str, str]] = set()
        self.constraints: dict[str, dict[str, Any]] = {}
        self.principals: dict[str, list[str]] = {}
        self.calls: list[str] = []
        self.fail_next: dict[str, FakeError] = {}

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids):012d}"

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        if operation in self.fail_next:
            raise self.fail_next.pop(operation)
        handler = getattr(self, operation, None)
        if handler is None:
            raise FakeError("NotImplemented", f"the fake has no {operation}", 500)
        return dict(handler(params))

    def _product(self, product_id: str) -> dict[str, Any]:
        if product_id not in self.products:
            raise FakeError("ResourceNotFoundException", f"product {product_id} not found")
        return self.products[product_id]

    def ListPortfolios(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"PortfolioDetails": list(self.portfolios.values())}

    def CreatePortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        pid = self._id("port")
        self.portfolios[pid] = {"Id": pid, "DisplayName": p["DisplayName"], "ProviderName": p["ProviderName"]}
        self.principals[pid] = []
        return {"PortfolioDetail": self.portfolios[pid]}

    def DeletePortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        if any(link[1] == p["Id"] for link in self.links):
            raise FakeError("ResourceInUseException", "portfolio still has products")
        del self.portfolios[p["Id"]]
        return {}

    def SearchProductsAsAdmin(self, p: dict[str, Any]) -> dict[str, Any]:
        views = [
            {"ProductViewSummary": {"ProductId": pid, "Name": prod["Name"], "Owner": prod["Owner"]}}
            for pid, prod in self.products.items()
            if not p.get("PortfolioId") or (pid, p["PortfolioId"]) in self.links
        ]
        return {"ProductViewDetails": views}

    def CreateProduct(self, p: dict[str, Any]) -> dict[str, Any]:
        pid = self._id("prod")
        self.products[pid] = {"Name": p["Name"], "Owner": p["Owner"], "Tags": list(p.get("Tags", []))}
        self.artifacts[pid] = []
        artifact = self._new_artifact(pid, p["ProvisioningArtifactParameters"])
        return {
            "ProductViewDetail": {"ProductViewSummary": {"ProductId": pid, "Name": p["Name"]}},
            "ProvisioningArtifactDetail": artifact,
            "Tags": self.products[pid]["Tags"],
        }

    def DescribeProductAsAdmin(self, p: dict[str, Any]) -> dict[str, Any]:
        product = self._product(p["Id"])
        return {"ProductViewDetail": {"ProductViewSummary": {"ProductId": p["Id"]}}, "Tags": product["Tags"]}

    def UpdateProduct(self, p: dict[str, Any]) -> dict[str, Any]:
        self._product(p["Id"])["Tags"].extend(p.get("AddTags", []))
        return {}

    def DeleteProduct(self, p: dict[str, Any]) -> dict[str, Any]:
        if any(link[0] == p["Id"] for link in self.links):
            raise FakeError("ResourceInUseException", "product is associated with a portfolio")
        del self.products[p["Id"]]
        return {}

    def _new_artifact(self, pid: str, params: dict[str, Any]) -> dict[str, Any]:
        artifact = {
            "Id": self._id("pa"),
            "Name": params.get("Name", ""),
            "Description": params.get("Description", ""),
            "Type": params.get("Type", "CLOUD_FORMATION_TEMPLATE"),
            "CreatedTime": len(self.artifacts[pid]) + 1,
            "Active": True,
            "Guidance": "DEFAULT",
            "TemplateUrl": params["Info"]["LoadTemplateFromURL"],
        }
        self.artifacts[pid].append(artifact)
        return artifact

    def ListProvisioningArtifacts(self, p: dict[str, Any]) -> dict[str, Any]:
        self._product(p["ProductId"])
        listed = [{k: v for k, v in a.items() if k != "TemplateUrl"} for a in self.artifacts[p["ProductId"]]]
        return {"ProvisioningArtifactDetails": listed}

    def _artifact(self, p: dict[str, Any]) -> dict[str, Any]:
        for artifact in self.artifacts.get(p["ProductId"], []):
            if artifact["Id"] == p["ProvisioningArtifactId"]:
                return artifact
        raise FakeError("ResourceNotFoundException", "no such provisioning artifact")

    def DescribeProvisioningArtifact(self, p: dict[str, Any]) -> dict[str, Any]:
        artifact = self._artifact(p)
        detail = {k: v for k, v in artifact.items() if k != "TemplateUrl"}
        return {
            "ProvisioningArtifactDetail": detail,
            "Info": {"TemplateUrl": artifact["TemplateUrl"]},
            "Status": "AVAILABLE",
        }

    def CreateProvisioningArtifact(self, p: dict[str, Any]) -> dict[str, Any]:
        self._product(p["ProductId"])
        return {"ProvisioningArtifactDetail": self._new_artifact(p["ProductId"], p["Parameters"])}

    def UpdateProvisioningArtifact(self, p: dict[str, Any]) -> dict[str, Any]:
        artifact = self._artifact(p)
        if "Guidance" in p:
            artifact["Guidance"] = p["Guidance"]
        return {"ProvisioningArtifactDetail": artifact}

    def ListPortfoliosForProduct(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "PortfolioDetails": [self.portfolios[port] for prod, port in self.links if prod == p["ProductId"]]
        }

    def AssociateProductWithPortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        self.links.add((p["ProductId"], p["PortfolioId"]))
        return {}

    def DisassociateProductFromPortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        self.links.discard((p["ProductId"], p["PortfolioId"]))
        return {}

    def ListConstraintsForPortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        found = [
            c
            for c in self.constraints.values()
            if c["PortfolioId"] == p["PortfolioId"] and c["ProductId"] == p.get("ProductId", c["ProductId"])
        ]
        return {"ConstraintDetails": found}

    def CreateConstraint(self, p: dict[str, Any]) -> dict[str, Any]:
        if (p["ProductId"], p["PortfolioId"]) not in self.links:
            raise FakeError("ResourceNotFoundException", "product is not in the portfolio")
        cid = self._id("cons")
        self.constraints[cid] = {
            "ConstraintId": cid,
            "Type": p["Type"],
            "PortfolioId": p["PortfolioId"],
            "ProductId": p["ProductId"],
            "Parameters": p["Parameters"],
        }
        return {"ConstraintDetail": self.constraints[cid], "Status": "AVAILABLE"}

    def DescribeConstraint(self, p: dict[str, Any]) -> dict[str, Any]:
        if p["Id"] not in self.constraints:
            raise FakeError("ResourceNotFoundException", f"constraint {p['Id']} not found")
        found = self.constraints[p["Id"]]
        return {"ConstraintDetail": found, "ConstraintParameters": found["Parameters"], "Status": "AVAILABLE"}

    def DeleteConstraint(self, p: dict[str, Any]) -> dict[str, Any]:
        del self.constraints[p["Id"]]
        return {}

    def ListPrincipalsForPortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        principals = self.principals[p["PortfolioId"]]
        return {"Principals": [{"PrincipalARN": arn, "PrincipalType": "IAM"} for arn in principals]}

    def AssociatePrincipalWithPortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        self.principals[p["PortfolioId"]].append(p["PrincipalARN"])
        return {}

    def DisassociatePrincipalFromPortfolio(self, p: dict[str, Any]) -> dict[str, Any]:
        self.principals[p["PortfolioId"]].remove(p["PrincipalARN"])
        return {}


class FakeProjects:
    """SageMaker's project API (projects made by hand in tests: `add`), the rest passes to moto."""

    OPERATIONS = {"DescribeProject", "ListProjects", "DeleteProject", "CreateProject", "UpdateProject"}

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def add(
        self,
        name: str,
        project_id: str,
        product_id: str = "prod-x",
        artifact_id: str = "pa-x",
        parameters: dict[str, str] | None = None,
    ) -> None:
        params = [{"Key": k, "Value": v} for k, v in (parameters or {}).items()]
        self.projects[name] = {
            "ProjectName": name,
            "ProjectId": project_id,
            "ProjectStatus": "CreateCompleted",
            "ServiceCatalogProvisioningDetails": {
                "ProductId": product_id,
                "ProvisioningArtifactId": artifact_id,
                "ProvisioningParameters": params,
            },
        }

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        if operation == "ListProjects":
            return {"ProjectSummaryList": [dict(p) for p in self.projects.values()]}
        if operation == "CreateProject":
            raise FakeError("NotImplemented", "the fake creates no project: use the stand-in", 500)
        name = params["ProjectName"]
        if name not in self.projects:
            raise FakeError("ValidationException", f"Project {name} does not exist")
        if operation == "UpdateProject":
            update = params["ServiceCatalogProvisioningUpdateDetails"]
            details = self.projects[name]["ServiceCatalogProvisioningDetails"]
            details["ProvisioningArtifactId"] = update["ProvisioningArtifactId"]
            details["ProvisioningParameters"] = update.get("ProvisioningParameters", [])
            self.projects[name]["ProjectStatus"] = "UpdateCompleted"
            return {"ProjectArn": f"arn:aws:sagemaker:us-east-1:123456789012:project/{name}"}
        if operation == "DeleteProject":
            del self.projects[name]
            return {}
        return dict(self.projects[name])


def install(
    session: boto3.session.Session, service_id: str, handle: Handler | Any, only: set[str] | None = None
) -> None:
    """Answer `service_id`'s calls (all, or `only` these operations) with `handle(operation, params)`."""

    def before_call(model: Any, params: dict[str, Any], **kwargs: Any) -> Any:
        if only is not None and model.name not in only:
            return None
        body = params.get("body") or b"{}"
        request = json.loads(body) if body else {}
        try:
            parsed = handle(model.name, request)
            status = 200
        except FakeError as error:
            parsed = {"Error": {"Code": error.code, "Message": error.message}}
            status = error.status
        parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status})
        return AWSResponse("https://fake", status, {}, None), parsed

    session.events.register(f"before-call.{service_id}", before_call)


MODEL_REGISTRY_DELETES = {"DeleteModelPackage", "DeleteModelPackageGroup"}


class _MotoContext:
    """What the stand-in's handlers read of their request context: moto's backends of the test account."""

    def backend(self, service: str) -> Any:
        from moto.backends import get_backend

        return get_backend(service)["123456789012"]["us-east-1"]  # type: ignore[call-overload]


def moto_model_registry_delete(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteModelPackage(Group), which moto 5.2.5 lacks: the stand-in's own handlers, on moto's backend."""
    from standin.dispatch import AwsError
    from standin.sagemaker import model_registry

    handler = {
        "DeleteModelPackage": model_registry.delete_model_package,
        "DeleteModelPackageGroup": model_registry.delete_model_package_group,
    }[operation]
    try:
        return handler(_MotoContext(), params)  # type: ignore[arg-type]
    except AwsError as error:
        raise FakeError(error.code, error.message, error.status) from error


@dataclass
class World:
    """What a test gets: `sm-mlops`'s Aws object on moto, and the fakes behind it."""

    aws: Any
    sc: FakeServiceCatalog
    projects: FakeProjects


def no_sleep(seconds: float) -> None:
    """Stands for time.sleep where a test retries and must not wait."""
