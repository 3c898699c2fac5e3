"""CodeConnections under both endpoint names, and the git proxy URL gated on the connection's status."""

import os
import subprocess

import pytest
from botocore.exceptions import ClientError


def _git(standin, *args, env_extra=None, home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "AWS_"))}
    env.update(standin.env, HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0")
    env.update(env_extra or {})
    return subprocess.run(["git", *args], env=env, capture_output=True, text=True, timeout=60)


def _proxy_url(standin, prefix, arn, full_name):
    connection_id = arn.rsplit("/", 1)[-1]
    return (
        f"https://{prefix}.{standin.region}.amazonaws.com/git-http/"
        f"{standin.account_id}/{standin.region}/{connection_id}/{full_name}.git"
    )


@pytest.mark.parametrize("service", ["codestar-connections", "codeconnections"])
def test_create_is_pending_and_visible_through_both_names(standin, service):
    created = standin.client(service).create_connection(
        ProviderType="GitHub", ConnectionName="octo", Tags=[{"Key": "team", "Value": "ml"}]
    )
    arn = created["ConnectionArn"]
    assert arn.startswith(f"arn:aws:{service}:{standin.region}:{standin.account_id}:connection/")
    for other in ("codestar-connections", "codeconnections"):
        client = standin.client(other)
        connection = client.get_connection(ConnectionArn=arn)["Connection"]
        assert connection["ConnectionStatus"] == "PENDING"
        assert connection["ProviderType"] == "GitHub"
        assert [c["ConnectionArn"] for c in client.list_connections()["Connections"]] == [arn]
        assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_authorise_makes_available_and_tags_change(standin):
    client = standin.client("codeconnections")
    arn = client.create_connection(ProviderType="GitLab", ConnectionName="lab")["ConnectionArn"]
    standin.admin.authorize_connection(arn)
    assert client.get_connection(ConnectionArn=arn)["Connection"]["ConnectionStatus"] == "AVAILABLE"
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert client.list_connections(ProviderTypeFilter="GitHub")["Connections"] == []
    client.delete_connection(ConnectionArn=arn)
    with pytest.raises(ClientError) as error:
        client.get_connection(ConnectionArn=arn)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"ProviderType": "SourceForge", "ConnectionName": "x"}, "ProviderType"),
        ({"ProviderType": "GitHub", "ConnectionName": "x" * 33}, "ConnectionName"),
    ],
    ids=["unknown-provider", "name-too-long"],
)
def test_bad_create_is_refused_naming_the_field(standin, kwargs, named):
    with pytest.raises(ClientError) as error:
        standin.client("codestar-connections").create_connection(**kwargs)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert named in error.value.response["Error"]["Message"]


def test_unknown_arn_is_not_found(standin):
    with pytest.raises(ClientError) as error:
        standin.client("codeconnections").get_connection(
            ConnectionArn=f"arn:aws:codeconnections:{standin.region}:{standin.account_id}:connection/nope"
        )
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_admin_refuses_unknown_connection(standin):
    with pytest.raises(KeyError):
        standin.admin.authorize_connection("arn:aws:codeconnections:us-east-1:123456789012:connection/nope")


@pytest.mark.parametrize("route", ["insteadOf", "proxy"])
def test_git_refused_until_connection_authorised(standin, tmp_path, route):
    standin.admin.create_repository("octo/models", readme="# models\n")
    arn = standin.client("codestar-connections").create_connection(ProviderType="GitHub", ConnectionName="g")[
        "ConnectionArn"
    ]
    url = _proxy_url(standin, "codestar-connections", arn, "octo/models")
    extra = {"GIT_CONFIG_COUNT": "0"} if route == "proxy" else {}
    refused = _git(standin, "ls-remote", url, env_extra=extra, home=tmp_path)
    assert refused.returncode != 0
    assert "PENDING" in refused.stderr
    standin.admin.authorize_connection(arn)
    listed = _git(standin, "ls-remote", url, env_extra=extra, home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "refs/heads/main" in listed.stdout
    # A push through the proxy URL reaches the local server.
    work = tmp_path / "work"
    assert _git(standin, "clone", "-q", url, str(work), env_extra=extra, home=tmp_path).returncode == 0
    (work / "train.py").write_text("print('hi')\n")
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    assert _git(standin, "-C", str(work), "add", ".", home=tmp_path).returncode == 0
    assert _git(standin, "-C", str(work), *ident, "commit", "-qm", "add", home=tmp_path).returncode == 0
    pushed = _git(standin, "-C", str(work), "push", "-q", "origin", "main", env_extra=extra, home=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert "train.py" in standin.git.list_files("octo/models", "main")


def test_git_refused_for_unknown_connection(standin, tmp_path):
    standin.admin.create_repository("octo/deploy")
    url = _proxy_url(standin, "codeconnections", "arn:x:connection/00000000-0000", "octo/deploy")
    refused = _git(standin, "ls-remote", url, home=tmp_path)
    assert refused.returncode != 0
    assert "does not exist" in refused.stderr
