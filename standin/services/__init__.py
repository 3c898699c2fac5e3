"""The AWS operations the stand-in answers itself: Service Catalog, SageMaker projects, connections, the model
registry's deletes, and the policy simulator and quotas that preflight reads."""

from standin.services import (  # noqa: F401 - registers handlers
    codeconnections,
    model_registry,
    preflight_checks,
    sagemaker_projects,
    servicecatalog,
)
