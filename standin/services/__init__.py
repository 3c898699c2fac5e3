"""The AWS operations the stand-in answers itself: Service Catalog, SageMaker projects, connections."""

from standin.services import codeconnections, servicecatalog  # noqa: F401 - registers their handlers
