"""IAM as the stand-in's other services ask it: who made a request (`identity`), AWS's managed policies
(`managed_policies`), IAM's policy simulator, and the SageMaker quotas of Service Quotas (kept beside it as
the other preflight read)."""

from standin.iam import identity, managed_policies, policy_simulator, service_quotas  # noqa: F401 - registers handlers
