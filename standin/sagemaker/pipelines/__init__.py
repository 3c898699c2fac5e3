"""SageMaker pipelines as the stand-in answers them: definitions, expressions, jobs, the engine, the
API."""

from standin.sagemaker.pipelines import api
from standin.sagemaker.pipelines.engine import PipelineRun

__all__ = ["PipelineRun", "api"]
