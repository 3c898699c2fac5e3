"""The IAM actions the walkthrough needs of each role: one table for the commands, the stand-in and tests.

`roles.needs(kind)` lists, for the family's launch role, the roles the template names and the data
scientist's Studio role, every request that role makes: action, resource ARN, the condition keys the
request carries, and the call that makes it. `resources.RESOURCE_TYPES` is what CloudFormation calls for
each resource type and property of the shipped templates. Imports nothing of the project.
"""

from permissions.needs import FIELDS, Context, Need, missing_fields
from permissions.roles import FAMILY_KINDS, KINDS, LAUNCH, STUDIO, needs

__all__ = [
    "FAMILY_KINDS",
    "FIELDS",
    "KINDS",
    "LAUNCH",
    "STUDIO",
    "Context",
    "Need",
    "missing_fields",
    "needs",
]
