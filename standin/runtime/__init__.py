"""Part 2 of the stand-in: what AWS runs (SageMaker pipelines, endpoints, events, CodePipeline executions)."""
