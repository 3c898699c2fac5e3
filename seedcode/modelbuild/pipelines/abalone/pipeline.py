"""The abalone model build pipeline: preprocess, train, evaluate, and register the model when its MSE passes.

    PreprocessAbaloneData -> TrainAbaloneModel -> EvaluateAbaloneModel -> CheckMSEAbaloneEvaluation
        MSE <= 6.0: RegisterAbaloneModel (group `model_package_group_name`, PendingManualApproval)
        otherwise:  AbaloneMSEFail

Instance types and counts are pipeline parameters, so editing a default below changes the pipeline that runs.
The definition is deterministic: the same inputs give the same JSON in any process (scripts and data are
uploaded under content-hash keys, no timestamps), which is what lets step caching skip unchanged steps.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import sagemaker
from botocore.exceptions import ClientError
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep
from sagemaker.xgboost.estimator import XGBoost

from pipelines.abalone.config import (
    HYPERPARAMETERS,
    MSE_THRESHOLD,
    SKLEARN_FRAMEWORK_VERSION,
    SPLIT_RANDOM_STATE,
    XGBOOST_FRAMEWORK_VERSION,
)

BASE_DIR = Path(__file__).resolve().parent
# The shipped data: found next to the package in a checkout (CodeBuild runs from the repository root).
DATA_FILE_NAME = "abalone.csv"
_DATA_CANDIDATES = (BASE_DIR.parent.parent / "data" / DATA_FILE_NAME, Path("data") / DATA_FILE_NAME)
# Step caching: a step whose arguments did not change reuses its last result for this long.
CACHE_CONFIG = CacheConfig(enable_caching=True, expire_after="P30D")


def get_session(region: str, default_bucket: str | None) -> PipelineSession:
    """A pipeline session: steps are recorded into the definition instead of being run."""
    boto_session = boto3.Session(region_name=region)
    return PipelineSession(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker"),
        default_bucket=default_bucket,
    )


def find_shipped_data(path: str | None = None) -> Path:
    candidates = (Path(path),) if path else _DATA_CANDIDATES
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(candidate) for candidate in candidates)
    raise FileNotFoundError(
        f"input_data_file: no data file at {tried}; run from the repository root or pass "
        "input_data_file (a local CSV) or input_data_uri (an s3:// URI) in --kwargs"
    )


def upload_shipped_data(session: sagemaker.Session, local_file: Path, bucket: str, prefix: str) -> str:
    """Upload the data under a content-hash key (once) and return its S3 URI; same file, same URI."""
    body = local_file.read_bytes()
    key = f"{prefix}/data/{hashlib.sha256(body).hexdigest()[:16]}/{local_file.name}"
    s3 = session.boto_session.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def get_pipeline(
    region: str,
    role: str,
    default_bucket: str | None = None,
    pipeline_name: str = "AbalonePipeline",
    model_package_group_name: str = "AbalonePackageGroup",
    base_job_prefix: str = "Abalone",
    sagemaker_project_name: str | None = None,
    input_data_uri: str | None = None,
    input_data_file: str | None = None,
) -> Pipeline:
    """Build the abalone pipeline.

    `default_bucket` receives the code, the data and the artifacts (the template passes its artifact bucket).
    `input_data_uri` overrides the data: by default the shipped `data/abalone.csv` (or `input_data_file`) is
    uploaded to `s3://{default_bucket}/{base_job_prefix}/data/<sha256[:16]>/abalone.csv`.
    `sagemaker_project_name` is accepted so that the template's build can name its project; the project's
    tags are given to `run-pipeline --tags`.
    """
    del sagemaker_project_name  # the project is attached through the pipeline's tags
    if input_data_uri is not None and not input_data_uri.startswith("s3://"):
        raise ValueError(f"input_data_uri: {input_data_uri!r} is not an s3:// URI; give s3://bucket/key")
    session = get_session(region, default_bucket)
    bucket = session.default_bucket()
    if input_data_uri is None:
        input_data_uri = upload_shipped_data(
            session, find_shipped_data(input_data_file), bucket, base_job_prefix
        )

    # Parameters: every one of them can be overridden when an execution starts.
    processing_instance_type = ParameterString(name="ProcessingInstanceType", default_value="ml.m5.xlarge")
    processing_instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    training_instance_type = ParameterString(name="TrainingInstanceType", default_value="ml.m5.xlarge")
    model_approval_status = ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval")
    input_data = ParameterString(name="InputDataUrl", default_value=input_data_uri)

    # One XGBoost framework container trains, evaluates and serves; its CPU image is the same for every
    # CPU instance type, so it is looked up once instead of from the (run-time) instance type parameter.
    xgboost_image_uri = sagemaker.image_uris.retrieve(
        framework="xgboost",
        region=region,
        version=XGBOOST_FRAMEWORK_VERSION,
        py_version="py3",
        instance_type="ml.m5.xlarge",
    )

    sklearn_processor = SKLearnProcessor(
        framework_version=SKLEARN_FRAMEWORK_VERSION,
        instance_type=processing_instance_type,
        instance_count=processing_instance_count,
        base_job_name=f"{base_job_prefix}-sklearn-abalone-preprocess",
        sagemaker_session=session,
        role=role,
    )
    step_process = ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=sklearn_processor.run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(output_name="validation", source="/opt/ml/processing/validation"),
                ProcessingOutput(output_name="test", source="/opt/ml/processing/test"),
            ],
            code=str(BASE_DIR / "preprocess.py"),
            arguments=["--random-state", str(SPLIT_RANDOM_STATE)],
        ),
        cache_config=CACHE_CONFIG,
    )

    estimator = XGBoost(
        entry_point=str(BASE_DIR / "train.py"),
        framework_version=XGBOOST_FRAMEWORK_VERSION,
        py_version="py3",
        image_uri=xgboost_image_uri,
        instance_type=training_instance_type,
        instance_count=1,
        output_path=f"s3://{bucket}/{base_job_prefix}/AbaloneTrain",
        base_job_name=f"{base_job_prefix}-abalone-train",
        hyperparameters=dict(HYPERPARAMETERS),
        sagemaker_session=session,
        role=role,
        disable_profiler=True,
        debugger_hook_config=False,
    )
    step_train = TrainingStep(
        name="TrainAbaloneModel",
        step_args=estimator.fit(
            inputs={
                channel: TrainingInput(
                    s3_data=step_process.properties.ProcessingOutputConfig.Outputs[channel].S3Output.S3Uri,
                    content_type="text/csv",
                )
                for channel in ("train", "validation")
            }
        ),
        cache_config=CACHE_CONFIG,
    )

    script_eval = ScriptProcessor(
        image_uri=xgboost_image_uri,
        command=["python3"],
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{base_job_prefix}-script-abalone-eval",
        sagemaker_session=session,
        role=role,
    )
    evaluation_report = PropertyFile(
        name="AbaloneEvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    # An explicit, per-execution destination: left to the SDK it would hold a timestamp, and the definition
    # would change on every build.
    evaluation_destination = Join(
        on="/",
        values=[
            "s3:/",
            bucket,
            pipeline_name,
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            "EvaluateAbaloneModel",
            "evaluation",
        ],
    )
    step_eval = ProcessingStep(
        name="EvaluateAbaloneModel",
        step_args=script_eval.run(
            inputs=[
                ProcessingInput(
                    source=step_train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/model",
                ),
                ProcessingInput(
                    source=step_process.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri,
                    destination="/opt/ml/processing/test",
                ),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    source="/opt/ml/processing/evaluation",
                    destination=evaluation_destination,
                )
            ],
            code=str(BASE_DIR / "evaluate.py"),
        ),
        property_files=[evaluation_report],
        cache_config=CACHE_CONFIG,
    )

    model_metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(
                on="/",
                values=[
                    step_eval.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                    "evaluation.json",
                ],
            ),
            content_type="application/json",
        )
    )
    # No inference script: the container's default handler serves `xgboost-model` (text/csv in, one
    # prediction per line out), so no repack step is needed.
    model = Model(
        image_uri=xgboost_image_uri,
        model_data=step_train.properties.ModelArtifacts.S3ModelArtifacts,
        sagemaker_session=session,
        role=role,
    )
    step_register = ModelStep(
        name="RegisterAbaloneModel",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.t2.medium", "ml.m5.large", "ml.m5.xlarge"],
            transform_instances=["ml.m5.large"],
            model_package_group_name=model_package_group_name,
            approval_status=model_approval_status,
            model_metrics=model_metrics,
        ),
    )

    mse = JsonGet(
        step_name=step_eval.name, property_file=evaluation_report, json_path="regression_metrics.mse.value"
    )
    step_fail = FailStep(
        name="AbaloneMSEFail",
        error_message=Join(
            on=" ", values=["Execution failed: the model's MSE", mse, f"is over {MSE_THRESHOLD}"]
        ),
    )
    step_cond = ConditionStep(
        name="CheckMSEAbaloneEvaluation",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=MSE_THRESHOLD)],
        if_steps=[step_register],
        else_steps=[step_fail],
    )

    return Pipeline(
        name=pipeline_name,
        parameters=[
            processing_instance_type,
            processing_instance_count,
            training_instance_type,
            model_approval_status,
            input_data,
        ],
        steps=[step_process, step_train, step_eval, step_cond],
        sagemaker_session=session,
    )
