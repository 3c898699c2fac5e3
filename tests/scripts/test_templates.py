"""`scripts.templates`: reading a template a user gives, in any of CloudFormation's spellings."""

from __future__ import annotations

import pytest

from scripts.common import BadInput
from scripts.templates import parse_template

SHORT = """
Parameters:
  Name: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "sagemaker-${Name}"
      Tags: [{Key: arn, Value: !GetAtt Role.Arn}, {Key: name, Value: !Ref Name}]
      Other: !If [IsProd, !Join ["-", [a, b]], !Ref AWS::NoValue]
"""


def test_short_forms_read_as_the_long_forms() -> None:
    properties = parse_template(SHORT)["Resources"]["Bucket"]["Properties"]
    assert properties["BucketName"] == {"Fn::Sub": "sagemaker-${Name}"}
    assert properties["Tags"][0]["Value"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert properties["Tags"][1]["Value"] == {"Ref": "Name"}
    assert properties["Other"] == {
        "Fn::If": ["IsProd", {"Fn::Join": ["-", ["a", "b"]]}, {"Ref": "AWS::NoValue"}]
    }


def test_json_reads_too_and_a_non_mapping_is_bad_input() -> None:
    assert parse_template(b'{"Resources": {}}') == {"Resources": {}}
    with pytest.raises(BadInput, match="not a mapping"):
        parse_template("- a list")
