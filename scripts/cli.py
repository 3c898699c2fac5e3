"""`sm-mlops`: one subcommand per walkthrough step. It only parses and delegates to the `ensure_*` modules.

Exit codes: 0 ok, 1 failure, 2 bad input, 3 not found / a precondition is missing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from scripts import (
    __version__,
    cleanup,
    connections,
    errors,
    iam_roles,
    models,
    preflight,
    product_view,
    project_plan,
    projects,
    servicecatalog,
)
from scripts.common import (
    BAD_INPUT,
    FAILURE,
    OK,
    Aws,
    BadInput,
    CommandError,
    NotFound,
    new_session,
    progress,
)
from scripts.options import (
    portfolio_option,
    role_family_option,
    share_with_subcommands,
    shared_options,
    template_options,
)
from scripts.templates import VARIANTS, read_template, template_path


def _aws(args: argparse.Namespace) -> Aws:
    if args.debug:
        boto3.set_stream_logger("botocore", logging.DEBUG)
    return Aws(new_session(args.profile, args.region))


def _key_values(pairs: Sequence[str] | None, field: str) -> dict[str, str]:
    values = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"{pair!r} is not KEY=VALUE", field=field, fix=f"write {field} Name=value")
        values[key] = value
    return values


def _register_options(args: argparse.Namespace) -> servicecatalog.RegisterOptions:
    return servicecatalog.RegisterOptions(
        variant=args.template_variant,
        role_family=args.role_family,
        template_file=getattr(args, "template_file", None),
        portfolio_name=getattr(args, "portfolio_name", servicecatalog.PORTFOLIO_NAME),
        product_name=args.product_name,
        launch_role_arn=getattr(args, "launch_role_arn", None),
        studio_role_arns=getattr(args, "studio_role_arn", None) or [],
        asset_admin_arns=getattr(args, "asset_admin", None) or [],
        add_caller=getattr(args, "add_caller", False),
        dry_run=getattr(args, "dry_run", False),
        render=getattr(args, "render", False),
    )


def _product_id(aws: Aws, args: argparse.Namespace) -> str:
    if args.product_id:
        return str(args.product_id)
    name = args.product_name or servicecatalog.product_name_for(args.template_variant, args.role_family)
    return product_view.find_product_id(aws, name)


# --- handlers: each returns data; main prints it ----------------------------------------------------------


def cmd_bootstrap(aws: Aws, args: argparse.Namespace) -> Any:
    rows = iam_roles.ensure_roles(aws, args.role_family, dry_run=args.dry_run, fix_policies=args.fix_policies)
    rows.append(
        {
            "role": "SageMaker projects",
            "arn": "",
            "action": iam_roles.ensure_projects_enabled(aws, dry_run=args.dry_run),
        }
    )
    return rows


def cmd_connection_create(aws: Aws, args: argparse.Namespace) -> Any:
    result = connections.ensure_connection(aws, args.name, args.provider, args.service)
    if result["status"] != "AVAILABLE":
        progress(
            "  next: open the console (Developer Tools > Settings > Connections) and complete the handshake"
        )
    return result


def cmd_connection_check(aws: Aws, args: argparse.Namespace) -> Any:
    connections.require_usable(aws, args.connection_arn)
    return {"connection": args.connection_arn, "status": "AVAILABLE", "tag sagemaker=true": "present"}


def cmd_preflight(aws: Aws, args: argparse.Namespace) -> Any:
    name = args.product_name or servicecatalog.product_name_for(args.template_variant, args.role_family)
    rows = preflight.preflight(
        aws,
        args.role_family,
        name,
        args.connection_arn,
        args.studio_role_arn or [],
        permission_status="warning" if args.permissions_as_warnings else "problem",
    )
    problems = [r for r in rows if r["status"] == "problem"]
    if problems:
        listed = "".join(f"\n  {r['check']}: {r['detail']}" for r in problems)
        raise NotFound(
            f"{len(problems)} problem(s) found:{listed}", fix="fix each problem, then run preflight again"
        )
    return rows


def cmd_register(aws: Aws, args: argparse.Namespace) -> Any:
    return servicecatalog.register(aws, _register_options(args)).as_dict()


def cmd_deregister(aws: Aws, args: argparse.Namespace) -> Any:
    return servicecatalog.deregister(aws, _register_options(args), force=args.force)


def cmd_project_create(aws: Aws, args: argparse.Namespace) -> Any:
    projects.check_project_name(args.name)  # before any call
    explicit = _key_values(args.param, "--param")
    repos = projects.RepoOptions(
        build_repo=args.build_repo,
        deploy_repo=args.deploy_repo,
        connection_arn=args.connection_arn,
        build_branch=args.build_branch,
        deploy_branch=args.deploy_branch,
        seed_build=not args.no_seed_build,
        seed_deploy=not args.no_seed_deploy,
        git_host=args.git_host,
    )
    if args.dry_run:
        plan = project_plan.plan_create(
            aws,
            args.name,
            repos,
            explicit,
            variant=args.template_variant,
            role_family=args.role_family,
            template_file=args.template_file,
            product_id=args.product_id,
            artifact_id=args.provisioning_artifact_id,
            description=args.description,
        )
        if args.output == "json":
            return plan
        return (
            f"{plan['command']}\n{json.dumps(plan['request'], indent=2, sort_keys=True, ensure_ascii=False)}"
        )
    return projects.create_project(
        aws,
        args.name,
        _product_id(aws, args),
        repos,
        explicit,
        artifact_id=args.provisioning_artifact_id,
        wait=not args.no_wait,
        description=args.description,
    )


def cmd_preview(aws: Aws, args: argparse.Namespace) -> Any:
    from scripts.preview import page

    if bool(args.product_id) != bool(args.provisioning_artifact_id):
        raise BadInput(
            "--product-id and --provisioning-artifact-id go together",
            field="--provisioning-artifact-id" if args.product_id else "--product-id",
            fix="give both (the product version to preview), or neither (the local templates/ file)",
        )
    if args.product_id:
        template = projects.artifact_template(aws, args.product_id, args.provisioning_artifact_id)
    else:
        template = read_template(template_path(args.template_variant, "service-catalog"))[1]
    html = page.render(
        template,
        args.template_variant,
        product_id=args.product_id,
        artifact_id=args.provisioning_artifact_id,
    )
    return {"page": str(page.write(args.out, html))}


def cmd_project_update(aws: Aws, args: argparse.Namespace) -> Any:
    return projects.update_project(aws, args.name, _key_values(args.param, "--param"))


def cmd_project_status(aws: Aws, args: argparse.Namespace) -> Any:
    return projects.project_status(aws, args.name)


def _confirm_delete(name: str, yes: bool) -> Any:
    """`--yes` answers; on a terminal the user does; otherwise the delete is refused before it starts."""

    def confirm(rows: list[dict[str, str]]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise BadInput(
                f"deleting project {name} needs confirmation and there is no terminal to ask on",
                field="--yes",
                fix=f"review `sm-mlops project delete {name} --dry-run`, then pass --yes",
            )
        for row in rows:
            progress(f"  will {row['action']} {row['kind']} {row['name']}")
        answer = input(f"Delete project {name} and the {len(rows)} item(s) above? [y/N] ")
        return answer.strip().lower() in {"y", "yes"}

    return confirm


def cmd_project_delete(aws: Aws, args: argparse.Namespace) -> Any:
    return cleanup.delete_project(
        aws,
        args.name,
        project_id=args.project_id,
        dry_run=args.dry_run,
        confirm=_confirm_delete(args.name, args.yes),
    )


def cmd_model_approve(aws: Aws, args: argparse.Namespace) -> Any:
    return models.approve_model(aws, args.project, args.version, args.note)


def cmd_deploy_promote(aws: Aws, args: argparse.Namespace) -> Any:
    return models.promote(aws, args.project, args.note, reject=args.reject)


# --- parser -------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sm-mlops",
        description="Register and drive the SageMaker MLOps template for third-party Git repositories.",
        epilog="Exit codes: 0 ok, 1 failure, 2 bad input, 3 not found or a precondition missing. "
        "Credentials and endpoint: the standard AWS chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    shared_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "bootstrap", help="create the missing Studio service roles and enable SageMaker projects"
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be created")
    p.add_argument(
        "--fix-policies",
        action="store_true",
        help="give existing roles exactly the policies AWS gives their family: attach the missing ones,"
        " detach other managed policies, delete inline ones (default: report the difference, change nothing)",
    )
    role_family_option(p)
    p.set_defaults(handler=cmd_bootstrap)

    p = sub.add_parser("connection", help="step 1: the CodeConnections connection")
    csub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = csub.add_parser("create", help="create (or find) a connection tagged sagemaker=true")
    c.add_argument("--name", required=True, help="the connection's name (required)")
    c.add_argument("--provider", default="GitHub", choices=connections.PROVIDERS, help="(default: GitHub)")
    c.add_argument(
        "--service",
        default="codestar-connections",
        choices=connections.SERVICES,
        help="which service name the ARN carries (default: codestar-connections)",
    )
    c.set_defaults(handler=cmd_connection_create)
    c = csub.add_parser("check", help="is the connection AVAILABLE and tagged sagemaker=true")
    c.add_argument("--connection-arn", required=True, help="the connection to check (required)")
    c.set_defaults(handler=cmd_connection_check)

    p = sub.add_parser("preflight", help="check what a project needs before Create is pressed")
    template_options(p)
    p.add_argument("--connection-arn", help="also check this connection (default: not checked)")
    p.add_argument(
        "--studio-role-arn", action="append", help="repeatable; default: the domains' execution roles"
    )
    p.add_argument(
        "--permissions-as-warnings",
        action="store_true",
        help="report an action a role is refused as a warning, not a problem (while its policies are fixed)",
    )
    p.set_defaults(handler=cmd_preflight)

    p = sub.add_parser("register", help="register the template as a Service Catalog product for Studio")
    template_options(p, template_file="template to register (default: the rendered <variant>.yaml)")
    portfolio_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument(
        "--render", action="store_true", help="render the variant now instead of reading templates/"
    )
    p.add_argument("--launch-role-arn", help="default: the family's launch role")
    p.add_argument(
        "--studio-role-arn", action="append", help="repeatable; default: the domains' execution roles"
    )
    p.add_argument(
        "--add-caller",
        action="store_true",
        help="also make the identity running this command a principal of the portfolio (an assumed role's"
        " session counts as its role), so that it can create projects from the product",
    )
    p.add_argument(
        "--asset-admin",
        action="append",
        metavar="ARN",
        help="repeatable: an IAM role or user that may also replace the seed, bootstrap and template objects"
        " (the caller always may); e.g. your CI role",
    )
    p.set_defaults(handler=cmd_register)

    p = sub.add_parser("deregister", help="undo register (refuses while projects use the product)")
    template_options(p)
    portfolio_option(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="go on although projects still use the product (they are left as they are)",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, change nothing")
    p.set_defaults(handler=cmd_deregister)

    p = sub.add_parser(
        "preview", help="write a self-contained page: Studio's form, the command, the architecture, the steps"
    )
    p.add_argument("--template-variant", choices=VARIANTS, default="v1", help="template form (default v1)")
    p.add_argument("--product-id", help="preview this product version's template (with the next option)")
    p.add_argument("--provisioning-artifact-id", help="the version to preview (with --product-id)")
    p.add_argument("--out", type=Path, required=True, help="folder for index.html")
    p.set_defaults(handler=cmd_preview)

    p = sub.add_parser("project", help="steps 2, 3 and 6: create, update, status, delete")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = psub.add_parser("create", help="create a project from the product, as Studio does")
    c.add_argument("name", help="the project's name")
    template_options(
        c,
        template_file="with --dry-run and no --product-id: the template whose form is checked "
        "(default: the rendered <variant>.yaml)",
    )
    c.add_argument("--product-id", help="default: the product register made for the variant")
    c.add_argument("--provisioning-artifact-id", help="default: the newest active version")
    c.add_argument("--build-repo", help="owner/repo of the model build repository")
    c.add_argument("--deploy-repo", help="owner/repo of the model deploy repository")
    c.add_argument("--connection-arn", help="the connection to both repositories")
    c.add_argument("--build-branch", default="main", help="(default: main)")
    c.add_argument("--deploy-branch", default="main", help="(default: main)")
    c.add_argument(
        "--no-seed-build", action="store_true", help="Sample Code off for the model build repository"
    )
    c.add_argument(
        "--no-seed-deploy", action="store_true", help="Sample Code off for the model deploy repository"
    )
    c.add_argument(
        "--git-host", default="github.com", help="host of the repository URLs (v1 form; default: github.com)"
    )
    c.add_argument(
        "--param", action="append", metavar="Name=value", help="any template parameter (repeatable)"
    )
    c.add_argument(
        "--description",
        default=projects.DEFAULT_DESCRIPTION,
        help=f"the project's description (default: {projects.DEFAULT_DESCRIPTION!r})",
    )
    c.add_argument(
        "--dry-run",
        action="store_true",
        help="check the values as a real run does, print the command and the request, send nothing",
    )
    c.add_argument("--no-wait", action="store_true", help="return once the request is accepted")
    c.set_defaults(handler=cmd_project_create)
    c = psub.add_parser("update", help="move a project to the product's newest version")
    c.add_argument("name", help="the project's name")
    c.add_argument("--param", action="append", metavar="Name=value", help="change a parameter (repeatable)")
    c.set_defaults(handler=cmd_project_update)
    c = psub.add_parser("status", help="pipelines, model versions, endpoints and their hourly cost")
    c.add_argument("name", help="the project's name")
    c.set_defaults(handler=cmd_project_status)
    c = psub.add_parser("delete", help="delete everything the project made")
    c.add_argument("name", help="the project's name")
    c.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    c.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)"
    )
    c.add_argument(
        "--project-id",
        help="finish a delete that stopped after the project itself was gone (the id its leftovers carry)",
    )
    c.set_defaults(handler=cmd_project_delete)

    p = sub.add_parser("model", help="step 4")
    msub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = msub.add_parser("approve", help="approve a model version (default: the newest)")
    c.add_argument("project", help="the project's name")
    c.add_argument("--version", type=int, help="the model version (default: the newest)")
    c.add_argument("--note", default="", help="the approval's description (default: none)")
    c.set_defaults(handler=cmd_model_approve)

    p = sub.add_parser("deploy", help="step 5")
    dsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = dsub.add_parser("promote", help="approve the staging deployment for production")
    c.add_argument("project", help="the project's name")
    c.add_argument("--note", default="", help="the approval's summary (default: none)")
    c.add_argument("--reject", action="store_true", help="reject instead of approving")
    c.set_defaults(handler=cmd_deploy_promote)
    share_with_subcommands(parser)
    return parser


# --- output -------------------------------------------------------------------------------------------------


def _line(row: Any) -> str:
    if isinstance(row, dict):
        return "  ".join(
            f"{k}={json.dumps(v) if isinstance(v, str) and ' ' in v else v}" for k, v in row.items()
        )
    return str(row)


def _print(result: Any, output: str) -> None:
    if output == "json":
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
        return
    if isinstance(result, list):
        for row in result:
            print(_line(row))
    elif isinstance(result, dict):
        for key, value in result.items():
            if isinstance(value, list):
                print(f"{key}:" + ("" if value else " none"))
                for row in value:
                    print("  " + _line(row))
            elif isinstance(value, dict):
                print(f"{key}: {_line(value)}")
            else:
                print(f"{key}: {value}")
    elif result is not None:
        print(result)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage exits 2, as argparse does
    try:
        result = args.handler(_aws(args), args)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except NoCredentialsError as error:
        return _fail(*errors.no_credentials(error))
    except NoRegionError:
        print(
            "error: AWS_REGION: no region configured\nFix: set AWS_REGION or pass --region", file=sys.stderr
        )
        return BAD_INPUT
    except EndpointConnectionError as error:
        return _fail(*errors.unreachable(error))
    except ClientError as error:
        return _fail(*errors.client_error(error))
    except BotoCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILURE
    _print(result, args.output)
    return OK


if __name__ == "__main__":
    raise SystemExit(main())
