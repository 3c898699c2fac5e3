"""`make demo`: the whole walkthrough (steps 1 to 6) on the local stand-in, with the project's real commands.

This is the one place that wires the stand-in and the commands together: it starts `standin.server.StandIn`,
then runs `sm-mlops` as subprocesses with the stand-in's environment, plays the people (the Git provider's
handshake, the data scientist's commit) and watches what AWS would run. `run()` returns what was created and
removed, and how long each step took.
"""

from __future__ import annotations

from demo.walkthrough import DemoFailed, DemoResult, run

__all__ = ["DemoFailed", "DemoResult", "run"]
