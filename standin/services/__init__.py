"""The AWS operations the stand-in answers itself: Service Catalog, SageMaker projects, connections."""

from standin.services import codeconnections  # noqa: F401 - registers its handlers
