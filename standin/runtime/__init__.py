"""Part 2 of the stand-in: what AWS runs (SageMaker pipelines, endpoints, events, CodePipeline executions).

Importing the package registers the API handlers with `standin.dispatch` and subscribes to `standin.hooks`;
`install(standin)` adds what the registry cannot express (the sagemaker-runtime REST payloads) and tells the
runtime which stand-in runs work that starts outside a request (a git push, a stack creating a pipeline).
"""

from __future__ import annotations

from typing import Any

from standin.runtime import codepipeline, context, endpoints, events, sagemaker_pipelines

sagemaker_pipelines.register_api()
events.register_api()
codepipeline.register_api()

ENDPOINTS_PREFIX = "/endpoints/"


def install(standin: Any) -> None:
    """Bind the runtime to a started stand-in and mount the InvokeEndpoint app on its layer (idempotent)."""
    context.bind(standin)
    layer = standin.layer
    if any(prefix == ENDPOINTS_PREFIX for prefix, _, _ in layer.mounts):
        return
    layer.mount(ENDPOINTS_PREFIX, endpoints.wsgi_app(standin))
