"""EventBridge as the stand-in answers it: events delivered to the targets of matching rules, and
PutEvents."""

from standin.events import api
from standin.events.delivery import deliver, emitted

__all__ = ["api", "deliver", "emitted"]
