"""What `sm-mlops preflight` reads besides moto: IAM's policy simulator, and the SageMaker quotas of Service
Quotas (kept beside it as the other preflight read)."""

from standin.iam import policy_simulator, service_quotas  # noqa: F401 - registers handlers
