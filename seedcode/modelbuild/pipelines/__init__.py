"""SageMaker pipelines of this model build repository; `pipelines.abalone` is the example."""

import logging
import os

# The SDK prints its config notices to stdout, where they would mix into get-pipeline-definition's JSON.
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
# This repository pins SDK 2.x on purpose (see README "SDK choice"); its deprecation notice is known.
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
