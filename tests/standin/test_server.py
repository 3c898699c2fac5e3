"""The stand-in's server: moto behind the layer, reset, admin API, the HTTPS proxy and the dispatch layer."""

import json
import os
import subprocess
import sys
import urllib.request

import pytest
from botocore.exceptions import ClientError

from standin.dispatch import AwsError, operation
from standin.server import RemoteAdmin, StandIn


def test_unregistered_operations_reach_moto_and_reset_forgets(standin):
    s3 = standin.client("s3")
    s3.create_bucket(Bucket="kept-until-reset")
    s3.put_object(Bucket="kept-until-reset", Key="k", Body=b"v")
    assert s3.get_object(Bucket="kept-until-reset", Key="k")["Body"].read() == b"v"
    standin.admin.create_repository("octo/models")
    standin.reset()
    assert s3.list_buckets()["Buckets"] == []
    assert standin.git.repositories() == []


def test_env_points_tools_at_the_stand_in(standin):
    env = standin.env
    assert env["AWS_ENDPOINT_URL"] == standin.endpoint_url
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["HTTPS_PROXY"].startswith("http://127.0.0.1:")
    assert "127.0.0.1" in env["NO_PROXY"]
    assert os.path.isfile(env["AWS_CA_BUNDLE"]) and os.path.isfile(env["GIT_SSL_CAINFO"])
    count = int(env["GIT_CONFIG_COUNT"])
    values = {env[f"GIT_CONFIG_VALUE_{i}"] for i in range(count)}
    assert values == {
        f"https://codestar-connections.{standin.region}.amazonaws.com/git-http/",
        f"https://codeconnections.{standin.region}.amazonaws.com/git-http/",
    }


def _subprocess_env(standin, drop=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(standin.env)
    for name in drop:
        env.pop(name, None)
    return env


def test_sts_through_the_proxy_with_no_endpoint_url(standin):
    # What the SageMaker SDK does: a regional STS endpoint given explicitly, AWS_ENDPOINT_URL ignored.
    code = (
        "import boto3; "
        "c = boto3.client('sts', region_name='us-east-1', "
        "endpoint_url='https://sts.us-east-1.amazonaws.com'); "
        "print(c.get_caller_identity()['Account'])"
    )
    env = _subprocess_env(standin, drop=("AWS_ENDPOINT_URL",))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == standin.account_id


def test_proxy_refuses_non_aws_hosts(standin):
    handler = urllib.request.ProxyHandler({"https": standin.env["HTTPS_PROXY"]})
    opener = urllib.request.build_opener(handler)
    with pytest.raises(OSError) as error:
        opener.open("https://example.com/", timeout=10)
    assert "403" in str(error.value)


def test_remote_admin_over_http(standin):
    admin = RemoteAdmin(standin.endpoint_url)
    url = admin.create_repository("octo/models", readme="# hello\n")
    assert url == standin.git.clone_url("octo/models")
    assert standin.git.read_file("octo/models", "main", "README.md") == b"# hello\n"
    with pytest.raises(RuntimeError, match="already exists"):
        admin.create_repository("octo/models")
    with pytest.raises(RuntimeError, match="full_name"):
        admin.create_repository("")
    arn = standin.client("codeconnections").create_connection(ProviderType="GitHub", ConnectionName="c")[
        "ConnectionArn"
    ]
    assert admin.authorize_connection(arn)["ConnectionStatus"] == "AVAILABLE"
    with pytest.raises(RuntimeError, match="no connection"):
        admin.authorize_connection(arn + "x")
    with urllib.request.urlopen(f"{standin.endpoint_url}/_standin/env", timeout=10) as response:
        assert json.loads(response.read())["AWS_ENDPOINT_URL"] == standin.endpoint_url


@operation("sts", "StandInTestEcho")
def _echo(ctx, params):
    if params.get("Fail"):
        raise AwsError("ValidationError", f"Fail was {params['Fail']}")
    return {"Region": ctx.region, "Items": [params.get("Value"), "b"]}


def _query(standin, body):
    request = urllib.request.Request(
        standin.endpoint_url,
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sts/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_query_protocol_handlers_answer_xml_and_errors(standin):
    status, body = _query(standin, "Action=StandInTestEcho&Value=a%26b")
    assert status == 200
    assert "<StandInTestEchoResult><Region>eu-west-1</Region>" in body
    assert "<Items><member>a&amp;b</member><member>b</member></Items>" in body
    status, body = _query(standin, "Action=StandInTestEcho&Fail=yes")
    assert status == 400
    assert "<Code>ValidationError</Code><Message>Fail was yes</Message>" in body


def test_json_errors_reach_boto3_as_client_errors(standin):
    with pytest.raises(ClientError) as error:
        standin.client("codeconnections").get_connection(ConnectionArn="not-an-arn")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "ConnectionArn" in error.value.response["Error"]["Message"]


def test_a_new_stand_in_starts_from_an_empty_account_in_the_same_process() -> None:

    with StandIn(runtime=False) as first:
        first.client("iam").create_role(RoleName="left-behind", AssumeRolePolicyDocument="{}")
    with StandIn(runtime=False) as second:
        roles = second.client("iam").list_roles()["Roles"]
        assert "left-behind" not in [role["RoleName"] for role in roles]


def test_a_stopped_stand_in_takes_its_engine_state_with_it() -> None:
    """What a stand-in's engines keep (builds, events sent, the custom resources' response server) goes when
    it stops, and work started afterwards is not bound to it."""
    import urllib.error

    from standin import engines
    from standin.cloudformation.custom_resources import _responses
    from standin.events import emitted

    with StandIn(runtime=False) as first:
        assert engines.current() is first
        events = first.client("events")
        events.put_events(Entries=[{"Source": "a.b", "DetailType": "t", "Detail": "{}"}])
        assert [event["source"] for event in emitted(first)] == ["a.b"]
        url = _responses().url("token")
        assert engines.existing_state(first, "cfn_custom_resource_responses") is not None
    assert not engines.bound() or engines.current() is not first
    assert engines.existing_state(first, "events_sent") is None
    request = urllib.request.Request(url, data=b"{}", method="PUT")
    with pytest.raises(urllib.error.URLError):  # the response server closed with its stand-in
        urllib.request.urlopen(request, timeout=5)
    with StandIn(runtime=False) as second:
        assert engines.current() is second
        assert emitted(second) == []
