"""AWS Lambda as the stand-in runs it: a function's own Python code in-process (moto would start Docker)."""
