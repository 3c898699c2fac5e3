"""CodePipeline as the stand-in answers it: executions that really run (engine, one module per action
kind) behind the API."""

from standin.codepipeline import api
from standin.codepipeline.engine import on_git_pushed, runtime_for, start_pipeline

__all__ = ["api", "on_git_pushed", "runtime_for", "start_pipeline"]
