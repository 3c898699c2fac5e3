"""The seeding function stays the same from one release to the next, so `sm-mlops project update` works under
AWS's launch role: it may not update a function (no lambda:UpdateFunctionCode or UpdateFunctionConfiguration),
and replacing it would change the custom resources' ServiceToken, which CloudFormation refuses."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import yaml

from generator import constants as c
from generator.config import VARIANTS
from generator.render import render
from generator.seeding import BUILD_VARIABLES, release_assets
from seeding.assets import BOOTSTRAP_DIR, Asset

# What may differ between two releases: the custom resources' properties (CloudFormation sends Update to the
# same function) and the check-in project's source (codebuild:UpdateProject, which the launch role has).
CHANGES_BETWEEN_RELEASES = {c.CHECKIN_PROJECT, *c.CHECKIN_INVOKER.values()}
# The function as projects have it from this version on (its code as inlined, and its settings). A change
# breaks `sm-mlops project update` for every one of them: what must change goes in the custom resources'
# properties (generator/seeding.py) or in the bootstrap the check-in build runs (seeding/bootstrap/).
FUNCTION_SHA256 = "169d0945b6c484af661f40a71621217be9202b4d7ece607984b83950f8e76d5c"


def resources(variant: str, assets: dict[str, Asset] | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(render(VARIANTS[variant], assets))
    return loaded["Resources"]


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_another_seed_release_leaves_the_function_byte_identical(
    variant: str, next_release_assets: dict[str, Asset]
) -> None:
    now, later = resources(variant), resources(variant, next_release_assets)
    function_now, function_later = now[c.CHECKIN_LAMBDA], later[c.CHECKIN_LAMBDA]
    assert as_json(function_now["Properties"]) == as_json(function_later["Properties"])
    assert as_json(function_now) == as_json(function_later)  # its condition and metadata too
    for repo, invoker in c.CHECKIN_INVOKER.items():
        props_now, props_later = now[invoker]["Properties"], later[invoker]["Properties"]
        assert (
            props_now["ServiceToken"]
            == props_later["ServiceToken"]
            == {"Fn::GetAtt": [c.CHECKIN_LAMBDA, "Arn"]}
        )
        assert as_json(props_now) != as_json(props_later), repo
        changed = {key for key in props_now if as_json(props_now[key]) != as_json(props_later.get(key))}
        assert changed == {
            "SeedCodeKey",
            "SeedCodeSha256",
            "BootstrapKey",
            "BootstrapSha256",
            "BuildEnvironment",
        }
    differing = {name for name in now if as_json(now[name]) != as_json(later.get(name))}
    assert differing == CHANGES_BETWEEN_RELEASES
    assert set(now) == set(later)


def test_the_release_assets_are_what_the_templates_pin() -> None:
    pinned = {asset.key for asset in release_assets().values()}
    for variant in VARIANTS:
        text = render(VARIANTS[variant])
        assert all(key in text for key in pinned), variant


def function_fingerprint(variant: str) -> str:
    """SHA-256 of the function's properties but its role (which the variant's role family names)."""
    props = dict(resources(variant)[c.CHECKIN_LAMBDA]["Properties"])
    props.pop("Role")
    return hashlib.sha256(as_json(props).encode()).hexdigest()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_function_is_the_one_projects_already_have(variant: str) -> None:
    assert function_fingerprint(variant) == FUNCTION_SHA256, (
        "the seeding function's code or settings changed: projects made with the released function could not "
        "be updated under AWS's launch role (no lambda:UpdateFunctionCode/UpdateFunctionConfiguration, and a "
        "new function would change the custom resources' ServiceToken). Move the change into the custom "
        "resources' properties or seeding/bootstrap/."
    )


def test_the_bootstrap_requires_exactly_the_build_environment_the_template_sets() -> None:
    buildspec = yaml.safe_load((BOOTSTRAP_DIR / "buildspec.yml").read_text())
    check = buildspec["phases"]["pre_build"]["commands"][0]
    required = check.split("for name in ", 1)[1].split(";", 1)[0].split()
    assert tuple(required) == BUILD_VARIABLES
