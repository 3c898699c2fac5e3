"""SageMaker as the stand-in answers it: projects, code repositories, model registry, pipelines, endpoints."""
