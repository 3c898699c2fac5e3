"""CloudFormation as the stand-in answers it: the resource types moto skips, custom resources, the stack
engine (stacks created, updated and deleted in the background with events and rollback) and the API that
drives it.

The engine's entry points are re-exported here for the other services that make stacks (Service Catalog's
provisioning, CodePipeline's CloudFormation actions)."""

# Resource types first: defining them registers them with moto (see resource_types).
from standin.cloudformation import api, custom_resources, resource_types  # noqa: F401 - registers types and handlers
from standin.cloudformation.stacks import (
    create_stack_async,
    delete_stack_async,
    update_stack_async,
    wait_for_stack,
)

__all__ = ["create_stack_async", "delete_stack_async", "update_stack_async", "wait_for_stack"]
