"""The two SageMaker code repositories Studio lists for the project, at the connection's git proxy."""

from __future__ import annotations

from troposphere import Ref, Select, Split, Sub, Template
from troposphere.sagemaker import CodeRepository, GitConfig

from generator import constants as c
from generator.parameters import Inputs, RepoInputs

# https://{service}.{region}.{url suffix}/git-http/{account}/{region}/{connection id}/{owner}/{repo}.git
PROXY_URL = "https://${Service}.${Region}.${AWS::URLSuffix}/git-http/${Account}/${Region}/${ConnectionId}/${Fullname}.git"


def proxy_url(repo: RepoInputs) -> Sub:
    """The connection's git proxy URL, taken apart from the connection ARN.

    arn:{partition}:{codestar-connections|codeconnections}:{region}:{account}:connection/{id}
    """
    parts = Split(":", Ref(repo.connection))
    return Sub(
        PROXY_URL,
        Service=Select(2, parts),
        Region=Select(3, parts),
        Account=Select(4, parts),
        ConnectionId=Select(1, Split("/", Select(5, parts))),
        Fullname=Ref(repo.fullname),
    )


def add_repositories(template: Template, inputs: Inputs) -> dict[str, CodeRepository]:
    """Add one SageMaker code repository per Git repository, whether or not its seed check-in runs."""
    added = {}
    for repo in c.REPOS:
        fields = inputs.repos[repo]
        added[repo] = template.add_resource(
            CodeRepository(
                c.CODE_REPOSITORY[repo],
                CodeRepositoryName=Sub(c.CODE_REPOSITORY_NAME[repo]),
                GitConfig=GitConfig(Branch=Ref(fields.branch), RepositoryUrl=proxy_url(fields)),
            )
        )
    return added
