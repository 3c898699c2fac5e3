"""`build_template(config)`: the product template, composed from one `add_<group>` per resource group."""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Output, Ref, Template

from generator import constants as c
from generator.build_pipeline import add_build_pipeline
from generator.config import TemplateConfig
from generator.deploy_pipeline import add_deploy_pipeline
from generator.parameters import Inputs, add_parameters
from generator.repositories import add_repositories
from generator.seeding import add_seeding
from generator.storage import add_storage
from seeding.assets import Asset


def description(config: TemplateConfig) -> str:
    text = c.DESCRIPTION + f" (form {config.form}; roles: {config.role_family} family"
    if config.role_arns:
        text += ", explicit role ARNs"
    text += ")."
    if config.own_launch_role:
        options = [what for _, what in config.own_role_options()]
        text += (
            f" Uses {', '.join(options) or 'options'} that Studio's default launch role cannot provision: "
            "launch it only with a launch role of your own that may pass these roles and use these features."
        )
    return text


def add_outputs(template: Template, inputs: Inputs) -> None:
    """v1 form: echo each URL the user entered (the code repositories use the connection's proxy URL)."""
    for repo in c.REPOS:
        url = inputs.repos[repo].url
        if url is not None:
            template.add_output(
                Output(
                    f"{repo}RepositoryUrl",
                    Description=f"{repo} repository URL as entered in the form",
                    Value=Ref(url),
                )
            )


def build_template(config: TemplateConfig, assets: Mapping[str, Asset] | None = None) -> Template:
    """The whole product template for one variant, pinning `assets` (default: this release's seed zips)."""
    template = Template(Description=description(config))
    template.set_version("2010-09-09")
    inputs = add_parameters(template, config)
    bucket = add_storage(template, config)
    pipelines = {
        c.MODELBUILD: add_build_pipeline(template, config, inputs, bucket),
        c.MODELDEPLOY: add_deploy_pipeline(template, config, inputs, bucket),
    }
    invokers = add_seeding(template, config, inputs, assets)
    for repo, pipeline in pipelines.items():
        if inputs.repos[repo].seed_condition is None:
            # Always seeded (v2): a pipeline's first run, at creation, then sees the seed, not an empty repo.
            # (v1 cannot: DependsOn must not name a resource whose condition may be false.)
            pipeline.DependsOn = [invokers[repo].title]
    add_repositories(template, inputs)
    add_outputs(template, inputs)
    return template
