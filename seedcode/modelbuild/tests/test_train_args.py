"""train.py's arguments: SageMaker's hyperparameters and paths, and flags that mean what they say."""

from __future__ import annotations

import argparse

import pytest

from pipelines.abalone import train
from pipelines.abalone.config import HYPERPARAMETERS


def test_defaults_are_sagemakers_paths() -> None:
    args = train.parse_args([], environ={})
    assert (args.model_dir, args.train, args.validation) == (
        "/opt/ml/model",
        "/opt/ml/input/data/train",
        "/opt/ml/input/data/validation",
    )


def test_paths_come_from_the_sm_variables() -> None:
    environ = {"SM_MODEL_DIR": "/m", "SM_CHANNEL_TRAIN": "/t", "SM_CHANNEL_VALIDATION": "/v"}
    args = train.parse_args([], environ=environ)
    assert (args.model_dir, args.train, args.validation) == ("/m", "/t", "/v")


def test_the_pipelines_hyperparameters_parse_as_sagemaker_passes_them() -> None:
    argv = [part for name, value in HYPERPARAMETERS.items() for part in (f"--{name}", str(value))]
    args = train.parse_args(argv, environ={})
    assert {name: getattr(args, name) for name in HYPERPARAMETERS} == HYPERPARAMETERS
    assert train.booster_params(args)["objective"] == "reg:squarederror"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("False", False),
        ("false", False),
        ("0", False),
        ("no", False),
        ("True", True),
        ("true", True),
        ("1", True),
    ],
)
def test_a_boolean_flag_means_what_it_says(text: str, expected: bool) -> None:
    assert train.parse_args(["--log_evaluation", text], environ={}).log_evaluation is expected


def test_a_boolean_flag_rejects_anything_else(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.parse_args(["--log_evaluation", "maybe"], environ={})
    assert "--log_evaluation" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--num_round", "0"], "--num_round must be at least 1"),
        (["--subsample", "1.5"], "--subsample must be in (0, 1]"),
        (["--max_depth", "deep"], "--max_depth: invalid int value"),
        (["--no_such_hyperparameter", "1"], "unrecognized arguments: --no_such_hyperparameter"),
    ],
)
def test_bad_hyperparameters_are_named(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        train.parse_args(argv, environ={})
    assert message in capsys.readouterr().err


def test_parse_bool_names_the_bad_value() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="'maybe'"):
        train.parse_bool("maybe")
