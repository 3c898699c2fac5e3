"""Every option says what it does and its default; no subcommand takes an option it ignores."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from scripts.cli import build_parser


def commands(
    parser: argparse.ArgumentParser, path: str = "sm-mlops"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{path} {name}")


def options() -> list[tuple[str, argparse.Action]]:
    return [
        (f"{path} {'/'.join(action.option_strings) or action.dest}", action)
        for path, parser in commands(build_parser())
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction))
    ]


@pytest.mark.parametrize(("name", "action"), options(), ids=[name for name, _ in options()])
def test_every_option_has_help_naming_its_default(name: str, action: argparse.Action) -> None:
    assert action.help, f"{name} has no help text"
    has_default = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
    if has_default:
        assert "default" in action.help, f"{name}: its help does not say its default ({action.default!r})"


@pytest.mark.parametrize(
    ("command", "ignored"),
    [
        (["preflight"], "--template-file"),
        (["preflight"], "--portfolio-name"),
        (["project", "create", "x"], "--portfolio-name"),
        (["deregister"], "--template-file"),
    ],
)
def test_a_subcommand_does_not_accept_an_option_it_ignores(command: list[str], ignored: str) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, ignored, "value"])
    assert done.value.code == 2
