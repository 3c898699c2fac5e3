"""A small hand-written pipeline definition shaped as the SageMaker SDK writes it, and the scripts it runs."""

from __future__ import annotations

import io
import tarfile

BUCKET = "sagemaker-project-p-test"
CLUSTER = {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}
MAX_DEPTH = {"Get": "Parameters.MaxDepth"}
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
TRAIN_OUTPUT = "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
MODEL_ARTIFACTS = "Steps.Train.ModelArtifacts.S3ModelArtifacts"
MSE_PATH = "regression_metrics.mse.value"
REGION = "us-east-1"

PREPROCESS = """
import json, os, pathlib, sys
src = pathlib.Path("/opt/ml/processing/input/data/raw.csv").read_text()
rows = [line for line in src.splitlines() if line]
out = pathlib.Path("/opt/ml/processing/train")
out.mkdir(parents=True, exist_ok=True)
(out / "train.csv").write_text("\\n".join(rows[1:]) + "\\n")
report = pathlib.Path("/opt/ml/processing/evaluation")
report.mkdir(parents=True, exist_ok=True)
mse = float(os.environ["FAKE_MSE"])
(report / "evaluation.json").write_text(json.dumps({"regression_metrics": {"mse": {"value": mse}}}))
print("label", os.environ["RUN_LABEL"], "args", sys.argv[1:])
if os.environ.get("BREAK") == "yes":
    raise SystemExit("preprocess: the input has no label column")
"""

TRAIN = """
import argparse, json, os, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--max_depth", type=int)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
args = parser.parse_args()
rows = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"], "train.csv").read_text().split()
hps = json.loads(pathlib.Path("/opt/ml/input/config/hyperparameters.json").read_text())
pathlib.Path(args.model_dir, "model.json").write_text(
    json.dumps(
        {"rows": len(rows), "max_depth": args.max_depth, "hps": hps,
         "sm_hps": json.loads(os.environ["SM_HPS"])}
    )
)
"""


def _tarball(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def definition() -> dict:
    """A definition shaped as the SDK writes it: preprocess → train → condition(mse) → register | fail."""
    prop_file = {"Get": "Steps.Prep.PropertyFiles.Report"}
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "InputData", "Type": "String", "DefaultValue": f"s3://{BUCKET}/data/raw.csv"},
            {"Name": "MaxDepth", "Type": "Integer", "DefaultValue": 3},
            {"Name": "Gate", "Type": "Float", "DefaultValue": 6.0},
            {"Name": "FakeMse", "Type": "String", "DefaultValue": "4.5"},
            {"Name": "Break", "Type": "String", "DefaultValue": "no"},
            {"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"},
        ],
        "PipelineExperimentConfig": {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        },
        "Steps": [
            {
                "Name": "Prep",
                "Type": "Processing",
                "Arguments": {
                    "ProcessingResources": {"ClusterConfig": CLUSTER},
                    "AppSpecification": {
                        "ImageUri": "sklearn",
                        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
                        "ContainerArguments": ["--input-data", {"Get": "Parameters.InputData"}],
                    },
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                    "ProcessingInputs": [
                        {
                            "InputName": "input-1",
                            "S3Input": {
                                "S3Uri": {"Get": "Parameters.InputData"},
                                "LocalPath": "/opt/ml/processing/input/data",
                                "S3DataType": "S3Prefix",
                            },
                        },
                        {
                            "InputName": "code",
                            "S3Input": {
                                "S3Uri": f"s3://{BUCKET}/code/preprocess.py",
                                "LocalPath": "/opt/ml/processing/input/code",
                                "S3DataType": "S3Prefix",
                            },
                        },
                    ],
                    "ProcessingOutputConfig": {
                        "Outputs": [
                            {
                                "OutputName": "train",
                                "S3Output": {
                                    # per execution, as the SDK's default output paths are
                                    "S3Uri": {
                                        "Std:Join": {"On": "/", "Values": ["s3:/", BUCKET, EXECUTION_ID, "t"]}
                                    },
                                    "LocalPath": "/opt/ml/processing/train",
                                    "S3UploadMode": "EndOfJob",
                                },
                            },
                            {
                                "OutputName": "evaluation",
                                "S3Output": {
                                    "S3Uri": f"s3://{BUCKET}/prep/evaluation",
                                    "LocalPath": "/opt/ml/processing/evaluation",
                                    "S3UploadMode": "EndOfJob",
                                },
                            },
                        ]
                    },
                    "Environment": {
                        "RUN_LABEL": {"Std:Join": {"On": "-", "Values": ["run", MAX_DEPTH]}},
                        "FAKE_MSE": {"Get": "Parameters.FakeMse"},
                        "BREAK": {"Get": "Parameters.Break"},
                    },
                },
                "CacheConfig": {"Enabled": True, "ExpireAfter": "30d"},
                "PropertyFiles": [
                    {"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}
                ],
            },
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "AlgorithmSpecification": {"TrainingImage": "xgboost", "TrainingInputMode": "File"},
                    "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
                    "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                    "InputDataConfig": [
                        {
                            "ChannelName": "train",
                            "DataSource": {
                                "S3DataSource": {
                                    "S3DataType": "S3Prefix",
                                    "S3Uri": {"Get": TRAIN_OUTPUT},
                                }
                            },
                            "ContentType": "text/csv",
                        }
                    ],
                    "HyperParameters": {
                        "max_depth": {"Get": "Parameters.MaxDepth"},
                        "sagemaker_submit_directory": f'"s3://{BUCKET}/code/sourcedir.tar.gz"',
                        "sagemaker_program": '"train.py"',
                        "sagemaker_region": '"us-east-1"',
                    },
                },
                "CacheConfig": {"Enabled": True, "ExpireAfter": "P30D"},
            },
            {
                "Name": "Check",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "LessThanOrEqualTo",
                            "LeftValue": {"Std:JsonGet": {"PropertyFile": prop_file, "Path": MSE_PATH}},
                            "RightValue": {"Get": "Parameters.Gate"},
                        }
                    ],
                    "IfSteps": [
                        {
                            "Name": "Register-RegisterModel",
                            "Type": "RegisterModel",
                            "Arguments": {
                                "ModelPackageGroupName": "proj-p-test",
                                "InferenceSpecification": {
                                    "Containers": [
                                        {
                                            "Image": "xgboost",
                                            "ModelDataUrl": {"Get": MODEL_ARTIFACTS},
                                        }
                                    ],
                                    "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["text/csv"],
                                },
                                "ModelApprovalStatus": {"Get": "Parameters.ModelApprovalStatus"},
                            },
                        }
                    ],
                    "ElseSteps": [
                        {
                            "Name": "MseFail",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {
                                        "On": " ",
                                        "Values": [
                                            "Execution failed due to MSE >",
                                            {"Get": "Parameters.Gate"},
                                            "(got",
                                            {
                                                "Std:JsonGet": {
                                                    "PropertyFile": prop_file,
                                                    "Path": "regression_metrics.mse.value",
                                                }
                                            },
                                            ")",
                                        ],
                                    }
                                }
                            },
                        }
                    ],
                },
            },
        ],
    }


def upload_sample(s3) -> None:
    """The bucket, data and code the sample definition reads."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="data/raw.csv", Body=b"label,x\n1,2\n3,4\n5,6\n")
    s3.put_object(Bucket=BUCKET, Key="code/preprocess.py", Body=PREPROCESS.encode())
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=_tarball({"train.py": TRAIN}))
