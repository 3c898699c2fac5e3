"""Part 2 of the stand-in: what AWS runs (SageMaker pipelines, endpoints, events, CodePipeline executions).

Importing the package registers the API handlers with `standin.dispatch`; `install(standin)` adds what the
registry cannot express (the sagemaker-runtime REST payloads) and must run once the stand-in has started.
"""

from __future__ import annotations

from typing import Any

from standin.runtime import endpoints, sagemaker_pipelines

sagemaker_pipelines.register_api()

ENDPOINTS_PREFIX = "/endpoints/"


def install(standin: Any) -> None:
    """Mount the InvokeEndpoint app on a started stand-in's layer (idempotent)."""
    layer = standin.layer
    if any(prefix == ENDPOINTS_PREFIX for prefix, _, _ in layer.mounts):
        return
    layer.mount(ENDPOINTS_PREFIX, endpoints.wsgi_app(standin))
