"""What the page is drawn from: references between resources, the layout, the form, the README's steps."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.preview import architecture, form, page
from scripts.templates import read_template, template_path


def resources(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"A": {"Type": "X::A"}, "B": {"Type": "X::B"}}
    base["C"] = {"Type": "X::C", **props}
    return {"Parameters": {"P": {"Type": "String"}}, "Resources": base}


@pytest.mark.parametrize(
    ("case", "props", "expected"),
    [
        ("Ref", {"Properties": {"x": {"Ref": "A"}}}, [("C", "A", ("Ref",))]),
        ("Ref to a parameter is not drawn", {"Properties": {"x": {"Ref": "P"}}}, []),
        ("GetAtt list", {"Properties": {"x": [{"Fn::GetAtt": ["B", "Arn"]}]}}, [("C", "B", ("GetAtt",))]),
        ("GetAtt string", {"Properties": {"x": {"Fn::GetAtt": "B.Arn"}}}, [("C", "B", ("GetAtt",))]),
        (
            "Sub ${X} and ${X.Attr}",
            {"Properties": {"x": {"Fn::Sub": "${A}-${B.Arn}-${AWS::Region}-${P}"}}},
            [("C", "A", ("Sub",)), ("C", "B", ("Sub",))],
        ),
        ("Sub literal ${!A}", {"Properties": {"x": {"Fn::Sub": "${!A}"}}}, []),
        (
            "Sub variable shadows, its value counts",
            {"Properties": {"x": {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}}},
            [("C", "B", ("Ref",))],
        ),
        ("DependsOn string", {"DependsOn": "A"}, [("C", "A", ("DependsOn",))]),
        (
            "DependsOn list and Ref",
            {"DependsOn": ["A", "B"], "Properties": {"x": {"Ref": "A"}}},
            [("C", "A", ("Ref", "DependsOn")), ("C", "B", ("DependsOn",))],
        ),
    ],
)
def test_edges_follow_every_kind_of_reference(case: str, props: dict[str, Any], expected: list[Any]) -> None:
    assert [(e.source, e.target, e.kinds) for e in architecture.edges(resources(**props))] == expected


def test_a_resource_sits_right_of_what_it_refers_to() -> None:
    template = resources(Properties={"x": {"Ref": "B"}})
    template["Resources"]["B"]["Properties"] = {"y": {"Ref": "A"}}
    assert architecture.columns(template, architecture.edges(template)) == {"A": 0, "B": 1, "C": 2}


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_the_real_templates_references_and_flow(variant: str) -> None:
    template = read_template(template_path(variant, "service-catalog"))[1]
    found = {(e.source, e.target) for e in architecture.edges(template)}
    assert ("ModelDeploySageMakerEventRule", "ModelDeployPipeline") in found
    assert ("ModelBuildPipeline", "SageMakerModelPipelineBuildProject") in found
    flow_ids = [f[2] for f in architecture.RUNTIME_FLOW if f[2]]
    assert set(flow_ids) <= set(template["Resources"])


def test_the_form_is_the_templates_interface_without_what_studio_fills_in() -> None:
    template = read_template(template_path("v1", "service-catalog"))[1]
    groups = form.groups(template)
    assert [g.label for g in groups] == ["ModelBuild CodeRepository Info", "ModelDeploy CodeRepository Info"]
    assert [f.label for f in groups[0].fields] == [
        "URL",
        "Branch",
        "Full Repository Name",
        "Codestar Connection ARN",
        "Sample Code",
    ]
    assert groups[0].fields[-1].is_toggle and not groups[0].fields[0].is_toggle
    rules = form.rules(template)
    assert not set(form.HIDDEN) & set(rules)
    for name, spec in template["Parameters"].items():
        if name not in form.HIDDEN:
            assert rules[name]["AllowedPattern" if "AllowedPattern" in spec else "AllowedValues"] == (
                spec.get("AllowedPattern") or spec["AllowedValues"]
            )


def test_the_steps_are_the_readmes_table() -> None:
    steps = page.walkthrough_steps()
    assert [s["step"] for s in steps] == ["0", "1", "–", "–", "2", "3", "4", "5", "6"]
    assert "--role-family service-catalog|projects" in steps[0]["command"]
