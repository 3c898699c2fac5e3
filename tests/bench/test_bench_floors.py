"""The bench's figures of a warm pip cache and of the walkthrough's floors."""

from __future__ import annotations

import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from bench import demo, pipcache


def test_the_wheels_in_pips_cache_are_read_by_name_and_version(tmp_path: Path) -> None:
    body = tmp_path / "http-v2" / "a" / "b" / "0123.body"
    body.parent.mkdir(parents=True)
    with zipfile.ZipFile(body, "w") as wheel:
        wheel.writestr(
            "Some_Pkg-1.2.dist-info/METADATA", "Metadata-Version: 2.1\nName: Some_Pkg\nVersion: 1.2\n"
        )
        wheel.writestr("some_pkg/__init__.py", "x = 1\n" * 100)
    (tmp_path / "http-v2" / "a" / "b" / "0123").write_bytes(b"not a zip")
    assert pipcache.cached_wheels(tmp_path) == {("some-pkg", "1.2"): body.stat().st_size}


def test_the_seeds_set_follows_the_installed_metadata() -> None:
    found = pipcache.closure([Requirement("boto3")])
    assert {"boto3", "botocore", "s3transfer", "jmespath"} <= set(found)
    # the seed's own requirements: the SDK pin and the build backend
    names = {r.name for r in pipcache.seed_requirements()}
    assert {"sagemaker", "boto3", "setuptools"} <= names


def test_an_estimated_wheel_is_smaller_than_what_it_installs() -> None:
    dist = pipcache.closure([Requirement("jmespath")])["jmespath"]
    installed = sum(Path(str(f.locate())).stat().st_size for f in dist.files or [] if f.suffix == ".py")
    assert 0 < pipcache.estimated_wheel_size(dist) < installed


def test_each_floor_names_a_step_of_the_walkthrough() -> None:
    from demo.walkthrough import STEPS

    source = "\n".join(step.__code__.co_consts.__repr__() for step in STEPS)
    for prefix in demo.FLOORS:
        assert repr(prefix)[1:-1] in source, f"no walkthrough step is named {prefix!r}..."
