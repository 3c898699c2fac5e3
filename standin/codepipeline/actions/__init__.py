"""CodePipeline's action kinds the stand-in runs, one module each: source, codebuild, cloudformation,
approval."""
