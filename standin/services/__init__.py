"""The AWS operations the stand-in answers itself: Service Catalog, SageMaker projects, connections."""

from standin.services import codeconnections, sagemaker_projects, servicecatalog  # noqa: F401 - registers handlers
