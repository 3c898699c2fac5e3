"""The options several subcommands share, each with its help and its default."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scripts.servicecatalog import PORTFOLIO_NAME
from scripts.templates import ROLE_FAMILIES, VARIANTS


def role_family_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role-family",
        choices=ROLE_FAMILIES,
        default="service-catalog",
        help="which service roles the template uses: AmazonSageMakerServiceCatalogProducts* or "
        "AmazonSageMakerProjects* (default: service-catalog)",
    )


def template_options(parser: argparse.ArgumentParser, *, template_file: str | None = None) -> None:
    """--template-variant, --role-family, --product-name; --template-file where the subcommand reads one."""
    parser.add_argument(
        "--template-variant", choices=VARIANTS, default="v1", help="template form (default: v1)"
    )
    role_family_option(parser)
    if template_file:
        parser.add_argument("--template-file", type=Path, help=template_file)
    parser.add_argument("--product-name", help="default: the template's name (+ variant)")


def portfolio_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--portfolio-name",
        default=PORTFOLIO_NAME,
        help=f"the Service Catalog portfolio (default: {PORTFOLIO_NAME!r})",
    )


def shared_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """--region, --profile, --output and --debug; a subcommand's copy has no default: it only overrides."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--region",
        default=default(None),
        help="AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region)",
    )
    parser.add_argument("--profile", default=default(None), help="AWS profile (default: AWS_PROFILE)")
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default=default("text"),
        help="result format on stdout (default: text)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log botocore's requests and answers on stderr (default: off)",
    )


def share_with_subcommands(parser: argparse.ArgumentParser) -> None:
    """Accept the shared options after any subcommand too (`sm-mlops register --region eu-west-1`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in dict.fromkeys(action.choices.values()):
                shared_options(subparser, defaults=False)
                share_with_subcommands(subparser)
