"""Every boto3 call the project makes names a real operation and real parameters of botocore's service models.

The commands (`scripts/`), the seeding Lambda, and the seed code that runs in CodeBuild: all of it must be
right for real AWS, which no test here reaches.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[1]
# The variable names the project gives its clients, and the service each one is.
RECEIVERS = {
    "codebuild": ["codebuild"],
    "sm_client": ["sagemaker"],
    "runtime_client": ["sagemaker-runtime"],
    "sc": ["servicecatalog"],
    "s3": ["s3"],
    "iam": ["iam"],
    "sagemaker": ["sagemaker"],
    "codepipeline": ["codepipeline"],
    "cfn": ["cloudformation"],
    "client": ["codestar-connections", "codeconnections", "sagemaker"],
}
NOT_OPERATIONS = {"get_paginator", "get_waiter", "can_paginate"}
SESSION = botocore.session.get_session()


@functools.cache
def _client(service: str) -> Any:
    return SESSION.create_client(service, region_name="us-east-1")


@functools.cache
def _operations(service: str) -> dict[str, set[str]]:
    model = SESSION.get_service_model(service)
    table = {}
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        table[xform_name(name)] = set(shape.members) if shape else set()
    return table


def _service_of(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Name):
        return RECEIVERS.get(node.id)
    # aws.client("iam").get_role(...)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return [str(node.args[0].value)]
    return None


def calls_in(path: Path) -> list[tuple[int, list[str], str, set[str]]]:
    """(line, candidate services, operation, keyword names) of each client call and `paginate(...)` call."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg for k in node.keywords if k.arg}
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr not in NOT_OPERATIONS:
            services = _service_of(func.value)
            if services:
                found.append((node.lineno, services, func.attr, keywords))
        elif isinstance(func, ast.Name) and func.id == "paginate" and len(node.args) >= 2:
            services = _service_of(node.args[0])
            if services and isinstance(node.args[1], ast.Constant):
                found.append((node.lineno, services, str(node.args[1].value), keywords))
        if isinstance(func, ast.Attribute) and func.attr in {"get_paginator", "get_waiter"} and node.args:
            services = _service_of(func.value)
            arg = node.args[0]
            if services and isinstance(arg, ast.Constant):
                found.append((node.lineno, services, f"{func.attr}:{arg.value}", set()))
    return found


FILES = sorted(
    [
        *(ROOT / "scripts").glob("*.py"),
        ROOT / "seeding" / "function.py",
        *(ROOT / "seedcode" / "modelbuild" / "pipelines").rglob("*.py"),
        *(ROOT / "seedcode" / "modeldeploy").glob("*.py"),
        *(ROOT / "seedcode" / "modeldeploy" / "test").glob("*.py"),
    ]
)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_call_matches_the_service_model(path: Path) -> None:
    problems = []
    for line, services, operation, keywords in calls_in(path):
        verdicts = []
        for service in services:
            if operation.startswith("get_paginator:"):
                name = operation.split(":", 1)[1]
                ok = _client(service).can_paginate(name)
                verdicts.append("" if ok else f"{service} has no paginator {name}")
                continue
            if operation.startswith("get_waiter:"):
                name = operation.split(":", 1)[1]
                verdicts.append(
                    "" if name in _client(service).waiter_names else f"{service} has no waiter {name}"
                )
                continue
            table = _operations(service)
            if operation not in table:
                verdicts.append(f"{service} has no operation {operation}")
                continue
            unknown = keywords - table[operation]
            verdicts.append(f"{service}.{operation} has no parameter(s) {sorted(unknown)}" if unknown else "")
        if all(verdicts):
            problems.append(f"{path.relative_to(ROOT)}:{line}: " + "; ".join(verdicts))
    assert not problems, "\n".join(problems)


def test_the_checker_sees_calls(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "sc.create_portfolio(DisplayName='x', Bogus=1)\n"
        "paginate(sc, 'list_portfolios', 'PortfolioDetails')\n"
        "aws.client('iam').get_role(RoleName='r')\n"
    )
    calls = calls_in(sample)
    assert (1, ["servicecatalog"], "create_portfolio", {"DisplayName", "Bogus"}) in calls
    assert (2, ["servicecatalog"], "list_portfolios", set()) in calls
    assert (3, ["iam"], "get_role", {"RoleName"}) in calls
    assert "Bogus" not in _operations("servicecatalog")["create_portfolio"]
