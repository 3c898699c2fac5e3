"""`sm-mlops` follows AWS's own tools: region, retries, partition domains, where options go, --debug."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import cli
from scripts.asset_bucket import template_url
from scripts.common import Aws


def test_aws_region_alone_sets_the_region(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AWS_REGION", "eu-west-1")
    assert Aws().region == "eu-west-1"
    assert cli._aws(cli.build_parser().parse_args(["preflight"])).region == "eu-west-1"


def test_region_option_wins_over_aws_region_which_wins_over_aws_default_region(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert Aws().region == "us-west-2"
    clean_env.setenv("AWS_REGION", "eu-west-1")
    assert Aws().region == "eu-west-1"
    assert (
        cli._aws(cli.build_parser().parse_args(["preflight", "--region", "ap-south-1"])).region
        == "ap-south-1"
    )


@pytest.mark.parametrize(
    ("case", "env", "expected"),
    [
        (
            "nothing set: four retries, botocore's standard mode",
            {},
            {"total_max_attempts": 5, "mode": "standard"},
        ),
        ("AWS_MAX_ATTEMPTS", {"AWS_MAX_ATTEMPTS": "9"}, {"total_max_attempts": 9, "mode": "standard"}),
        ("AWS_RETRY_MODE", {"AWS_RETRY_MODE": "adaptive"}, {"total_max_attempts": 5, "mode": "adaptive"}),
        (
            "both",
            {"AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "legacy"},
            {"total_max_attempts": 2, "mode": "legacy"},
        ),
    ],
)
def test_retries_follow_aws_max_attempts_and_aws_retry_mode(
    case: str, env: dict[str, str], expected: dict[str, object], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("AWS_REGION", "us-east-1")
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert Aws().client("sts").meta.config.retries == expected


def test_the_profile_max_attempts_is_respected(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\nmax_attempts = 6\n")
    assert Aws().client("sts").meta.config.retries["total_max_attempts"] == 6


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "b.s3.us-east-1.amazonaws.com"),
        ("cn-north-1", "b.s3.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "b.s3.us-gov-west-1.amazonaws.com"),
    ],
)
def test_template_urls_use_the_partition_s_domain(
    region: str, host: str, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("AWS_REGION", region)
    aws = Aws()
    assert (
        template_url("b", aws.region, "templates/t.yaml", aws.dns_suffix)
        == f"https://{host}/templates/t.yaml"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "eu-west-1", "--profile", "p", "--output", "json", "project", "status", "x"],
        ["project", "status", "x", "--region", "eu-west-1", "--profile", "p", "--output", "json"],
        ["--region", "eu-west-1", "project", "--profile", "p", "status", "x", "--output", "json"],
    ],
)
def test_shared_options_work_before_and_after_the_subcommand(argv: list[str]) -> None:
    args = cli.build_parser().parse_args(argv)
    assert (args.region, args.profile, args.output) == ("eu-west-1", "p", "json")


def test_an_option_given_before_the_subcommand_is_not_reset_by_it() -> None:
    args = cli.build_parser().parse_args(["--output", "json", "--debug", "register", "--dry-run"])
    assert args.output == "json" and args.debug


@pytest.fixture
def botocore_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("botocore")
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_debug_shows_botocore_s_log(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], botocore_logger: logging.Logger
) -> None:
    clean_env.setenv("AWS_REGION", "us-east-1")
    assert cli.main(["deregister", "--dry-run", "--debug"]) != 0
    assert "botocore.credentials" in capsys.readouterr().err
    botocore_logger.handlers.clear()
    assert cli.main(["deregister", "--dry-run"]) != 0
    assert "botocore.credentials" not in capsys.readouterr().err
