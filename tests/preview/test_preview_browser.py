"""The preview page in a real browser: the form, checks as you type, the command, the picture, no network."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from scripts.cli import main
from scripts.preview import form
from scripts.templates import read_template, template_path

CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
GOOD = {
    "ProjectName": "abalone",
    "ProjectDescription": "Abalone ages, weighed",
    "ModelBuildCodeRepositoryUrl": "https://github.com/acme/abalone-build.git",
    "ModelBuildCodeRepositoryBranch": "release/1.0",
    "ModelBuildCodeRepositoryFullname": "acme/abalone-build",
    "ModelBuildCodeRepositoryCodestarConnectionArn": CONNECTION,
    "ModelDeployCodeRepositoryUrl": "https://gitlab.example.com/acme/sub/abalone-deploy.git",
    "ModelDeployCodeRepositoryBranch": "main",
    "ModelDeployCodeRepositoryFullname": "acme/sub/abalone-deploy",
    "ModelDeployCodeRepositoryCodestarConnectionArn": CONNECTION,
    "CodeConnectionArn": CONNECTION,
}
BAD = {
    "ProjectName": "abalone-",
    "ProjectDescription": "x" * 1025,
    "ModelBuildCodeRepositoryUrl": "http://github.com/acme/abalone-build.git",
    "ModelBuildCodeRepositoryBranch": "my branch",
    "ModelBuildCodeRepositoryFullname": "abalone-build",
    "ModelBuildCodeRepositoryCodestarConnectionArn": "arn:aws:s3:::bucket",
    "ModelDeployCodeRepositoryUrl": "https://github.com/acme/abalone-deploy",
    "ModelDeployCodeRepositoryBranch": "-main",
    "ModelDeployCodeRepositoryFullname": "acme/abalone-deploy.git",
    "ModelDeployCodeRepositoryCodestarConnectionArn": CONNECTION.replace("codeconnections", "s3"),
    "CodeConnectionArn": "arn:aws:codeconnections:us-east-1:123:connection/x",
}


def template(variant: str) -> dict[str, Any]:
    return read_template(template_path(variant, "service-catalog"))[1]


@pytest.fixture(scope="module", params=["v1", "v2"])
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(f"preview-{request.param}")
    assert main(["preview", "--template-variant", request.param, "--out", str(out)]) == 0
    return request.param, out / "index.html"


@pytest.fixture
def page(browser: Any, variant: tuple[str, Path]) -> Any:
    browser.get_log("performance")  # drop what came before
    browser.get(variant[1].as_uri())
    return browser


def fields(variant: str) -> list[str]:
    return ["ProjectName", "ProjectDescription"] + [
        f.name for g in form.groups(template(variant)) for f in g.fields
    ]


def type_into(page: Any, name: str, value: str) -> None:
    element = page.find_element("id", f"field-{name}")
    page.execute_script("arguments[0].value = arguments[1]", element, value[:-1])
    element.send_keys(value[-1:])  # the last key typed: the page checks on its input event


def fill(page: Any, variant: str, values: dict[str, str]) -> None:
    for name in fields(variant):
        if name in values:
            type_into(page, name, values[name])


def button_enabled(page: Any) -> bool:
    return bool(page.find_element("id", "create").is_enabled())


def test_every_parameter_appears_with_its_label_in_its_group(page: Any, variant: tuple[str, Path]) -> None:
    groups = form.groups(template(variant[0]))
    assert [g.label for g in groups] == [
        e.text for e in page.find_elements("css selector", "#create-form fieldset legend")
    ][1:]
    for group in groups:
        fieldset = page.find_element("css selector", f'fieldset[data-group="{group.label}"]')
        for f in group.fields:
            label = fieldset.find_element("css selector", f'label[for="field-{f.name}"]')
            assert label.text == f.label and f.description in fieldset.text
    for hidden in form.HIDDEN:
        assert not page.find_elements("id", f"field-{hidden}")
    if variant[0] == "v1":
        toggle = page.find_element("id", "field-ModelBuildCodeRepositoryIsSeedcodeRequired")
        assert toggle.get_attribute("type") == "checkbox" and toggle.is_selected()


def test_a_bad_value_shows_its_constraint_and_disables_create(page: Any, variant: tuple[str, Path]) -> None:
    rules = form.rules(template(variant[0]))
    fill(page, variant[0], GOOD)
    assert button_enabled(page)
    for name in fields(variant[0]):
        if name not in BAD:
            continue
        error = page.find_element("id", f"error-{name}")
        type_into(page, name, BAD[name])
        assert error.is_displayed(), name
        assert error.text == rules[name]["ConstraintDescription"]
        assert not button_enabled(page), name
        type_into(page, name, GOOD[name])
        assert not error.is_displayed(), name
        assert button_enabled(page), name


def test_command_and_request_equal_the_dry_run(
    page: Any, variant: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fill(page, variant[0], GOOD)
    if variant[0] == "v1":
        page.find_element("id", "field-ModelDeployCodeRepositoryIsSeedcodeRequired").click()
    command = page.find_element("id", "command").text
    request = page.find_element("id", "request").text
    argv = shlex.split(command)
    assert argv[:4] == ["sm-mlops", "project", "create", "abalone"]
    capsys.readouterr()
    assert main(["--output", "json", *argv[1:], "--dry-run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"command": command, "request": json.loads(request)}
    assert main([*argv[1:], "--dry-run"]) == 0
    assert capsys.readouterr().out == f"{command}\n{request}\n"
    parameters = {
        p["Key"]: p["Value"]
        for p in printed["request"]["ServiceCatalogProvisioningDetails"]["ProvisioningParameters"]
    }
    assert parameters == {k: v for k, v in GOOD.items() if k in fields(variant[0])[2:]} | (
        {
            "ModelBuildCodeRepositoryIsSeedcodeRequired": "true",
            "ModelDeployCodeRepositoryIsSeedcodeRequired": "false",
        }
        if variant[0] == "v1"
        else {}
    )


def test_the_picture_names_every_resource(page: Any, variant: tuple[str, Path]) -> None:
    names = {e.text for e in page.find_elements("css selector", "#architecture svg g[id^=resource-] text")}
    assert set(template(variant[0])["Resources"]) <= names


def test_the_page_makes_no_network_request(page: Any, variant: tuple[str, Path]) -> None:
    fill(page, variant[0], GOOD)
    page.find_element("id", "create").click()
    assert page.find_element("id", "create-note").is_displayed()
    urls = []
    for entry in page.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert urls and all(url == variant[1].as_uri() for url in urls), urls
    problems = [e["message"] for e in page.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not problems  # no script error, no request refused by the page's Content-Security-Policy
