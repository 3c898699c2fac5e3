"""The AWS operations the stand-in answers itself: Service Catalog, SageMaker projects, connections."""
