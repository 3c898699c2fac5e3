"""How the stand-in's Service Catalog reads an artifact's template: every short form as its long form."""

from __future__ import annotations

import pytest

from standin.servicecatalog.templates import parse_template, template_location

SHORT_FORMS = """
Parameters:
  Name:
    Type: String
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "sagemaker-${Name}-${AWS::Region}"
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Resource: !GetAtt Bucket.Arn
          - Resource: !Join ["", [!GetAtt [Bucket, Arn], "/*"]]
          - Resource: !Sub
              - "${Arn}/seed/*"
              - Arn: !GetAtt Bucket.Arn
"""


def test_short_forms_load_as_long_forms() -> None:
    resources = parse_template(SHORT_FORMS)["Resources"]
    assert resources["Bucket"]["Properties"]["BucketName"] == {"Fn::Sub": "sagemaker-${Name}-${AWS::Region}"}
    policy = resources["Policy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "Bucket"}
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"] == {"Fn::GetAtt": ["Bucket", "Arn"]}
    assert statements[1]["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}
    assert statements[2]["Resource"] == {
        "Fn::Sub": ["${Arn}/seed/*", {"Arn": {"Fn::GetAtt": ["Bucket", "Arn"]}}]
    }


def test_json_and_long_form_yaml_load_alike() -> None:
    long_form = (
        'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      Name: {"Ref": "X"}\n'
    )
    json_form = '{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Name": {"Ref": "X"}}}}}'
    assert parse_template(long_form) == parse_template(json_form)


@pytest.mark.parametrize(
    ("case", "body"),
    [("no resources", "Parameters: {}\n"), ("not a mapping", "- a\n- b\n")],
)
def test_what_is_not_a_template_is_refused(case: str, body: str) -> None:
    with pytest.raises(ValueError, match="no Resources section"):
        parse_template(body)


@pytest.mark.parametrize(
    ("case", "url", "location"),
    [
        (
            "virtual host",
            "https://assets.s3.us-east-1.amazonaws.com/templates/t.yaml",
            ("assets", "templates/t.yaml"),
        ),
        (
            "path style",
            "https://s3.us-east-1.amazonaws.com/assets/templates/t.yaml",
            ("assets", "templates/t.yaml"),
        ),
    ],
)
def test_template_location(case: str, url: str, location: tuple[str, str]) -> None:
    assert template_location(url) == location
