"""The switch for what AWS runs in the stand-in: SageMaker pipelines and endpoints, EventBridge delivery,
CodePipeline executions and CodeBuild builds (each in its service's package).

Importing the module imports those packages, which register their API handlers with `standin.dispatch` and
subscribe to `standin.hooks`; `install(standin)` adds what the registry cannot express (the sagemaker-runtime
REST payloads) and tells the engines which stand-in runs work that starts outside a request (a git push, a
stack creating a pipeline). `standin.engines` holds that binding and the engines' state per stand-in.
"""

from __future__ import annotations

from typing import Any

from standin import codebuild, codepipeline, engines, events
from standin.sagemaker import endpoints, model_package_events, pipelines

__all__ = [
    "codebuild",
    "codepipeline",
    "engines",
    "endpoints",
    "events",
    "install",
    "model_package_events",
    "pipelines",
]

ENDPOINTS_PREFIX = "/endpoints/"


def install(standin: Any) -> None:
    """Bind the runtime to a started stand-in and mount the InvokeEndpoint app on its layer (idempotent)."""
    engines.bind(standin)
    engines.install_runtime(standin)
    layer = standin.layer
    if any(mount.prefix == ENDPOINTS_PREFIX for mount in layer.mounts):
        return
    layer.mount(ENDPOINTS_PREFIX, endpoints.wsgi_app(standin), aws_api=True)
