"""The templates of Service Catalog's provisioning artifacts: where ``LoadTemplateFromURL`` points in moto's
S3 (virtual-host or path-style https URL), read and parsed as CloudFormation reads them (JSON or YAML,
every short form such as ``!Ref`` read as its long form, by cfn-flip's loader)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote, urlparse

import yaml
from cfn_tools import load_yaml
from moto.backends import get_backend

from standin.dispatch import AwsError, Context

_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$"
)


_PATH_HOST = re.compile(r"^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$")


def parse_template(body: str) -> dict:
    """A template (JSON or YAML; short forms such as ``!Ref``, ``!GetAtt``, ``!Sub`` read as long forms)."""
    body = body.strip()
    data = json.loads(body) if body.startswith("{") else load_yaml(body)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ValueError("it is not a CloudFormation template (no Resources section)")
    return data


def template_location(url: str) -> tuple[str, str]:
    """(bucket, key) of an S3 https URL, virtual-host or path style."""
    parsed = urlparse(url or "")
    host = parsed.hostname or ""
    if parsed.scheme != "https" or not host:
        raise ValueError("it is not an https S3 URL")
    match = _VIRTUAL_HOST.match(host)
    if match and not _PATH_HOST.match(host):
        return match.group("bucket"), unquote(parsed.path.lstrip("/"))
    if _PATH_HOST.match(host):
        bucket, _, key = parsed.path.lstrip("/").partition("/")
        if bucket and key:
            return bucket, unquote(key)
    raise ValueError(
        "it is not an S3 object URL: use https://<bucket>.s3.<region>.amazonaws.com/<key> "
        "or https://s3.<region>.amazonaws.com/<bucket>/<key>"
    )


def load_template(ctx: Context, url: str) -> tuple[str, dict]:
    """Read and parse the template at ``url`` from moto's S3; InvalidParametersException naming the URL."""
    try:
        bucket, key = template_location(url)
    except ValueError as error:
        raise AwsError("InvalidParametersException", f"LoadTemplateFromURL '{url}': {error}.") from None
    s3 = get_backend("s3")[ctx.account_id]["aws"]
    try:
        stored = s3.get_object(bucket, key)
        if stored is None:
            raise KeyError(key)
        body = stored.value.decode("utf-8")
    except Exception:  # noqa: BLE001 - moto raises several kinds for a missing bucket or key
        raise AwsError(
            "InvalidParametersException",
            f"Unable to download the template at LoadTemplateFromURL '{url}': no object s3://{bucket}/{key}. "
            "Upload the template first.",
        ) from None
    try:
        return body, parse_template(body)
    except (ValueError, yaml.YAMLError) as error:
        raise AwsError(
            "InvalidParametersException", f"The template at LoadTemplateFromURL '{url}' is not valid: {error}"
        ) from None
