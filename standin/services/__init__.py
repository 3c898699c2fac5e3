"""The AWS operations the stand-in answers itself: Service Catalog, SageMaker projects, connections."""

from standin.services import (  # noqa: F401 - registers handlers
    codeconnections,
    model_registry,
    sagemaker_projects,
    servicecatalog,
)
